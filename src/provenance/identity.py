"""The production's C2PA signing identity: a local CA and an ES256 leaf c2pa-python accepts.

c2pa-rs checks the leaf at signing time (research/c2pa.md §1.2): X.509 v3, not a CA,
KeyUsage digitalSignature, an AKI, and an EKU it allows — emailProtection is the one the
default context accepts. The chain is written leaf first. Private keys are written through a
temporary file and never printed or logged.

Where the keys go (issue 13 item 6): the signing key sits in the signing folder, on editorial
storage where artists' `tag` reads it: 0600 for its owner, or readable by one group of artists
(`key_mode=0o640, key_group=gid`). The CA key signs certificates that read `trusted`: it goes
to a separate path the operator chooses, never beside the signing key.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenance._os import stage_atomic, write_atomic
from provenance.errors import InvalidUsage, SigningError

CA_CERT = "ca.pem"
CA_KEY = "ca.key"
CHAIN = "signer-chain.pem"
LEAF_KEY = "signer.key"


@dataclass(frozen=True)
class SigningIdentity:
    chain_path: Path  # leaf first, then the CA
    key_path: Path
    ca_path: Path | None = None  # registered as a trust anchor so our own signatures read trusted

    @classmethod
    def in_dir(cls, directory: Path) -> SigningIdentity | None:
        chain, key, ca = directory / CHAIN, directory / LEAF_KEY, directory / CA_CERT
        if chain.is_file() and key.is_file():
            return cls(chain, key, ca if ca.is_file() else None)
        return None

    def chain_pem(self) -> bytes:
        return self.chain_path.read_bytes()

    def subject(self) -> str:
        """Who signs: the leaf certificate's common name (its whole subject if it has none)."""
        leaf = x509.load_pem_x509_certificate(self.chain_pem())
        names = leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        return str(names[0].value) if names else leaf.subject.rfc4514_string()

    def key_pem(self) -> bytes:
        try:
            return self.key_path.read_bytes()
        except OSError as exc:
            raise SigningError(f"cannot read signing key: {exc.strerror}", self.key_path) from None


def _key_usage(**on: bool) -> x509.KeyUsage:
    flags = dict.fromkeys(
        ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
         "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"],
        False,
    )
    return x509.KeyUsage(**{**flags, **on})


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
    ])


def check_key_mode(mode: int) -> int:
    """A private key's mode: the owner reads it, a group may read or write it, others nothing."""
    if mode & ~0o660 or not mode & 0o400:
        raise SigningError(f"key mode {mode:04o} is not allowed: the owner must read it, a group may "
                           "read it (0640), others and execute bits never")
    return mode


def write_private(path: Path, data: bytes, mode: int = 0o600, gid: int | None = None) -> None:
    """Secret bytes written atomically, 0600 from the first byte; the group is set before the
    mode opens up to it, so the user's default group never gets a moment to read it."""
    tmp = stage_atomic(path, data, 0o600)
    try:
        if gid is not None:
            os.chown(tmp, -1, gid)
        os.chmod(tmp, check_key_mode(mode))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_public(path: Path, data: bytes) -> None:
    write_atomic(path, data, 0o644)


def create_identity(
    directory: Path,
    organization: str = "Production",
    *,
    ca_key_path: Path,
    key_mode: int = 0o600,
    key_group: int | None = None,
    leaf_days: int = 3650,
    ca_days: int = 7300,
    overwrite: bool = False,
) -> SigningIdentity:
    """Create a CA and an ES256 signing leaf in `directory`; the CA's key goes to `ca_key_path`
    (0600), the signing key is `key_mode` with group `key_group` (default: the user's)."""
    check_key_mode(key_mode)
    directory.mkdir(parents=True, exist_ok=True)
    if not overwrite and (directory / LEAF_KEY).exists():
        raise InvalidUsage("a signing identity already exists here (use --force to replace it)",
                           directory)
    if not overwrite and ca_key_path.exists():
        raise InvalidUsage("a CA key already exists here (use --force to replace it)", ca_key_path)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{organization} provenance CA", organization)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)

    def base(
        subject: x509.Name, key: ec.EllipticCurvePublicKey, days: int
    ) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name).public_key(key)
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=days)))

    ca_cert = (base(ca_name, ca_key.public_key(), ca_days)
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
               .add_extension(ca_ski, critical=False)
               .add_extension(aki, critical=False)
               .sign(ca_key, hashes.SHA256()))
    leaf_cert = (base(_name(f"{organization} provenance signer", organization),
                      leaf_key.public_key(), leaf_days)
                 .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                 .add_extension(_key_usage(digital_signature=True), critical=True)
                 .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                                critical=False)
                 .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()),
                                critical=False)
                 .add_extension(aki, critical=False)
                 .sign(ca_key, hashes.SHA256()))

    def pem(cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    def key_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    ca_key_path.parent.mkdir(parents=True, exist_ok=True)
    write_private(ca_key_path, key_bytes(ca_key))
    write_private(directory / LEAF_KEY, key_bytes(leaf_key), key_mode, key_group)
    write_public(directory / CA_CERT, pem(ca_cert))
    write_public(directory / CHAIN, pem(leaf_cert) + pem(ca_cert))
    return SigningIdentity(directory / CHAIN, directory / LEAF_KEY, directory / CA_CERT)

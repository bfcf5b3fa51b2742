"""Ed25519 approver keys: make them, write them (private 0600), load them, name them.

The private key is PKCS#8 PEM, written 0600 through a temporary file (identity.write_private)
and never printed. The public half (`FILE.pub`) is SubjectPublicKeyInfo PEM; OpenSSH
`ssh-ed25519 AAAA…` public keys and OpenSSH private keys are accepted too, so approvers may
reuse the keys they already have. A key id is the sha256 of the 32 raw public-key bytes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provenance.errors import InvalidUsage, SigningError


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def pub_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def new_keypair(out: Path, *, force: bool = False) -> tuple[Path, str]:
    """Write a fresh key to `out` (0600) and `out`.pub; return the .pub path and the key id."""
    pub = pub_path(out)
    if not force:
        for p in (out, pub):
            if p.exists():
                raise InvalidUsage("already exists (use --force to replace it)", p)
    from provenance.identity import write_private, write_public  # x509 too: only when writing keys

    out.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    write_private(out, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
    write_public(pub, public_pem(key.public_key()).encode("ascii"))
    return pub, key_id(key.public_key())


def load_private(path: Path, password: bytes | None = None) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read key: {exc.strerror}", path) from None
    try:
        key: object
        if b"OPENSSH PRIVATE KEY" in data:
            key = serialization.load_ssh_private_key(data, password)
        else:
            key = serialization.load_pem_private_key(data, password)
    except TypeError:
        raise SigningError("key is encrypted with a passphrase, which is not supported yet", path) from None
    except ValueError:
        # Never echo the file's content: it may be a secret in an unexpected format.
        raise SigningError("not a PEM or OpenSSH private key", path) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"approver keys must be Ed25519, not {type(key).__name__}", path)
    return key


def parse_public(text: str, where: str | Path | None = None) -> Ed25519PublicKey:
    """A public key from PEM text or an OpenSSH `ssh-ed25519 AAAA… comment` line."""
    data = text.strip().encode("ascii", "replace")
    try:
        key: object
        if data.startswith(b"ssh-"):
            key = serialization.load_ssh_public_key(b" ".join(data.split()[:2]))
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, IndexError):
        raise SigningError("not a PEM or OpenSSH public key", where) from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"approver keys must be Ed25519, not {type(key).__name__}", where)
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SigningError(f"cannot read public key: {exc}", path) from None
    if "PRIVATE KEY" in text:
        raise SigningError("this is a private key; give the .pub file", path)
    return parse_public(text, path)

"""The approvers registry: who may sign approvals, with which key and for which scopes.

A TOML file (`config.effective_approvers_file`) meant to live in the show's repository and be
reviewed like code (the git allowedSignersFile model, research/pipeline.md §4.4), and signed by
the production's admin key(s) (registry_signature.py) so that whoever can write the show folder
cannot decide who may approve. The loader believes only a registry whose signature verifies
under the admin keys pinned on this host (trust.py), whose version is not older than one this
host already accepted (seen_versions.py), and which equals, byte for byte, what was signed:

    show = "My Show"                # names the show in the signed bytes (the rollback memory's key)
    version = 3                     # grows with every signed edit
    threshold = 1                   # optional: admin signatures each version needs (at least the host's)

    [[approvers]]
    name = "J. Doe"
    email = "jdoe@studio.example"
    scopes = ["final-deliverable", "talent-likeness"]
    expires = 2027-06-30            # optional: a date is valid through that day (UTC)
    revoked = false                 # revoked_at = "…" is written beside it by `approvers revoke`
    public_key = '''
    -----BEGIN PUBLIC KEY-----
    …
    -----END PUBLIC KEY-----
    '''                             # or "ssh-ed25519 AAAA…", or a path relative to this file

Edits made by the CLI change only the text they must (a block is appended; a revocation
inserts two lines into its block; the version line is bumped), so comments and review history
survive; each edit is signed again, re-verified under the trust root before anything is written,
and atomically renamed into place (the file, then its signature).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provenance._os import read_regular
from provenance.approvals import registry_signature, seen_versions
from provenance.approvals.keys import key_id, load_public, parse_public, public_pem
from provenance.approvals.statement import format_time
from provenance.approvals.trust import TrustRoot, load_trust
from provenance.config import Config
from provenance.errors import ApprovalError, ConfigError, SigningError, TrustError
from provenance.model import Scope

_HEADER = re.compile(r"^\s*\[\[\s*approvers\s*\]\]\s*(#.*)?$")
_DOC_KEY = re.compile(r"^\s*(show|version|threshold)\s*=")
_FILE_HEADER = (
    "# Approvers allowed to sign provenance approvals (`provenance approve`).\n"
    "# Review changes to this file like code: it decides who may clear AI material for delivery.\n"
)


def expiry_instant(value: dt.date | dt.datetime) -> dt.datetime:
    """When something given as a date or time stops being valid (a date: the end of that day, UTC)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(value + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def parse_when(text: str) -> dt.date | dt.datetime:
    """`--expires` on the command line: YYYY-MM-DD or an ISO time (naive = UTC)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            return dt.date.fromisoformat(text.strip())
        return expiry_instant(dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        raise ApprovalError(f"not a date (YYYY-MM-DD) or ISO time: {text!r}") from None


def parse_expiry(text: str) -> dt.datetime:
    return expiry_instant(parse_when(text))


def parse_scopes(values: list[str] | tuple[str, ...], where: str | Path | None = None) -> frozenset[Scope]:
    out: set[Scope] = set()
    for raw in values:
        for part in str(raw).split(","):
            name = part.strip()
            if not name:
                continue
            try:
                out.add(Scope(name))
            except ValueError:
                allowed = ", ".join(s.value for s in Scope)
                raise ApprovalError(f"unknown scope {name!r} (scopes: {allowed})", where) from None
    return frozenset(out)


@dataclass(frozen=True)
class Approver:
    name: str
    email: str
    public_key: Ed25519PublicKey
    scopes: frozenset[Scope]
    expires: dt.datetime | None = None
    revoked: bool = False
    revoked_at: str | None = None

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def expired(self, now: dt.datetime) -> bool:
        return self.expires is not None and now >= self.expires

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "email": self.email,
            "key_id": self.key_id,
            "scopes": sorted(s.value for s in self.scopes),
            "expires": format_time(self.expires) if self.expires else None,
            "revoked": self.revoked,
            "revoked_at": self.revoked_at,
        }


def _approver(entry: Any, index: int, path: Path) -> Approver:
    where = f"[[approvers]] #{index + 1}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} is not a table", path)
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where} needs a name", path)
    where = f"approver {name!r}"
    key_text = entry.get("public_key")
    if not isinstance(key_text, str) or not key_text.strip():
        raise ConfigError(f"{where} needs a public_key (PEM, ssh-ed25519 line or path)", path)
    scopes = entry.get("scopes", [])
    expires = entry.get("expires")
    revoked = entry.get("revoked", False)
    if not isinstance(scopes, list) or not isinstance(revoked, bool):
        raise ConfigError(f"{where}: scopes must be a list and revoked true/false", path)
    if expires is not None and not isinstance(expires, dt.date):
        raise ConfigError(f"{where}: expires must be a TOML date (2027-06-30) or date-time", path)
    try:
        if _inline_key(key_text):
            key = parse_public(key_text, path)
        else:
            key_file = Path(os.path.expanduser(key_text.strip()))
            key = load_public(key_file if key_file.is_absolute() else path.parent / key_file)
        scope_set = parse_scopes(scopes, path)
    except (ApprovalError, SigningError) as exc:
        raise ConfigError(f"{where}: {exc.reason}", exc.path or path) from None
    return Approver(name=name.strip(), email=str(entry.get("email", "")), public_key=key,
                    scopes=scope_set, expires=expiry_instant(expires) if expires else None,
                    revoked=revoked, revoked_at=str(entry["revoked_at"]) if "revoked_at" in entry else None)


def _inline_key(text: str) -> bool:
    return "BEGIN" in text or text.lstrip().startswith("ssh-")


def _toml_str(text: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class ApproverRegistry:
    path: Path
    approvers: tuple[Approver, ...] = ()
    show: str = ""
    version: int = 0  # 0: not a signed registry (an empty one, or an unsigned file being migrated)
    threshold: int = 1
    signed_by: tuple[str, ...] = ()  # admin key ids whose signatures verified
    key_files: tuple[str, ...] = ()  # approvers whose public_key is a path, not inline
    source: str = field(default="", repr=False, compare=False)  # the exact (signed) text

    @classmethod
    def load(cls, config: Config) -> ApproverRegistry:
        return cls.from_file(config.effective_approvers_file)

    @classmethod
    def from_file(cls, path: Path, trust: TrustRoot | None = None) -> ApproverRegistry:
        """The registry at `path`, authenticated; a missing file is an empty registry (nobody may
        approve). Anything that cannot be authenticated is a TrustError (the gate: undecided).

        Called when a run first needs to know who may approve (never up front: a package with
        nothing to approve does not read it), and then once per decision: the answer, or the
        failure, is kept while the file, its signature and the trust root are unchanged."""
        registry_signature.ASKED[path] += 1
        sig = registry_signature.signature_path(path)
        try:
            st = path.stat()
        except FileNotFoundError:
            if sig.exists():
                raise TrustError(f"the approvers registry is missing but its signature {sig.name} is "
                                 "there: it was deleted or moved", path) from None
            return cls(path)
        except OSError as exc:
            raise ConfigError(f"cannot read approvers file: {exc.strerror}", path) from None
        trust = trust or load_trust()
        try:
            sst = sig.stat()
        except OSError:
            sst = None
        cache_key = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                     sst and (sst.st_dev, sst.st_ino, sst.st_size, sst.st_mtime_ns, sst.st_ctime_ns),
                     trust.key_ids, trust.threshold, trust.shows)
        cached = _CACHE.get(cache_key)
        if isinstance(cached, ApproverRegistry):
            return cached
        if cached is not None:  # these bytes did not authenticate under this root: nor will they now
            raise TrustError(cached.reason, cached.path)
        try:
            registry = cls._authenticated(path, trust)
        except TrustError as exc:  # not a read error: those are tried again next time
            _CACHE.clear()
            _CACHE[cache_key] = exc
            raise
        _CACHE.clear()  # one registry per process is the common case; keep the cache tiny
        _CACHE[cache_key] = registry
        return registry

    @classmethod
    def _authenticated(cls, path: Path, trust: TrustRoot) -> ApproverRegistry:
        payload, signers = registry_signature.verify(registry_signature.read_envelope(path), trust,
                                                     registry_signature.signature_path(path))
        if _read_bytes(path) != payload:
            raise TrustError(f"{path.name} was edited after it was signed (it differs from the copy "
                             f"signed in {path.name}{registry_signature.SUFFIX}): changes must be signed by "
                             "an admin with `provenance approvers add/revoke --admin-key`", path)
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise TrustError("the signed registry is not UTF-8 text", path) from None
        registry = cls.parse(path, text)
        registry._require_inline_keys()
        if not registry.show or registry.version < 1:
            raise TrustError("the signed registry names no show and version (show = \"…\", version = N)",
                             path)
        trust.check_show(registry.show, path)
        if len(signers) < registry.threshold:
            raise TrustError(f"signed by {len(signers)} admin key(s); this registry requires "
                             f"{registry.threshold} (threshold = {registry.threshold})", path)
        seen_versions.check_and_remember(registry.show, registry.version, path)
        return dataclasses.replace(registry, signed_by=signers)

    @classmethod
    def parse(cls, path: Path, text: str) -> ApproverRegistry:
        """Parse registry text; it says nothing about who wrote it (see `from_file`)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML in approvers file: {exc}", path) from None
        unknown = sorted(set(data) - {"approvers", "show", "version", "threshold"})
        if unknown:
            raise ConfigError(f"unknown key(s) in approvers file: {', '.join(unknown)} (expected show, "
                              "version, threshold and [[approvers]])", path)
        show, version, threshold = data.get("show", ""), data.get("version", 0), data.get("threshold", 1)
        if not isinstance(show, str):
            raise ConfigError("show must be a string", path)
        for name, value in (("version", version), ("threshold", threshold)):
            lowest = 0 if name == "version" else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < lowest:
                raise ConfigError(f"{name} must be a whole number (threshold: 1 or more)", path)
        entries = data.get("approvers", [])
        if not isinstance(entries, list):
            raise ConfigError("approvers must be an array of tables ([[approvers]])", path)
        approvers = tuple(_approver(e, i, path) for i, e in enumerate(entries))
        seen_names: set[str] = set()
        seen_keys: dict[str, str] = {}
        for a in approvers:
            if a.name.casefold() in seen_names:
                raise ConfigError(f"approver {a.name!r} is listed twice", path)
            seen_names.add(a.name.casefold())
            # One key, one person: otherwise "who signed this" has two answers.
            if a.key_id in seen_keys:
                raise ConfigError(f"approvers {seen_keys[a.key_id]!r} and {a.name!r} share a public key",
                                  path)
            seen_keys[a.key_id] = a.name
        by_path = tuple(str(e.get("name", "")).strip() for e in entries
                        if not _inline_key(str(e.get("public_key", ""))))
        return cls(path, approvers, show=show.strip(), version=version, threshold=threshold, source=text,
                   key_files=by_path)

    def get(self, name: str) -> Approver | None:
        return next((a for a in self.approvers if a.name.casefold() == name.casefold()), None)

    def by_key_id(self, kid: str) -> Approver | None:
        return next((a for a in self.approvers if a.key_id == kid), None)

    # -- signed edits (CLI): text-preserving, re-verified, atomic ----------------------------

    @classmethod
    def init(cls, path: Path, *, show: str, admin: Sequence[Ed25519PrivateKey], threshold: int = 1,
             from_text: str | None = None, trust: TrustRoot | None = None) -> ApproverRegistry:
        """Version 1, signed by `admin`: empty, or the approvers of an existing unsigned file."""
        if registry_signature.signature_path(path).exists():
            raise TrustError("already a signed registry: change it with `approvers add/revoke "
                             "--admin-key` (each change is a new signed version)", path)
        if from_text is None and path.exists():
            raise TrustError("an approvers file is already here: sign it once with --from", path)
        if not show.strip():
            raise TrustError("a registry needs a show name (--show)")
        start = cls.parse(path, from_text if from_text is not None else _FILE_HEADER)
        return start._signed(start.source, admin, trust, show=show.strip(), version=1, threshold=threshold)

    def add(self, name: str, email: str, public_key: Ed25519PublicKey, scopes: frozenset[Scope],
            expires: dt.date | dt.datetime | None = None, *, admin: Sequence[Ed25519PrivateKey],
            trust: TrustRoot | None = None) -> ApproverRegistry:
        self._require_signed()
        if self.get(name) is not None:
            raise ConfigError(f"approver {name!r} already exists", self.path)
        if (other := self.by_key_id(key_id(public_key))) is not None:
            raise ConfigError(f"this public key already belongs to approver {other.name!r}", self.path)
        if not scopes:
            raise ConfigError("an approver needs at least one scope")
        lines = ["", "[[approvers]]", f"name = {_toml_str(name)}", f"email = {_toml_str(email)}",
                 "scopes = [" + ", ".join(_toml_str(s.value) for s in sorted(scopes)) + "]"]
        if expires is not None:
            # A date stays a date in the file: "through 2027-06-30" is what a reviewer reads.
            shown = format_time(expires) if isinstance(expires, dt.datetime) else expires.isoformat()
            lines.append(f"expires = {shown}")
        lines += ["revoked = false", f"public_key = '''\n{public_pem(public_key).strip()}\n'''", ""]
        return self._signed(self.source.rstrip("\n") + "\n" + "\n".join(lines), admin, trust)

    def revoke(self, name: str, now: dt.datetime | None = None, *, admin: Sequence[Ed25519PrivateKey],
               trust: TrustRoot | None = None) -> ApproverRegistry:
        self._require_signed()
        target = self.get(name)
        if target is None:
            raise ConfigError(f"no approver named {name!r}", self.path)
        blocks = _split_blocks(self.source)
        for i, block in enumerate(blocks):
            if not block or not _HEADER.match(block[0]):
                continue
            parsed = tomllib.loads("\n".join(block)).get("approvers", [{}])[0]
            if str(parsed.get("name", "")).strip().casefold() != target.name.casefold():
                continue
            body = [ln for ln in block[1:] if not re.match(r"\s*revoked(_at)?\s*=", ln)]
            stamp = format_time(now or dt.datetime.now(dt.UTC))
            blocks[i] = [block[0], "revoked = true", f"revoked_at = {_toml_str(stamp)}", *body]
            break
        return self._signed("\n".join("\n".join(b) for b in blocks if b), admin, trust)

    def _require_inline_keys(self) -> None:
        # A key kept in another file is not covered by the registry's signature: whoever can
        # write that file would decide whose approvals verify.
        if self.key_files:
            raise TrustError(f"approver {self.key_files[0]!r} names a public key file, which the registry's "
                             "signature does not cover: put the key inline (PEM or ssh-ed25519 line)",
                             self.path)

    def _require_signed(self) -> None:
        if self.version < 1:
            raise TrustError("no signed approvers registry here yet: create it with `provenance approvers "
                             "init --admin-key KEY` (or sign an existing file with --from)", self.path)

    def _signed(self, text: str, admin: Sequence[Ed25519PrivateKey], trust: TrustRoot | None, *,
                show: str | None = None, version: int | None = None, threshold: int | None = None
                ) -> ApproverRegistry:
        """`text` as the next version, signed by `admin`, verified as the gate will, then written."""
        trust = trust or load_trust()
        text = _with_document_keys(text, show if show is not None else self.show,
                                   version if version is not None else self.version + 1,
                                   threshold if threshold is not None else self.threshold)
        payload = text.encode("utf-8")
        parsed = ApproverRegistry.parse(self.path, text)  # never sign what we cannot read back
        parsed._require_inline_keys()
        envelope = registry_signature.sign(payload, admin)
        sig_file = registry_signature.signature_path(self.path)
        # Check our own output with the code the gate runs: a registry it would refuse is useless.
        _, signers = registry_signature.verify(envelope, trust, sig_file)
        trust.check_show(parsed.show, self.path)
        if len(signers) < parsed.threshold:
            raise TrustError(f"this registry needs {parsed.threshold} admin signatures; "
                             f"{len(signers)} --admin-key given", self.path)
        seen_versions.check_and_remember(parsed.show, parsed.version, self.path)
        from provenance.identity import write_public  # x509 and the signing stack: only when editing

        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The file first, then its signature: a crash in between is reported as an edit, never believed.
        write_public(self.path, payload)
        write_public(sig_file, (json.dumps(envelope, indent=2) + "\n").encode("ascii"))
        return dataclasses.replace(parsed, signed_by=signers)


def _with_document_keys(text: str, show: str, version: int, threshold: int) -> str:
    """`text` with its top-level show/version/threshold lines replaced (comments kept)."""
    blocks = _split_blocks(text if text.endswith("\n") else text + "\n")
    preamble = [ln for ln in blocks[0] if not _DOC_KEY.match(ln)]
    while preamble and not preamble[-1].strip():
        preamble.pop()
    keys = [f"show = {_toml_str(show)}", f"version = {version}"]
    if threshold != 1:
        keys.append(f"threshold = {threshold}")
    blocks[0] = [*preamble, *keys, ""]
    out = "\n".join("\n".join(b) for b in blocks if b)
    return out if out.endswith("\n") else out + "\n"


_CACHE: dict[tuple[Any, ...], ApproverRegistry | TrustError] = {}


def _read_bytes(path: Path) -> bytes:
    try:
        return read_regular(path)
    except OSError as exc:
        raise ConfigError(f"cannot read approvers file: {exc.strerror}", path) from None


def _split_blocks(text: str) -> list[list[str]]:
    """Lines grouped as [preamble, [[approvers]] block, …]; multi-line strings never hold a header."""
    blocks: list[list[str]] = [[]]
    in_multiline = False
    for line in text.split("\n"):
        if not in_multiline and _HEADER.match(line):
            blocks.append([])
        blocks[-1].append(line)
        if line.count("'''") % 2 == 1 or line.count('"""') % 2 == 1:
            in_multiline = not in_multiline
    return blocks

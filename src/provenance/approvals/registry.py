"""The approvers registry: who may sign approvals, with which key and for which scopes.

A TOML file (`config.effective_approvers_file`) meant to live in the show's repository and be
reviewed like code (the git allowedSignersFile model, research/pipeline.md §4.4):

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
inserts two lines into its block), so comments and review history survive; each edit is
re-parsed before it is atomically renamed into place.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from provenance.approvals.keys import key_id, load_public, parse_public, public_pem
from provenance.approvals.statement import format_time
from provenance.config import Config
from provenance.errors import ApprovalError, ConfigError, SigningError
from provenance.identity import write_public
from provenance.model import Scope

_HEADER = re.compile(r"^\s*\[\[\s*approvers\s*\]\]\s*(#.*)?$")
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
        if "BEGIN" in key_text or key_text.lstrip().startswith("ssh-"):
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


def _toml_str(text: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class ApproverRegistry:
    path: Path
    approvers: tuple[Approver, ...] = ()

    @classmethod
    def load(cls, config: Config) -> ApproverRegistry:
        return cls.from_file(config.effective_approvers_file)

    @classmethod
    def from_file(cls, path: Path) -> ApproverRegistry:
        """Load the registry; a missing file is an empty registry (nobody may approve)."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise ConfigError(f"cannot read approvers file: {exc.strerror}", path) from None
        cache_key = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        cached = _CACHE.get(cache_key)
        if cached is not None:
            return cached
        registry = cls.parse(path, _read(path))
        _CACHE.clear()  # one registry per process is the common case; keep the cache tiny
        _CACHE[cache_key] = registry
        return registry

    @classmethod
    def parse(cls, path: Path, text: str) -> ApproverRegistry:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML in approvers file: {exc}", path) from None
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
        return cls(path, approvers)

    def get(self, name: str) -> Approver | None:
        return next((a for a in self.approvers if a.name.casefold() == name.casefold()), None)

    def by_key_id(self, kid: str) -> Approver | None:
        return next((a for a in self.approvers if a.key_id == kid), None)

    # -- edits (CLI): text-preserving, re-parsed, atomic -------------------------------------

    def add(self, name: str, email: str, public_key: Ed25519PublicKey, scopes: frozenset[Scope],
            expires: dt.date | dt.datetime | None = None) -> ApproverRegistry:
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
        text = _read(self.path) if self.path.exists() else _FILE_HEADER
        return self._write(text.rstrip("\n") + "\n" + "\n".join(lines))

    def revoke(self, name: str, now: dt.datetime | None = None) -> ApproverRegistry:
        target = self.get(name)
        if target is None:
            raise ConfigError(f"no approver named {name!r}", self.path)
        text = _read(self.path)
        blocks = _split_blocks(text)
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
        return self._write("\n".join("\n".join(b) for b in blocks if b))

    def _write(self, text: str) -> ApproverRegistry:
        if not text.endswith("\n"):
            text += "\n"
        registry = ApproverRegistry.parse(self.path, text)  # never write what we cannot read back
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_public(self.path, text.encode("utf-8"))
        return registry


_CACHE: dict[tuple[Any, ...], ApproverRegistry] = {}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read approvers file: {exc}", path) from None


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

"""The host's trust root: which admin keys may sign a show's approvers registry.

Whoever can write the show folder must not decide who may approve (issue 13), so the admin
public keys are pinned on the host that runs the gate or the daemon, outside every show tree:

    # /etc/provenance/trust.toml   (or --trust FILE, or $PROVENANCE_TRUST)
    admin_keys = ["/etc/provenance/admin.pub"]   # public keys from `provenance keys new`
    threshold = 1                                # distinct admin signatures a registry needs
    capture_anchors = ["/etc/provenance/c2pa/camera-ca.pem"]   # optional, see below
    [shows]                                      # optional: show name -> its root folder
    "My Show" = "/mnt/my-show"

A show's own provenance.toml cannot name or replace this file. Relative key paths are relative
to the trust file's folder.

`capture_anchors` are the C2PA certificate authorities (PEM) whose signatures prove where a
file came from — the only thing that meets strict mode without an approval. They are pinned
here, not in the show's config, because the show's own signing CA is handed to artists
(`signer init --group artists`): a claim of "digitalCapture" signed with it proves nothing,
and a show config on shared storage is as writable as the files it judges.

`shows` binds each show's signed registry to its own folder. Without it, one admin key that
signs the registries of several shows lets a registry signed for show A (naming A's
approvers) be copied into show B and verify there. With it, a registry verifies only when the
show it names is listed and it lies under that show's folder.

`check_outside` refuses a configuration, approvers file or trust
file that lives inside what is being judged or inside the show tree (issue 10 item 3).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from provenance._os import read_regular
from provenance.approvals.keys import key_id, load_public
from provenance.errors import SigningError, TrustError

TRUST_ENV = "PROVENANCE_TRUST"
parses = 0  # trust files parsed in this process (tests count them)
DEFAULT_TRUST_FILE = Path("/etc/provenance/trust.toml")
STATE_ENV = "PROVENANCE_STATE_DIR"


@dataclass(frozen=True)
class _TrustFile:
    """What a trust file may say. Checked by hand, strictly (no coercion, no unknown keys): four
    keys did not need pydantic's model machinery, whose import and build were a fifth of a
    gate's start-up on a host with a trust file."""

    admin_keys: list[str]
    threshold: int = 1
    capture_anchors: list[str] = field(default_factory=list)
    shows: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> _TrustFile:
        problems = [f"{k}: Extra inputs are not permitted" for k in data if k not in _TRUST_KEYS]
        keys = data.get("admin_keys")
        if keys is None:
            problems.append("admin_keys: Field required")
        else:
            problems += _strings("admin_keys", keys)
            if isinstance(keys, list) and not keys:
                problems.append("admin_keys: List should have at least 1 item after validation, not 0")
        threshold = data.get("threshold", 1)
        if not isinstance(threshold, int) or isinstance(threshold, bool):
            problems.append("threshold: Input should be a valid integer")
        elif threshold < 1:
            problems.append("threshold: Input should be greater than or equal to 1")
        problems += _strings("capture_anchors", data.get("capture_anchors", []))
        shows = data.get("shows", {})
        if not isinstance(shows, dict):
            problems.append("shows: Input should be a valid dictionary")
        else:
            problems += [f"shows.{k}: Input should be a valid string" for k, v in shows.items()
                         if not isinstance(v, str)]
        if problems:
            raise ValueError("; ".join(problems))
        return cls(data["admin_keys"], threshold, data.get("capture_anchors", []), shows)


_TRUST_KEYS = frozenset(f.name for f in fields(_TrustFile))


def _strings(name: str, value: object) -> list[str]:
    if not isinstance(value, list):
        return [f"{name}: Input should be a valid list"]
    return [f"{name}.{i}: Input should be a valid string"
            for i, v in enumerate(value) if not isinstance(v, str)]


@dataclass(frozen=True)
class TrustRoot:
    file: Path
    admin_keys: tuple[Ed25519PublicKey, ...]
    key_files: tuple[Path, ...]
    threshold: int
    capture_anchor_files: tuple[Path, ...] = ()
    shows: tuple[tuple[str, Path], ...] = ()  # (show name, its root folder), when pinned

    def check_show(self, show: str, registry: Path) -> None:
        """Refuse a registry that names a show this host does not pin to its folder."""
        if not self.shows:
            return
        roots = dict(self.shows)
        if show not in roots:
            raise TrustError(f"the registry is signed for show {show!r}, which the trust file {self.file} "
                             f"does not list (its [shows]: {', '.join(sorted(roots))})", registry)
        root = roots[show].resolve()
        if not registry.resolve().is_relative_to(root):
            raise TrustError(f"the registry is signed for show {show!r}, whose folder is {root} in the trust "
                             f"file {self.file}; this copy is outside it (copied from that show?)", registry)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(key_id(k) for k in self.admin_keys)

    def admin_for(self, kid: str) -> Ed25519PublicKey | None:
        return next((k for k in self.admin_keys if key_id(k) == kid), None)


def trust_file() -> Path:
    """$PROVENANCE_TRUST (also what `--trust FILE` sets), else /etc/provenance/trust.toml."""
    env = os.environ.get(TRUST_ENV)
    return Path(env).absolute() if env else DEFAULT_TRUST_FILE


def _stamp(path: Path) -> tuple[int, ...] | None:
    """What changes when a file is written or replaced (None: it cannot be stat'ed)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


# One parse per trust file and process, reused while the file and its admin keys are the ones
# it was read from (each use costs their stats): a gate asks for capture anchors, the policy
# digest, the outside-the-package checks and the registry's verification, each once or more.
_LOADED: dict[Path, tuple[tuple[tuple[int, ...] | None, ...], TrustRoot]] = {}


def load_trust(path: Path | None = None) -> TrustRoot:
    """The pinned admin keys; any problem is a TrustError naming the file (fail closed)."""
    path = path or trust_file()
    cached = _LOADED.get(path)
    if cached is not None:
        stamps, trust = cached
        if None not in stamps and stamps == tuple(_stamp(f) for f in (path, *trust.key_files)):
            return trust
    stamps, trust = _parse_trust(path)
    _LOADED[path] = (stamps, trust)
    return trust


def _parse_trust(path: Path) -> tuple[tuple[tuple[int, ...] | None, ...], TrustRoot]:
    """The trust root, and each file's stamp taken before it was read (so a file written
    meanwhile never matches its stamp: it is read again next time)."""
    global parses
    parses += 1
    stamps = [_stamp(path)]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TrustError("no trust file: the admin keys that sign the approvers registry are pinned "
                         f"here (or in --trust FILE / ${TRUST_ENV}); see `provenance approvers init`",
                         path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TrustError(f"cannot read trust file: {exc}", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise TrustError(f"invalid TOML in trust file: {exc}", path) from None
    try:
        parsed = _TrustFile.parse(data)
    except ValueError as exc:
        raise TrustError(f"invalid trust file ({exc})", path) from None
    files = tuple(_resolve(p, path.parent) for p in parsed.admin_keys)
    keys: list[Ed25519PublicKey] = []
    for f in files:
        stamps.append(_stamp(f))
        try:
            keys.append(load_public(f))
        except SigningError as exc:
            raise TrustError(f"admin key in trust file {path}: {exc.reason}", f) from None
    if len({key_id(k) for k in keys}) != len(keys):
        raise TrustError("the same admin key is listed twice", path)
    if parsed.threshold > len(keys):
        raise TrustError(f"threshold {parsed.threshold} needs more admin keys than the {len(keys)} listed",
                         path)
    anchors = tuple(_resolve(p, path.parent) for p in parsed.capture_anchors)
    shows = tuple((name, _resolve(root, path.parent)) for name, root in sorted(parsed.shows.items()))
    return tuple(stamps), TrustRoot(path, tuple(keys), files, parsed.threshold, anchors, shows)


def host_capture_anchors() -> tuple[Path, ...]:
    """The capture anchors pinned on this host; none when it has no trust file it can see (a
    workstation, or a user the file is hidden from: nothing there proves capture, so strict
    mode can only block more). A trust file that exists but does not load is an error."""
    if not os.path.exists(trust_file()):
        return ()
    return load_trust().capture_anchor_files


def capture_anchors_pem(files: tuple[Path, ...]) -> str | None:
    """The anchors' PEM text for the C2PA reader; an unreadable anchor is a TrustError."""
    pems: list[str] = []
    for f in files:
        try:
            pems.append(read_regular(f).decode())
        except (OSError, UnicodeDecodeError) as exc:
            raise TrustError(f"cannot read capture anchor listed in {trust_file()}: {exc}", f) from None
    return "\n".join(pems) or None


def state_dir() -> Path:
    """Where this host remembers what it has seen ($PROVENANCE_STATE_DIR, else XDG state home)."""
    env = os.environ.get(STATE_ENV)
    if env:
        return Path(env).absolute()
    from provenance.private_state import state_home  # the one reading of the XDG state home

    return state_home()


def _resolve(p: str, base: Path) -> Path:
    q = Path(os.path.expanduser(p))
    return q if q.is_absolute() else base / q

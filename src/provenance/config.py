"""`provenance.toml`: find it, load it, fill in defaults.

Every command finds its configuration with `--config FILE`, `$PROVENANCE_CONFIG`, or by
searching upward from the current folder for `provenance.toml`, as git finds `.git`.
Relative paths in the file are relative to the folder holding it. Without a file, the
defaults apply with the current folder as the base and the user's configuration folder
(`$XDG_CONFIG_HOME/provenance`) holding keys; which ledger a show uses is
`ledger_location`'s one decision (no show config, no ledger).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tomllib
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from wcmatch import fnmatch, glob

from provenance._os import read_regular
from provenance.errors import ConfigError
from provenance.evidence import ReaderSettings
from provenance.evidence.registry import DEFAULT_READERS, available
from provenance.model import Scope, Zone

CONFIG_NAME = "provenance.toml"
STATE_DIR = ".provenance"
DEFAULT_FINAL_GLOBS = ("**/final/**", "**/deliverables/**")

__all__ = ["CONFIG_NAME", "DEFAULT_FINAL_GLOBS", "DEFAULT_IGNORE", "STATE_DIR", "Config", "Root", "ToolEntry",
           "find_config_file", "load_config"]
# Path globs (wcmatch): `**` spans folders, `*` and `?` stay within one name and match a leading
# dot too (`*.tmp` is also `.x.tmp`), `[!x]` negates a class.
_GLOB_FLAGS = glob.GLOBSTAR | glob.DOTGLOB
# In-flight and tool-temporary names: rsync, Aspera, editors, ExifTool, ourselves.
DEFAULT_IGNORE = (
    ".*.[A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9]",  # rsync .name.XXXXXX
    "*.partial",
    "*.aspx",
    "*.aspera-ckpt",
    "*.tmp",
    "*_exiftool_tmp",
    "*_original",
    ".provenance-tmp-*",
    ".DS_Store",
    "._*",
    ".provenance/**",
)


@dataclass(frozen=True)
class Root:
    path: Path
    poll: bool = False  # NFS/SMB: inotify sees nothing written by other hosts
    poll_interval_s: float = 30.0


@dataclass(frozen=True)
class ToolEntry:
    """A vetted (or known-unvetted) generative tool, matched by glob on its name."""

    pattern: str
    trains_on_inputs: bool = True
    enterprise: bool = False

    def matches(self, tool: str) -> bool:
        return fnmatch.fnmatch(tool, self.pattern, flags=fnmatch.IGNORECASE | fnmatch.DOTMATCH)

    @property
    def vetted(self) -> bool:
        return not self.trains_on_inputs and self.enterprise


@dataclass(frozen=True)
class Config:
    base_dir: Path
    file: Path | None = None
    show_title: str | None = None  # `[show] title`; see `title`
    roots: tuple[Root, ...] = ()
    final_globs: tuple[str, ...] = DEFAULT_FINAL_GLOBS
    ignore_zone_globs: tuple[str, ...] = ()
    ignore_patterns: tuple[str, ...] = DEFAULT_IGNORE
    settle_s: float = 2.0
    reconcile_interval_s: float = 600.0
    workers: int = 2
    notify_command: str | None = None
    notify_urls: tuple[str, ...] = ()  # apprise URLs ([notify] urls)
    log_format: str = "text"  # "text" | "json"
    ledger_url: str | None = None
    trust_anchor_files: tuple[Path, ...] = ()
    signing_dir: Path | None = None
    approvers_file: Path | None = None
    approvals_dir: str = ""  # relative folder in a package for portable approvals; "" = beside asset
    # Distinct approvers whose valid approvals must grant a scope before it clears anything
    # (a two-person rule for talent likeness, say); a scope not listed needs one.
    approvers_required: tuple[tuple[Scope, int], ...] = ()
    policy_version: str = "1"
    unknown_policy: str = "pass"  # "pass" | "require-declaration"
    unvetted_tool_policy: str = "warn"  # "warn" | "block"
    tools: tuple[ToolEntry, ...] = ()
    extra_signatures: tuple[dict[str, str], ...] = ()
    time_limit_s: float = 60.0
    readers: tuple[str, ...] = DEFAULT_READERS  # evidence readers by name, `[inspect] readers`
    timeline_remap: tuple[tuple[str, Path], ...] = ()  # `[timeline] remap`: (edit's prefix, this host's)
    edl_rate: float = 24.0
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def title(self) -> str:
        """The show's name in reports: `[show] title`, else the show folder's name."""
        return self.show_title or self.base_dir.name

    def required_approvers(self, scope: Scope) -> int:
        return dict(self.approvers_required).get(scope, 1)

    @property
    def config_dir(self) -> Path:
        """Where keys and the signing identity live (not the ledger: see `ledger_location`)."""
        if self.file is not None:
            return self.base_dir / STATE_DIR
        xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(xdg) / "provenance"

    @property
    def signing_identity_dir(self) -> Path:
        return self.signing_dir or self.config_dir / "signing"

    @property
    def effective_ledger_url(self) -> str:
        """The ledger this show uses on this host; `ledger_location` decides (ConfigError
        without a show config: a per-user ledger would mix shows)."""
        from provenance.ledger_location import ledger_url  # it needs host_state, above config

        return ledger_url(self)

    @property
    def effective_approvers_file(self) -> Path:
        return self.approvers_file or self.config_dir / "approvers.toml"

    @cached_property
    def _final(self) -> glob.WcMatcher:
        return glob.compile(list(self.final_globs), flags=_GLOB_FLAGS)

    @cached_property
    def _ignore_zone(self) -> glob.WcMatcher:
        return glob.compile(list(self.ignore_zone_globs), flags=_GLOB_FLAGS)

    @cached_property
    def _ignored_paths(self) -> glob.WcMatcher:
        return glob.compile([g for g in self.ignore_patterns if "/" in g], flags=_GLOB_FLAGS)

    @cached_property
    def _ignored_names(self) -> glob.WcMatcher:
        return glob.compile([g for g in self.ignore_patterns if "/" not in g], flags=_GLOB_FLAGS)

    def relative(self, path: str | os.PathLike[str]) -> str:
        """`path` relative to the base folder, with '/' separators (absolute if outside it)."""
        p = Path(os.path.abspath(path))
        try:
            return p.relative_to(self.base_dir).as_posix()
        except ValueError:
            return p.as_posix()

    def zone_for(self, path: str | os.PathLike[str]) -> Zone:
        rel = self.relative(path)
        if self.ignore_zone_globs and self._ignore_zone.match(rel):
            return Zone.IGNORE
        if self.final_globs and self._final.match(rel):
            return Zone.FINAL
        return Zone.WORKING

    def is_ignored(self, path: str | os.PathLike[str]) -> bool:
        """In-flight or temporary names the daemon must never read (rsync, Aspera, ExifTool, us)."""
        rel = self.relative(path)
        # A pattern with a '/' is matched against the path from the base, others against the name.
        if self._ignored_names.match(rel.rsplit("/", 1)[-1]) or self._ignored_paths.match(rel):
            return True
        return self.zone_for(path) is Zone.IGNORE

    @property
    def gate_readers(self) -> tuple[str, ...]:
        """What the gate reads with: every built-in reader, then `[inspect] readers`' plug-ins.
        `[inspect] readers` may narrow what `inspect` and the daemon read; it never narrows the
        gate, or `readers = ["sidecar"]` in a show's config would read an A1111 PNG as unknown."""
        return tuple(dict.fromkeys((*DEFAULT_READERS, *self.readers)))

    def trust_anchors_pem(self) -> str | None:
        """The anchors `tag` and `approve` validate their own C2PA output against (the show's
        signing CA and `[trust] anchors`). Never used to judge: see `reader_settings`."""
        pems: list[str] = []
        for f in self.trust_anchor_files:
            try:
                pems.append(read_regular(f).decode())
            except OSError as exc:
                raise ConfigError(f"cannot read trust anchor: {exc.strerror}", f) from None
        own_ca = self.signing_identity_dir / "ca.pem"
        if own_ca.is_file() and own_ca not in self.trust_anchor_files:
            pems.append(read_regular(own_ca).decode())
        return "\n".join(pems) or None

    def reader_settings(self) -> ReaderSettings:
        """How files are read to be judged. A C2PA signature reads `trusted` only under the
        capture anchors pinned in this host's trust file, never under anchors the show's own
        config names or the show's signing CA (artists hold that key): `trusted` is what lets
        a capture claim meet strict mode."""
        # Imported here: the approvals package imports this module.
        from provenance.approvals.trust import capture_anchors_pem, host_capture_anchors

        return ReaderSettings(
            trust_anchors_pem=capture_anchors_pem(host_capture_anchors()),
            extra_signatures=self.extra_signatures,
            time_limit_s=self.time_limit_s,
        )


def find_config_file(start: Path | None = None) -> Path | None:
    env = os.environ.get("PROVENANCE_CONFIG")
    if env:
        return Path(env)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(explicit: str | os.PathLike[str] | None = None, start: Path | None = None) -> Config:
    """The configuration in force: `explicit`, else $PROVENANCE_CONFIG, else upward search."""
    path = Path(explicit) if explicit is not None else find_config_file(start)
    if path is None:
        return Config(base_dir=(start or Path.cwd()).resolve())
    if path.is_dir():
        path = path / CONFIG_NAME
    try:
        text = read_regular(path).decode("utf-8")  # a FIFO in its place must not hang us
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError("configuration file not found", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read configuration: {exc}", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path) from None
    return _from_file(_validated(text, data, path), data, path.resolve())


_VALIDATED_NOTE = "validated-configs.json"


@cache
def _schema_digest() -> str:
    """What decides a file's validated form besides its bytes: the schema's code and pydantic's."""
    h = hashlib.sha256()
    spec = importlib.util.find_spec("pydantic")  # located, not imported
    here = Path(__file__).parent
    for f in (here / "config_schema.py", here / "config.py",
              Path(spec.origin).parent / "version.py" if spec and spec.origin else None):
        h.update(f.read_bytes() if f is not None and f.is_file() else b"-")
    return h.hexdigest()


def _validated(text: str, data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The file checked against the schema (config_schema.ConfigFile), as its normalised dump:
    every table and key present, defaults filled in. The schema's models cost more to build
    than the rest of a gate's start-up but SQLAlchemy, so a dump this user already validated,
    for these exact bytes under this schema, is kept in their private state (an authenticated
    note, private_state.py) and used instead; anything else is validated now."""
    from provenance.private_state import read_note, write_note

    key = hashlib.sha256(f"{_schema_digest()}\0{text}".encode()).hexdigest()
    known = read_note(_VALIDATED_NOTE)
    if key in known:
        dump: dict[str, Any] = json.loads(known[key])
        return dump
    from pydantic import ValidationError

    from provenance.config_schema import ConfigFile

    try:
        dump = ConfigFile.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        from provenance.config_errors import config_error

        raise config_error(exc, text, path) from None
    write_note(_VALIDATED_NOTE, {**dict(list(known.items())[-7:]), key: json.dumps(dump)})
    return dump


def _readers(names: list[str] | None, path: Path) -> tuple[str, ...]:
    """`[inspect] readers`, each one a registered reader (a typo must not mean "not read")."""
    if names is None:
        return DEFAULT_READERS
    known = available()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"[inspect] readers: unknown reader(s) {', '.join(map(repr, unknown))}; "
                          f"available: {', '.join(known)}", path)
    return tuple(dict.fromkeys(names))


def _from_file(f: dict[str, Any], data: dict[str, Any], path: Path) -> Config:
    """`Config` from a validated dump (`_validated`: every table and key is there)."""
    base = path.parent

    def resolve(p: str) -> Path:
        q = Path(os.path.expanduser(p))
        return q if q.is_absolute() else (base / q).resolve()

    ledger_url = f["ledger"]["url"]
    if ledger_url and ledger_url.startswith("sqlite:///") and not ledger_url.startswith("sqlite:////"):
        ledger_url = f"sqlite:///{resolve(ledger_url.removeprefix('sqlite:///'))}"
    signing_dir, approvers = f["signing"]["dir"], f["approvals"]["approvers_file"]
    watch, policy, inspect, timeline = f["watch"], f["policy"], f["inspect"], f["timeline"]
    return Config(
        base_dir=base,
        file=path,
        show_title=f["show"]["title"],
        roots=tuple(Root(resolve(r["path"]), r["poll"], r["poll_interval"]) for r in f["roots"]),
        final_globs=tuple(f["zones"]["final"]),
        ignore_zone_globs=tuple(f["zones"]["ignore"]),
        ignore_patterns=DEFAULT_IGNORE + tuple(watch["ignore"]),
        settle_s=watch["settle_seconds"],
        reconcile_interval_s=watch["reconcile_seconds"],
        workers=watch["workers"],
        notify_command=watch["notify_command"] or None,
        notify_urls=tuple(f["notify"]["urls"]),
        log_format=watch["log_format"],
        ledger_url=ledger_url,
        trust_anchor_files=tuple(resolve(p) for p in f["trust"]["anchors"]),
        signing_dir=resolve(signing_dir) if signing_dir else None,
        approvers_file=resolve(approvers) if approvers else None,
        approvals_dir=f["approvals"]["package_folder"],
        approvers_required=tuple(sorted((Scope(k), n) for k, n in f["approvals"]["required"].items())),
        policy_version=str(policy["version"]),
        unknown_policy=policy["unknown"],
        unvetted_tool_policy=policy["unvetted_tools"],
        tools=tuple(ToolEntry(t["name"], t["trains_on_inputs"], t["enterprise"]) for t in f["tools"]),
        extra_signatures=tuple({k: v for k, v in row.items() if v is not None} for row in f["signatures"]),
        time_limit_s=inspect["time_limit_seconds"],
        readers=_readers(inspect["readers"], path),
        timeline_remap=tuple((r["source"], resolve(r["to"])) for r in timeline["remap"]),
        edl_rate=timeline["edl_rate"],
        raw=data,
    )

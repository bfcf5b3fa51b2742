"""`provenance.toml`: find it, load it, fill in defaults.

Every command finds its configuration with `--config FILE`, `$PROVENANCE_CONFIG`, or by
searching upward from the current folder for `provenance.toml`, as git finds `.git`.
Relative paths in the file are relative to the folder holding it. Without a file, the
defaults apply with the current folder as the base and the user's configuration folder
(`$XDG_CONFIG_HOME/provenance`) holding keys and the ledger.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from provenance.errors import ConfigError
from provenance.evidence import ReaderSettings
from provenance.model import Scope, Zone

CONFIG_NAME = "provenance.toml"
STATE_DIR = ".provenance"

DEFAULT_FINAL_GLOBS = ("**/final/**", "**/deliverables/**")
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
        return glob_to_regex(self.pattern.lower()).fullmatch(tool.lower()) is not None

    @property
    def vetted(self) -> bool:
        return not self.trains_on_inputs and self.enterprise


@dataclass(frozen=True)
class Config:
    base_dir: Path
    file: Path | None = None
    roots: tuple[Root, ...] = ()
    final_globs: tuple[str, ...] = DEFAULT_FINAL_GLOBS
    ignore_zone_globs: tuple[str, ...] = ()
    ignore_patterns: tuple[str, ...] = DEFAULT_IGNORE
    settle_s: float = 2.0
    reconcile_interval_s: float = 600.0
    workers: int = 2
    notify_command: str | None = None
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
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def required_approvers(self, scope: Scope) -> int:
        return dict(self.approvers_required).get(scope, 1)

    @property
    def config_dir(self) -> Path:
        """Where keys, the signing identity and the default ledger live."""
        if self.file is not None:
            return self.base_dir / STATE_DIR
        xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(xdg) / "provenance"

    @property
    def signing_identity_dir(self) -> Path:
        return self.signing_dir or self.config_dir / "signing"

    @property
    def effective_ledger_url(self) -> str:
        return self.ledger_url or f"sqlite:///{self.config_dir / 'ledger.db'}"

    @property
    def effective_approvers_file(self) -> Path:
        return self.approvers_file or self.config_dir / "approvers.toml"

    @cached_property
    def _final(self) -> list[re.Pattern[str]]:
        return [glob_to_regex(g) for g in self.final_globs]

    @cached_property
    def _ignore_zone(self) -> list[re.Pattern[str]]:
        return [glob_to_regex(g) for g in self.ignore_zone_globs]

    @cached_property
    def _ignored_names(self) -> list[re.Pattern[str]]:
        return [glob_to_regex(g) for g in self.ignore_patterns]

    def relative(self, path: str | os.PathLike[str]) -> str:
        """`path` relative to the base folder, with '/' separators (absolute if outside it)."""
        p = Path(os.path.abspath(path))
        try:
            return p.relative_to(self.base_dir).as_posix()
        except ValueError:
            return p.as_posix()

    def zone_for(self, path: str | os.PathLike[str]) -> Zone:
        rel = self.relative(path)
        if any(rx.fullmatch(rel) for rx in self._ignore_zone):
            return Zone.IGNORE
        if any(rx.fullmatch(rel) for rx in self._final):
            return Zone.FINAL
        return Zone.WORKING

    def is_ignored(self, path: str | os.PathLike[str]) -> bool:
        """In-flight or temporary names the daemon must never read (rsync, Aspera, ExifTool, us)."""
        rel = self.relative(path)
        name = rel.rsplit("/", 1)[-1]
        for pattern, rx in zip(self.ignore_patterns, self._ignored_names, strict=True):
            if rx.fullmatch(rel if "/" in pattern else name):
                return True
        return self.zone_for(path) is Zone.IGNORE

    def trust_anchors_pem(self) -> str | None:
        pems: list[str] = []
        for f in self.trust_anchor_files:
            try:
                pems.append(f.read_text())
            except OSError as exc:
                raise ConfigError(f"cannot read trust anchor: {exc.strerror}", f) from None
        own_ca = self.signing_identity_dir / "ca.pem"
        if own_ca.is_file() and own_ca not in self.trust_anchor_files:
            pems.append(own_ca.read_text())
        return "\n".join(pems) or None

    def reader_settings(self) -> ReaderSettings:
        return ReaderSettings(
            trust_anchors_pem=self.trust_anchors_pem(),
            extra_signatures=self.extra_signatures,
            time_limit_s=self.time_limit_s,
        )


def glob_to_regex(glob: str) -> re.Pattern[str]:
    """Translate a path glob: `**` spans folders, `*` and `?` stay within one name."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = glob.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                out.append(glob[i : end + 1])
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out))


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
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("configuration file not found", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read configuration: {exc}", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path) from None
    return _from_dict(data, path.resolve())


def _get(data: dict[str, Any], table: str, key: str, kind: type | tuple[type, ...],
         default: Any, path: Path) -> Any:
    section = data.get(table, {})
    if not isinstance(section, dict):
        raise ConfigError(f"[{table}] must be a table", path)
    value = section.get(key, default)
    if value is not default and not isinstance(value, kind):
        raise ConfigError(f"[{table}] {key} has the wrong type ({type(value).__name__})", path)
    return value


def _from_dict(data: dict[str, Any], path: Path) -> Config:
    base = path.parent

    def resolve(p: str) -> Path:
        q = Path(os.path.expanduser(p))
        return q if q.is_absolute() else (base / q).resolve()

    roots: list[Root] = []
    for entry in data.get("roots", [{"path": "."}]):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise ConfigError("each [[roots]] entry needs a path = \"...\"", path)
        roots.append(Root(resolve(entry["path"]), bool(entry.get("poll", False)),
                          float(entry.get("poll_interval", 30.0))))

    ledger_url = _get(data, "ledger", "url", str, None, path)
    if ledger_url and ledger_url.startswith("sqlite:///") and not ledger_url.startswith("sqlite:////"):
        ledger_url = f"sqlite:///{resolve(ledger_url.removeprefix('sqlite:///'))}"

    tools = tuple(
        ToolEntry(str(t["name"]), bool(t.get("trains_on_inputs", True)), bool(t.get("enterprise", False)))
        for t in data.get("tools", []) if isinstance(t, dict) and "name" in t
    )
    signatures = tuple({str(k): str(v) for k, v in s.items()} for s in data.get("signatures", []))
    unknown = _get(data, "policy", "unknown", str, "pass", path)
    unvetted = _get(data, "policy", "unvetted_tools", str, "warn", path)
    if unknown not in ("pass", "require-declaration"):
        raise ConfigError("[policy] unknown must be \"pass\" or \"require-declaration\"", path)
    if unvetted not in ("warn", "block"):
        raise ConfigError("[policy] unvetted_tools must be \"warn\" or \"block\"", path)
    approvers = _get(data, "approvals", "approvers_file", str, None, path)
    required: dict[Scope, int] = {}
    for scope, count in _get(data, "approvals", "required", dict, {}, path).items():
        try:
            key = Scope(scope)
        except ValueError:
            raise ConfigError(f"[approvals] required: unknown scope {scope!r} (scopes: "
                              f"{', '.join(s.value for s in Scope)})", path) from None
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ConfigError(f"[approvals] required: {scope} must be a whole number of approvers, 1 or more",
                              path)
        required[key] = count
    signing_dir = _get(data, "signing", "dir", str, None, path)
    log_format = _get(data, "watch", "log_format", str, "text", path)
    if log_format not in ("text", "json"):
        raise ConfigError("[watch] log_format must be \"text\" or \"json\"", path)

    return Config(
        base_dir=base,
        file=path,
        roots=tuple(roots),
        final_globs=tuple(_get(data, "zones", "final", list, list(DEFAULT_FINAL_GLOBS), path)),
        ignore_zone_globs=tuple(_get(data, "zones", "ignore", list, [], path)),
        ignore_patterns=DEFAULT_IGNORE + tuple(_get(data, "watch", "ignore", list, [], path)),
        settle_s=float(_get(data, "watch", "settle_seconds", (int, float), 2.0, path)),
        reconcile_interval_s=float(_get(data, "watch", "reconcile_seconds", (int, float), 600, path)),
        workers=int(_get(data, "watch", "workers", int, 2, path)),
        notify_command=_get(data, "watch", "notify_command", str, None, path) or None,
        log_format=log_format,
        ledger_url=ledger_url,
        trust_anchor_files=tuple(resolve(p) for p in _get(data, "trust", "anchors", list, [], path)),
        signing_dir=resolve(signing_dir) if signing_dir else None,
        approvers_file=resolve(approvers) if approvers else None,
        approvals_dir=_get(data, "approvals", "package_folder", str, "", path),
        approvers_required=tuple(sorted(required.items())),
        policy_version=str(_get(data, "policy", "version", (str, int), "1", path)),
        unknown_policy=unknown,
        unvetted_tool_policy=unvetted,
        tools=tools,
        extra_signatures=signatures,
        time_limit_s=float(_get(data, "inspect", "time_limit_seconds", (int, float), 60, path)),
        raw=data,
    )

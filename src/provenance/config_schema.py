"""What a provenance.toml may say: one pydantic definition, for loading and for editors.

Unknown tables and keys are errors (a misspelt `[zone]` would otherwise mean the daemon quietly
flags nothing in the real final folders), values are type- and range-checked, and the JSON
Schema shipped as `data/provenance.schema.json` is generated from these same models
(`scripts/write_config_schema.py`; a test checks the shipped file is current).
`config.load_config` turns the validated file into the `Config` the rest of the code uses.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from provenance.config import DEFAULT_FINAL_GLOBS
from provenance.model import Scope

ScopeName = Literal["final-deliverable", "talent-likeness", "personal-data", "third-party-ip"]
assert set(ScopeName.__args__) == {s.value for s in Scope}  # type: ignore[attr-defined]


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


def _relative_folder(value: str) -> str:
    if value.startswith("/") or ".." in value.split("/"):
        raise ValueError("must be a folder relative to the package top, without '..'")
    return value


Glob = Annotated[str, Field(min_length=1, description="Path glob: `**` spans folders, `*` and `?` stay "
                                                      "within one name, `[!x]` negates a class.")]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class RootTable(_Table):
    """A folder the watch daemon monitors."""

    path: str = Field(min_length=1)
    poll: bool = Field(default=False, description="Poll instead of inotify (NFS/SMB: other hosts' writes).")
    poll_interval: float = Field(default=30.0, gt=0, le=86400, description="Seconds between polls.")


class ZonesTable(_Table):
    final: list[Glob] = Field(default_factory=lambda: list(DEFAULT_FINAL_GLOBS),
                              description="Final deliverables: AI material needs a signed approval here.")
    ignore: list[Glob] = Field(default_factory=list, description="Never read or judged.")


class WatchTable(_Table):
    settle_seconds: float = Field(default=2.0, ge=0, le=3600,
                                  description="Quiet period before a landed file is read.")
    reconcile_seconds: float = Field(default=600, ge=1, le=7 * 86400,
                                     description="Seconds between full reconciles.")
    workers: int = Field(default=2, ge=1, le=64, description="Files classified in parallel.")
    ignore: list[Glob] = Field(default_factory=list, description="Extra names to ignore (built-ins stay).")
    notify_command: str | None = Field(default=None, description="Run for each new finding (JSON on stdin).")
    log_format: Literal["text", "json"] = "text"


def _notify_url(url: str) -> str:
    # apprise's own check runs when the daemon starts (importing it here would slow every
    # command); this one catches the typo that would silently notify nobody.
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*://\S+", url):
        raise ValueError("not an apprise URL (scheme://…, e.g. json://host/path, slack://…, mailto://…)")
    return url


class NotifyTable(_Table):
    """Where the watch daemon sends each new finding, besides `watch.notify_command`."""

    urls: list[Annotated[str, AfterValidator(_notify_url)]] = Field(
        default_factory=list, description="apprise URLs (Slack, e-mail, a JSON webhook …); secrets in them "
                                          "are never logged.")


class LedgerTable(_Table):
    url: str | None = Field(default=None, min_length=1,
                            description="sqlite:///… on this host, or postgresql+psycopg://…")


class TrustTable(_Table):
    anchors: list[str] = Field(default_factory=list, description="Extra C2PA trust anchors (PEM files).")


class SigningTable(_Table):
    dir: str | None = Field(default=None, min_length=1,
                            description="The production's C2PA signing identity folder.")


class ApprovalsTable(_Table):
    approvers_file: str | None = Field(default=None, min_length=1,
                                       description="The signed approvers registry.")
    package_folder: Annotated[str, AfterValidator(_relative_folder)] = Field(
        default="", description="Folder in a package holding portable approvals (\"\" = beside each asset).")
    required: dict[ScopeName, Annotated[int, Field(ge=1, le=20)]] = Field(
        default_factory=dict, description="Distinct approvers a scope needs (1 if not listed).")


class PolicyTable(_Table):
    version: str | int = "1"
    unknown: Literal["pass", "require-declaration"] = "pass"
    unvetted_tools: Literal["warn", "block"] = "warn"


class InspectTable(_Table):
    time_limit_seconds: float = Field(default=60, gt=0, le=86400, description="Per-file reader time limit.")
    readers: list[Annotated[str, Field(min_length=1)]] | None = Field(
        default=None, min_length=1,
        description="Evidence readers to run, by name (`provenance readers` lists them, plug-ins "
                    "included); default: every built-in reader.")


class RemapRow(_Table):
    """An edit system's mount point and where the same storage is mounted on this host."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    source: str = Field(alias="from", min_length=1,
                        description="Path prefix as edits write it, e.g. /Volumes/SHOW.")
    to: str = Field(min_length=1, description="The same folder here, e.g. /mnt/show (relative to this file).")


class TimelineTable(_Table):
    """How `gate` reads edit timelines (OTIO, EDL, FCP XML, FCPXML, AAF)."""

    remap: list[RemapRow] = Field(default_factory=list,
                                  description="Media path prefixes to rewrite; first match wins.")
    edl_rate: float = Field(default=24.0, gt=0, le=240,
                            description="Frame rate of CMX 3600 EDLs (they do not say).")


class ShowTable(_Table):
    title: str | None = Field(default=None, min_length=1,
                              description="The show's name as reports give it (the disclosure report's "
                                          "heading); default: the name of this file's folder.")


class ToolRow(_Table):
    """A vetted (or known-unvetted) generative tool, matched by glob on its name."""

    name: str = Field(min_length=1)
    trains_on_inputs: bool = True
    enterprise: bool = False


class SignatureRow(_Table):
    """A production-specific generator signature (same shape as data/signatures.toml)."""

    field: str = Field(min_length=1, description="Glob over ExifTool's Group:Tag key.")
    value: Annotated[str, AfterValidator(_regex)] = Field(
        description="Regular expression searched in the value.")
    signal: Literal["ai_generated", "ai_edited", "capture", "info"]
    generator: str | None = None


class ConfigFile(_Table):
    """provenance.toml."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True,
                              json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
                              title="provenance.toml")

    show: ShowTable = Field(default_factory=ShowTable)
    roots: list[RootTable] = Field(default_factory=lambda: [RootTable(path=".")])
    zones: ZonesTable = Field(default_factory=ZonesTable)
    watch: WatchTable = Field(default_factory=WatchTable)
    notify: NotifyTable = Field(default_factory=NotifyTable)
    ledger: LedgerTable = Field(default_factory=LedgerTable)
    trust: TrustTable = Field(default_factory=TrustTable)
    signing: SigningTable = Field(default_factory=SigningTable)
    approvals: ApprovalsTable = Field(default_factory=ApprovalsTable)
    policy: PolicyTable = Field(default_factory=PolicyTable)
    inspect: InspectTable = Field(default_factory=InspectTable)
    timeline: TimelineTable = Field(default_factory=TimelineTable)
    tools: list[ToolRow] = Field(default_factory=list)
    signatures: list[SignatureRow] = Field(default_factory=list)


def json_schema() -> dict[str, Any]:
    return ConfigFile.model_json_schema()


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"

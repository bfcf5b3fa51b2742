"""Write and read our XMP through one long-lived ExifTool (`-stay_open`, via pyexiftool).

ExifTool only ever writes our own temporary files: `-o TEMP SRC` writes a modified copy
in one pass (or, for WebP, the temp is a copy rewritten with `-overwrite_original`);
the original is never opened for writing.
Our namespace is registered by the package's `data/exiftool.config`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import shutil
import socket
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from exiftool import ExifToolHelper
from exiftool.exceptions import ExifToolException, ExifToolExecuteError

from provenance.errors import TagError
from provenance.tagging.atomic import safe_alias
from provenance.tagging.spec import EmbedRefused, TagSpec
from provenance.vocabulary import IPTC_AI_FIELDS, XMP_DST_TAG, XMP_LEGACY_FIELDS, XMP_NS

_COPY_FIRST = frozenset({"webp"})
_SEP = "|;|"
_LISTS = frozenset({f"{XMP_NS}:Risks"})
# What `read` returns: the IPTC properties a tag writes, and our whole namespace.
_READ = (XMP_DST_TAG, *IPTC_AI_FIELDS, f"{XMP_NS}:all")


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def tag_args(spec: TagSpec, extra: dict[str, str] | None = None) -> list[str]:
    """`-TAG=VALUE` arguments; an empty assignment deletes, a list replaces the whole bag."""
    fields: dict[str, Any] = {
        **dict.fromkeys(XMP_LEGACY_FIELDS),
        **spec.xmp_fields(),
        f"{XMP_NS}:TaggedAt": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        f"{XMP_NS}:TaggedBy": _who(),
        **(extra or {}),
    }
    args: list[str] = []
    for tag, value in fields.items():
        if value is None:
            args.append(f"-{tag}=")
        elif isinstance(value, list):
            args.extend(f"-{tag}={v}" for v in value)
        else:
            args.append(f"-{tag}={value}")
    return args


def _norm(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, list):
        return sorted(str(v) for v in value) or None
    return str(value)


def replaced(have: dict[str, Any], spec: TagSpec) -> dict[str, Any]:
    """What writing `spec` replaces outside our namespace (None: absent before): an untag
    puts exactly that back, so a generator's own source type or AI system survives a tag
    and its retraction."""
    return {tag: have.get(tag) for tag in spec.xmp_fields() if not tag.startswith(XMP_NS + ":")}


class XmpTool:
    """One ExifTool process for a batch. Close it (or use `with`) when done."""

    def __init__(self) -> None:
        self._config_cm = as_file(files("provenance").joinpath("data/exiftool.config"))
        config = self._config_cm.__enter__()
        try:
            self._et = ExifToolHelper(config_file=str(config), encoding="utf-8",
                                      common_args=["-G1", "-api", "LargeFileSupport=1"])
        except (ExifToolException, FileNotFoundError, OSError) as exc:
            self._config_cm.__exit__(None, None, None)
            raise TagError(f"cannot start ExifTool: {exc}") from None

    def __enter__(self) -> XmpTool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._et.terminate()
        finally:
            self._config_cm.__exit__(None, None, None)

    def _run(self, path: Path, *args: str) -> str:
        try:
            return str(self._et.execute(*args))
        except ExifToolExecuteError as exc:
            message = (exc.stderr or exc.stdout or "").strip().splitlines()
            reason = message[-1] if message else f"exit status {exc.returncode}"
            raise EmbedRefused(f"ExifTool refused: {reason}", path) from None

    def read(self, path: Path) -> dict[str, Any]:
        """Our fields as exact strings (lists for bags); missing tags are absent.

        `-args` output, not `-j`: JSON turns a ToolVersion of "4.10" into the number 4.1.
        """
        with safe_alias(path) as alias:
            try:
                out = str(self._et.execute("-args", "-sep", _SEP, *(f"-{t}" for t in _READ),
                                           str(alias)))
            except ExifToolExecuteError as exc:
                raise TagError(f"ExifTool cannot read: {(exc.stderr or '').strip()}",
                               path) from None
        found: dict[str, Any] = {}
        for line in out.splitlines():
            key, eq, value = line.partition("=")
            if not eq:
                continue
            key = key.lstrip("-")
            found[key] = value.split(_SEP) if key in _LISTS else value
        return found

    def matches(self, path: Path, spec: TagSpec, extra: dict[str, str] | None = None, *,
                have: dict[str, Any] | None = None) -> bool:
        """True when the file already carries exactly this declaration (times ignored);
        `have` is what `read` returned for it, when the caller has it already."""
        have = self.read(path) if have is None else have
        want = {**spec.xmp_fields(), **(extra or {})}
        return all(_norm(have.get(tag)) == _norm(value) for tag, value in want.items())

    def run_args(self, path: Path, *args: str) -> None:
        """Run ExifTool with these arguments (the untag's deletions); `path` names errors."""
        self._run(path, *args)

    def write_copy(self, src: Path, dst: Path, spec: TagSpec, fmt: str) -> None:
        """Write `src` plus our XMP to our new temp `dst`; `src` is only read.

        `-o DST SRC` writes the modified copy in one pass. ExifTool 12.57 refuses `-o`
        for WebP ("Can't write RIFF files") while it writes the same file in place, so
        WebP is copied first and rewritten in place (one extra pass, small files).
        """
        if fmt in _COPY_FIRST:
            shutil.copyfile(src, dst)
            self.write_in_place(dst, spec)
            return
        with safe_alias(src) as alias:
            self._run(src, "-o", str(dst), *tag_args(spec), str(alias))
        if not dst.is_file():
            raise TagError("ExifTool wrote no output", src)

    def write_in_place(self, temp: Path, spec: TagSpec, extra: dict[str, str] | None = None,
                       ) -> None:
        """Write into one of our own temps (creates an .xmp file when it does not exist)."""
        self._run(temp, "-overwrite_original", *tag_args(spec, extra), str(temp))

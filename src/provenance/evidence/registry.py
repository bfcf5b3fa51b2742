"""Readers by name. Built-ins are listed here; plug-ins come from the entry-point group
`provenance.readers` (each entry point is a factory `(ReaderSettings) -> EvidenceReader`).

Modules are imported lazily so that `provenance --help` does not start ExifTool or load
the C2PA library.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from provenance.errors import ConfigError
from provenance.evidence import EvidenceReader, ReaderSettings

ReaderFactory = Callable[[ReaderSettings], EvidenceReader]

# name -> "module:factory"
BUILTIN_READERS: dict[str, str] = {
    "c2pa": "provenance.evidence.c2pa:C2paReader",
    "metadata": "provenance.evidence.metadata:MetadataReader",
    "sidecar": "provenance.evidence.sidecar:SidecarReader",
    "containers": "provenance.evidence.containers:ContainersReader",
}

DEFAULT_READERS: tuple[str, ...] = ("c2pa", "metadata", "sidecar", "containers")


def available() -> dict[str, str]:
    """Every reader name with where it comes from."""
    found = dict(BUILTIN_READERS)
    for ep in entry_points(group="provenance.readers"):
        found.setdefault(ep.name, ep.value)
    return found


def _factory(name: str) -> ReaderFactory:
    module_name, _, attr = _target(name).partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"evidence reader {name!r} could not be loaded: {exc}") from exc


def check_known(names: Sequence[str]) -> None:
    """ConfigError for a name no reader has, without importing any reader: an Inspector says
    so when it is made, though it loads each reader only when a file first needs it."""
    unknown = [n for n in names if n not in BUILTIN_READERS]
    if unknown:  # only plug-in names need the installed distributions scanned
        for name in unknown:
            _target(name)


def _target(name: str) -> str:
    target = BUILTIN_READERS.get(name) or available().get(name)
    if target is None:
        raise ConfigError(f"unknown evidence reader {name!r}; available: {', '.join(available())}")
    return target


def load_readers(names: Sequence[str], settings: ReaderSettings) -> list[EvidenceReader]:
    return [_factory(name)(settings) for name in names]

"""What a gate pays for before it judges a file (issue 9, start-up): it loads no reader and no
media library it does not use, parses the host's trust file once, and authenticates the
approvers registry only when a file needs an approval looked up — lazily, never skipped: a
registry that does not authenticate still leaves a gate that needs it undecided."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.approvals import registry_signature, trust
from provenance.model import Scope
from tests.gate.conftest import Show, ai_png, asset, plain_png

# Modules a gate on an empty package has no use for: the readers (C2PA library, ExifTool
# wrapper), content memory (numpy, Pillow, PyAV), edits (OpenTimelineIO), frame sequences
# (fileseq, natsort), HTML reports (Jinja2), the progress bar, the registry's x509 writer,
# SQLAlchemy's PostgreSQL dialect.
UNUSED = ("c2pa", "exiftool", "numpy", "PIL", "av", "opentimelineio", "fileseq", "natsort", "jinja2",
          "rich.progress", "cryptography.x509", "sqlalchemy.dialects.postgresql", "provenance.evidence.c2pa",
          "provenance.evidence.metadata", "provenance.memory.recall", "provenance.timeline.model")

_PROBE = """
import json, sys, threading
from provenance.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules),
                  "threads": [t.name for t in threading.enumerate()]}), file=sys.stderr)
"""


def _probe(*args: str | Path) -> dict[str, object]:
    run = subprocess.run([sys.executable, "-c", _PROBE, *map(str, args)], capture_output=True, text=True,
                         timeout=120, check=False)
    probed: dict[str, object] = json.loads(run.stderr.strip().splitlines()[-1])
    return probed


def test_a_gate_on_an_empty_package_loads_no_reader_nor_media_library(show: Show) -> None:
    assert _probe("gate", "--config", show.config_file, "--json", show.pkg)["code"] == 0
    # Once this user has validated the config (and the trust file is checked by hand), a gate
    # builds no pydantic model at all.
    probed = _probe("gate", "--config", show.config_file, "--json", show.pkg)
    assert probed["code"] == 0
    modules = set(probed["modules"])  # type: ignore[arg-type]
    assert "provenance.cli.commands.gate" in modules and "sqlalchemy" in modules  # it did run
    assert [m for m in (*UNUSED, "pydantic") if m in modules] == []
    assert not [t for t in probed["threads"] if str(t).startswith("reader-")]  # type: ignore[attr-defined]


def test_readers_start_when_a_file_needs_them(show: Show) -> None:
    plain_png(show.pkg / "plate.png")
    probed = _probe("gate", "--config", show.config_file, "--json", show.pkg)
    assert probed["code"] == 0
    assert "provenance.evidence.c2pa" in probed["modules"]  # type: ignore[operator]


def test_the_trust_file_is_parsed_once_per_gate(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    gen = ai_png(show.pkg / "gen.png")
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE})
    # Unchanged trust file and admin key: a process that already read it reads it no more...
    before = trust.parses
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and asset(report, "gen.png")["status"] == "approved", err
    assert trust.parses == before
    # ...and a changed one is read again, once, though the gate needs it four ways (capture
    # anchors, policy digest, the outside-the-package checks, the registry's signature).
    show.admin.trust_file.write_text(show.admin.trust_file.read_text() + "# edited\n")
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and asset(report, "gen.png")["status"] == "approved", err
    assert trust.parses == before + 1


def _tamper(show: Show) -> Path:
    """Hand-edit the signed registry (an artist adding a line): it no longer authenticates."""
    registry = show.config.effective_approvers_file
    registry.write_text(registry.read_text() + "# I approve of myself\n")
    return registry


def test_a_tampered_registry_is_not_read_when_nothing_needs_an_approval(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    registry = _tamper(show)
    plain_png(show.pkg / "plate.png")
    asked = registry_signature.ASKED[registry]
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and report["result"] == "clear" and report["fatal"] is None, err
    assert registry_signature.ASKED[registry] == asked  # nobody asked who may approve


def test_a_tampered_registry_leaves_a_gate_that_needs_it_undecided(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    gen = ai_png(show.pkg / "gen.png")
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE})
    plain_png(show.pkg / "plate.png")
    registry = _tamper(show)
    asked = registry_signature.ASKED[registry]
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 3 and report["result"] == "undecided", err
    assert registry_signature.ASKED[registry] > asked
    assert "edited after it was signed" in report["fatal"] and "edited after it was signed" in err
    gen_reasons = "\n".join(asset(report, "gen.png")["reasons"])
    assert "could not decide" in gen_reasons and "edited after it was signed" in gen_reasons
    assert "internal error" not in gen_reasons  # a refusal, said as one
    assert asset(report, "plate.png")["status"] == "clear"


def test_a_tampered_trust_file_leaves_even_a_plain_package_undecided(
        show: Show, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Every gate needs the trust file (its capture anchors decide how files are read).
    broken = tmp_path / "etc" / "trust.toml"
    broken.parent.mkdir()
    broken.write_text('admin_keys = ["admin.key.pub"\n')  # unterminated array
    monkeypatch.setenv(trust.TRUST_ENV, str(broken))
    plain_png(show.pkg / "plate.png")
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 3 and report["result"] == "undecided", err
    assert "invalid TOML in trust file" in err


def _fake_exiftool(folder: Path, version: str, calls: Path) -> Path:
    fake = folder / "exiftool"
    folder.mkdir(exist_ok=True)
    fake.write_text(f"#!/bin/sh\necho x >> {calls}\necho {version}\n")
    fake.chmod(0o755)
    return fake


def test_exiftool_is_asked_its_version_once_per_binary_not_once_per_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from provenance import private_state
    from provenance.evidence import digest

    calls = tmp_path / "calls"
    fake = _fake_exiftool(tmp_path / "bin", "99.01", calls)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")

    def run() -> str | None:  # a fresh process: nothing remembered in memory
        digest._exiftool_version.cache_clear()
        return digest.exiftool_identity()["version"]

    assert run() == "99.01" and run() == "99.01"
    assert calls.read_text().count("x") == 1  # the second run read the note
    # The note is believed only with its MAC: edited in place, it is asked again.
    note = private_state.private_dir() / digest._VERSIONS_NOTE
    note.write_bytes(note.read_bytes().replace(b"99.01", b"12.00"))
    assert run() == "99.01" and calls.read_text().count("x") == 2
    # An upgrade in place (another stat key) is another binary.
    _fake_exiftool(tmp_path / "bin", "99.02", calls)
    assert run() == "99.02" and calls.read_text().count("x") == 3


def test_the_readers_digest_reads_each_installed_version_as_importlib_metadata_does() -> None:
    from importlib.metadata import distributions

    from provenance.evidence.digest import _dist_version

    installed = {d.metadata["Name"]: d.version for d in distributions()}
    assert {"c2pa-python", "pyexiftool", "pypdf"} <= {n.lower() for n in installed}
    assert {name: _dist_version(name) for name in installed} == installed
    assert _dist_version("pyexiftool") == installed["PyExifTool"]  # names compared as PEP 503 says
    assert _dist_version("no-such-distribution") is None

"""The one walk (`provenance.walk`) and the drivers that use it, on real trees and real
processes: `inspect` (pipeline.iter_files) and `scan` (watch.reconcile). The gate's side:
tests/gate/test_walk_holes.py."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from provenance.ledger import Ledger
from provenance.pathtext import from_text, shown, to_text
from provenance.pipeline import iter_files
from provenance.walk import walk
from tests.gate.conftest import CONFIG, ai_png, plain_png
from tests.trees import DEPTH
from tests.unprivileged import PROVENANCE, Unprivileged

XMP = b'<?xpacket begin=""?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>'


def _show(top: Path) -> Path:
    root = top / "show"
    (root / ".provenance").mkdir(parents=True)
    (root / "provenance.toml").write_text(CONFIG.replace('approvers_file = "approvers.toml"\n', ""))
    return root


def _run(argv: list[str | Path], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_one_walk_order_relative_names_and_rules(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.png").write_bytes(b"z")
    (tmp_path / "a.exr").write_bytes(b"v/1\x01")
    (tmp_path / "a.exr.xmp").write_bytes(XMP)  # a genuine sidecar: skipped
    (tmp_path / "c.txt").write_bytes(b"c")
    (tmp_path / "skip.me").write_bytes(b"s")
    (tmp_path / "pruned").mkdir()
    (tmp_path / "pruned" / "hidden.png").write_bytes(b"h")
    os.symlink(tmp_path / "b", tmp_path / "link")  # a folder symlink: yielded, not followed
    found = list(walk([tmp_path], prune=lambda f: f.endswith("pruned"), skip=lambda f: f.endswith(".me")))
    assert [e.rel for e in found] == ["a.exr", "c.txt", "link", "b/z.png"]  # a folder's files first
    assert all(e.root == str(tmp_path) and e.problem is None for e in found)
    assert [e.path for e in found][-1] == str(tmp_path / "b" / "z.png")


def test_a_folder_1100_levels_deep_is_walked_without_recursion(deep: Path, tmp_path: Path) -> None:
    ai_png(deep / "ai.png")
    (found,) = list(walk([tmp_path / "deep"]))
    assert found.rel == "d/" * DEPTH + "ai.png" and found.path == str(deep / "ai.png")
    assert list(iter_files([tmp_path / "deep"])) == [deep / "ai.png"]


def test_fifos_named_like_sidecars_do_not_hang_inspect_or_scan(tmp_path: Path) -> None:
    root = _show(tmp_path)
    pkg = root / "final"
    ai_png(pkg / "x.png")
    plain_png(pkg / "y.png")
    for name in ("x.png.xmp", "x.png.approval.json", "y.png.c2pa", "y.xmp", "pipe.png"):
        os.mkfifo(pkg / name)
    inspected = _run([PROVENANCE, "inspect", "--json", pkg], cwd=root, timeout=120)
    assert inspected.returncode == 3, inspected.stderr  # the FIFOs are reported as unreadable
    by_name = {Path(v["path"]).name: v for v in json.loads(inspected.stdout)["verdicts"]}
    assert by_name["x.png"]["classification"] == "ai_generated"
    assert by_name["x.png.xmp"]["errors"] == ["not a regular file (a FIFO)"]
    assert by_name["pipe.png"]["errors"] == ["not a regular file (a FIFO)"]
    scanned = _run([PROVENANCE, "scan", "--json", pkg], cwd=root, timeout=120)
    assert scanned.returncode == 0, scanned.stderr  # a FIFO is no asset: never opened, not judged
    assert json.loads(scanned.stdout)["files"] == 2
    with Ledger.open(f"sqlite:///{root / '.provenance' / 'ledger.db'}") as ledger:
        assert sorted(Path(loc.path).name for loc in ledger.locations()) == ["x.png", "y.png"]


def test_an_unreadable_folder_is_reported_by_inspect_and_scan(unprivileged: Unprivileged) -> None:
    root = _show(unprivileged.home)
    (root / ".provenance").chmod(0o777)
    ai_png(root / "final" / "locked" / "ai.png")
    plain_png(root / "final" / "plain.png")
    (root / "final" / "locked").chmod(0)
    inspected = unprivileged.run([PROVENANCE, "inspect", "--json", "final"], cwd=root)
    assert inspected.returncode == 3, inspected.stderr
    by_name = {Path(v["path"]).name: v for v in json.loads(inspected.stdout)["verdicts"]}
    assert by_name["locked"]["errors"] == [
        "cannot read folder: Permission denied (nothing inside it was judged)"]
    scanned = unprivileged.run([PROVENANCE, "scan", "final"], cwd=root)
    assert scanned.returncode == 3, scanned.stdout + scanned.stderr
    assert f"could not read folder {root / 'final' / 'locked'}" in scanned.stderr


def test_scan_records_and_flags_an_ai_file_whose_name_is_not_utf8(tmp_path: Path) -> None:
    root = _show(tmp_path)
    (root / "final").mkdir()
    name = os.fsdecode(b"ai_\xff\xfe.png")
    ai_png(root / "final" / name)
    scanned = _run([PROVENANCE, "scan", "final"], cwd=root)
    assert scanned.returncode == 0, scanned.stderr
    with Ledger.open(f"sqlite:///{root / '.provenance' / 'ledger.db'}") as ledger:
        (loc,) = ledger.locations()
        assert loc.path == str(root / "final" / name)  # the same path the OS gave, byte for byte
        assert {f.rule for f in ledger.open_findings_at(loc.path)} >= {"temporary-material"}
        assert ledger.verify().ok
    inspected = subprocess.run([str(PROVENANCE), "inspect", "--json", "final"], cwd=root, capture_output=True,
                               timeout=120)
    (verdict,) = json.loads(inspected.stdout.decode("utf-8"))["verdicts"]  # valid UTF-8, lossless text form
    assert verdict["path"] == "final/ai_\\xff\\xfe.png" and from_text(verdict["path"]) == f"final/{name}"
    rescanned = _run([PROVENANCE, "scan", "final"], cwd=root)
    assert "0 judged, 1 unchanged" in rescanned.stdout  # found again under the same key
    listed = _run([PROVENANCE, "findings"], cwd=root)
    assert "ai_\\xff\\xfe.png" in listed.stdout


@pytest.mark.parametrize("raw", [b"plain.png", "été.png".encode(), b"ai_\xff\xfe.png", b"a\\b", b"a\\xff",
                                 b"a\\\\xff\xff", b"\\", b"new\nline", b"\x80"])
def test_path_text_is_lossless_and_valid_unicode(raw: bytes) -> None:
    path = os.fsdecode(raw)
    text = to_text(path)
    text.encode("utf-8")  # storable by SQLite, PostgreSQL and any JSON reader
    assert from_text(text) == path
    assert "\n" not in shown(path)


def test_path_text_is_injective_over_random_names() -> None:
    rng = random.Random(9)
    alphabet = [b"\\", b"x", b"f", b"8", b"a", b"\xff", b"\xc3\xa9", b"\xc3", b"/"]
    names = {b"".join(rng.choices(alphabet, k=rng.randint(0, 8))) for _ in range(20_000)}
    texts = {to_text(os.fsdecode(n)): n for n in names}
    assert len(texts) == len(names)
    assert all(os.fsencode(from_text(t)) == n for t, n in texts.items())

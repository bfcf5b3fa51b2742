"""What is sent is what was judged (issue 10 item 9).

A real writer process swaps one file of the package between clean and AI bytes every 20 ms
(by rename, as a render farm or a hostile artist would). Before: the gate read the clean
version, cleared the package, and rsync then sent the AI bytes. Now the hooks judge a frozen
staging copy and send that copy, and `provenance verify-delivery` on the receiving side proves
a delivery is exactly what the gate cleared.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.identify import sha256_file
from tests.gate.conftest import PROVENANCE, REPO, Show, ai_png, plain_png

HOOKS = REPO / "hooks"
pytestmark = pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync not installed")

SWAPPER = """
import os, sys, time
clean, ai, target, spare, stop = sys.argv[1:]
data = [open(clean, "rb").read(), open(ai, "rb").read()]
i = 0
while not os.path.exists(stop):
    tmp = os.path.join(spare, f"t{i}")
    with open(tmp, "wb") as fh:
        fh.write(data[i % 4 == 3])  # AI one swap in four, clean otherwise
    os.replace(tmp, target)
    i += 1
    time.sleep(0.02)
print(i)
"""


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PROVENANCE": str(PROVENANCE), **(env or {})})


@pytest.fixture
def swapping(show: Show, tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    """The package with shot.png being swapped; yields (package, clean sha256, AI sha256)."""
    side = tmp_path / "side"
    clean = plain_png(side / "clean.png", 3)
    ai = ai_png(side / "ai.png", 3)
    plain_png(show.pkg / "other.png", 4)
    shutil.copyfile(clean, show.pkg / "shot.png")
    spare = show.pkg.parent / ".spare"  # same filesystem as the package, outside it
    spare.mkdir()
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", SWAPPER, str(clean), str(ai), str(show.pkg / "shot.png"),
                               str(spare), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        yield show.pkg, sha256_file(clean), sha256_file(ai)
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=30)
        assert int(out) > 10, "the writer must really have been swapping"


def test_rsync_gated_sends_exactly_what_was_judged_while_a_file_is_swapped(
        show: Show, tmp_path: Path, swapping: tuple[Path, str, str]) -> None:
    pkg, clean_sha, _ = swapping
    cleared = 0
    for i in range(6):
        dest = tmp_path / f"vendor{i}"
        decision = tmp_path / f"decision{i}.json"
        env = {"PROVENANCE_GATE_ARGS": f"--config {show.config_file} --decision {decision}"}
        proc = run(HOOKS / "rsync-gated", "-a", f"{pkg}/", f"{dest}/", env=env)
        if proc.returncode != 0:
            assert proc.returncode == 1, proc.stderr  # the snapshot caught the AI bytes: blocked
            assert not dest.exists() or not list(dest.iterdir())
            continue
        cleared += 1
        assert sha256_file(dest / "shot.png") == clean_sha, "a cleared run delivered AI bytes"
        check = run(PROVENANCE, "verify-delivery", "--json", "--decision", decision, dest)
        assert check.returncode == 0, check.stdout + check.stderr
        time.sleep(0.01 * i)  # vary the phase against the writer
    assert cleared >= 1, "clean three quarters of the time: some runs must clear"


def test_verify_delivery_names_every_difference_from_the_decision(show: Show, tmp_path: Path) -> None:
    plain_png(show.pkg / "a.png", 1)
    plain_png(show.pkg / "sub" / "b.png", 2)
    decision = tmp_path / "decision.json"
    gate = run(PROVENANCE, "gate", "--config", show.config_file, "--decision", decision, show.pkg)
    assert gate.returncode == 0, gate.stderr
    dest = tmp_path / "in"
    subprocess.run(["rsync", "-a", f"{show.pkg}/", f"{dest}/"], check=True)

    def verify() -> tuple[int, dict]:
        proc = run(PROVENANCE, "verify-delivery", "--json", "--decision", decision, dest)
        return proc.returncode, json.loads(proc.stdout) if proc.stdout else {"stderr": proc.stderr}

    assert verify()[0] == 0
    ai_png(dest / "sub" / "b.png", 9)  # swapped on the way
    (dest / "a.png").unlink()
    plain_png(dest / "c.png", 3)  # never judged
    rc, doc = verify()
    assert rc == 1 and not doc["ok"]
    assert (doc["changed"], doc["missing"], doc["extra"]) == (["sub/b.png"], ["a.png"], ["c.png"])
    assert doc["inputs_digest"] != doc["expected_inputs_digest"]

    # An edited decision file (the swapped file's hash put in its list) is not a decision.
    edited = json.loads(decision.read_text())
    edited["files"][1]["sha256"] = sha256_file(dest / "sub" / "b.png")
    decision.write_text(json.dumps(edited))
    proc = run(PROVENANCE, "verify-delivery", "--decision", decision, dest)
    assert proc.returncode == 3 and "does not match its inputs_digest" in proc.stderr


def test_a_decision_that_was_not_clear_never_verifies(show: Show, tmp_path: Path) -> None:
    ai_png(show.pkg / "gen.png")
    decision = tmp_path / "decision.json"
    gate = run(PROVENANCE, "gate", "--config", show.config_file, "--decision", decision, show.pkg)
    assert gate.returncode == 1
    proc = run(PROVENANCE, "verify-delivery", "--decision", decision, show.pkg)
    assert proc.returncode == 1 and "not clear" in proc.stdout  # a result, on stdout


def test_pre_handoff_fails_loudly_when_the_package_changes_under_a_command_that_reads_it_itself(
        show: Show, tmp_path: Path) -> None:
    # The command finds its own files (no argument names the package), so it cannot be pointed
    # at the staged copy: the package is checked against the decision afterwards.
    plain_png(show.pkg / "shot.png")
    ai = ai_png(tmp_path / "ai.png")
    dest = tmp_path / "vendor"
    script = f"cp '{ai}' \"$PKG/shot.png\" && rsync -a \"$PKG/\" '{dest}/'"
    proc = run(HOOKS / "pre-handoff", "--config", show.config_file, show.pkg, "--", "sh", "-c", script,
               env={"PKG": str(show.pkg)})
    assert proc.returncode == 3, proc.stderr
    assert "changed while" in proc.stderr and "shot.png" in proc.stderr


def test_pre_handoff_points_the_command_at_the_staged_copy(show: Show, tmp_path: Path) -> None:
    plain_png(show.pkg / "shot.png")
    dest = tmp_path / "vendor"
    # The command echoes the path it was given: the staged copy, not the live package.
    proc = run(HOOKS / "pre-handoff", "--config", show.config_file, show.pkg, "--",
               "sh", "-c", 'echo "$1"; rsync -a "$1" "$2"', "sh", f"{show.pkg}/", f"{dest}/")
    assert proc.returncode == 0, proc.stderr
    sent_from = proc.stdout.strip()
    assert sent_from.endswith(f"/{show.pkg.name}/") and not sent_from.startswith(str(show.pkg))
    assert not Path(sent_from).exists(), "the staging copy is removed after the transfer"
    assert (dest / "shot.png").read_bytes() == (show.pkg / "shot.png").read_bytes()


@pytest.mark.parametrize("option", ["-R", "-avL", "--copy-links", "--relative"])
def test_rsync_gated_refuses_options_that_would_send_other_than_the_staged_copy(
        show: Show, tmp_path: Path, option: str) -> None:
    plain_png(show.pkg / "shot.png")
    proc = run(HOOKS / "rsync-gated", option, f"{show.pkg}/", f"{tmp_path / 'vendor'}/",
               env={"PROVENANCE_GATE_ARGS": f"--config {show.config_file}"})
    assert proc.returncode == 3 and "REFUSED" in proc.stderr and not (tmp_path / "vendor").exists()


def test_pre_handoff_as_a_pure_check_passes_an_unchanged_package(show: Show, tmp_path: Path) -> None:
    # `-- true` (Signiant's pre-transfer step): nothing names the package, nothing changes.
    plain_png(show.pkg / "shot.png")
    proc = run(HOOKS / "pre-handoff", "--config", show.config_file, show.pkg, "--", "true")
    assert proc.returncode == 0, proc.stderr


def test_without_staging_a_change_during_the_transfer_still_fails_the_hook(
        show: Show, tmp_path: Path) -> None:
    plain_png(show.pkg / "shot.png")
    ai = ai_png(tmp_path / "ai.png")
    dest = tmp_path / "vendor"
    proc = run(HOOKS / "pre-handoff", "--config", show.config_file, show.pkg, "--", "sh", "-c",
               f"cp '{ai}' '{show.pkg}/shot.png' && rsync -a '{show.pkg}/' '{dest}/'",
               env={"PROVENANCE_STAGING": "off"})
    assert proc.returncode == 3 and "changed while" in proc.stderr and "shot.png" in proc.stderr


def test_a_symlinked_package_root_is_staged_as_a_real_copy(show: Show, tmp_path: Path) -> None:
    plain_png(show.pkg / "shot.png")
    link = tmp_path / "EP101-link"
    link.symlink_to(show.pkg, target_is_directory=True)
    dest = tmp_path / "vendor"
    proc = run(HOOKS / "pre-handoff", "--config", show.config_file, link, "--",
               "sh", "-c", 'test -d "$1" && test ! -L "${1%/}" && rsync -a "$1" "$2"', "sh",
               f"{link}/", f"{dest}/")
    assert proc.returncode == 0, proc.stderr
    assert (dest / "shot.png").read_bytes() == (show.pkg / "shot.png").read_bytes()


def test_a_signed_decision_verifies_only_with_its_key(show: Show, tmp_path: Path) -> None:
    plain_png(show.pkg / "a.png")
    key, other = tmp_path / "gate.key", tmp_path / "other.key"
    for k in (key, other):
        assert run(PROVENANCE, "keys", "new", "--out", k).returncode == 0
    decision = tmp_path / "decision.json"
    gate = run(PROVENANCE, "gate", "--config", show.config_file, "--decision", decision,
               "--decision-key", key, show.pkg)
    assert gate.returncode == 0, gate.stderr
    dest = tmp_path / "in"
    subprocess.run(["rsync", "-a", f"{show.pkg}/", f"{dest}/"], check=True)

    def verify(*extra: str | Path) -> subprocess.CompletedProcess[str]:
        return run(PROVENANCE, "verify-delivery", "--decision", decision, *extra, dest)

    ok = verify("--public-key", f"{key}.pub")
    assert ok.returncode == 0 and "signed by the given key" in ok.stdout, ok.stderr
    wrong = verify("--public-key", f"{other}.pub")
    assert wrong.returncode == 3 and "does not verify" in wrong.stderr
    # An unsigned file (here: the signed content, unwrapped and edited) is refused when a key is given.
    envelope = json.loads(decision.read_text())
    content = json.loads(base64.b64decode(envelope["payload"]))
    decision.write_text(json.dumps(content))
    unsigned = verify("--public-key", f"{key}.pub")
    assert unsigned.returncode == 3 and "not signed" in unsigned.stderr

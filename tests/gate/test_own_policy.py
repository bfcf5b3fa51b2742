"""A package cannot bring its own policy (issue 10 item 3).

The gate never takes its configuration, approvers or trust from inside (or below) the paths it
judges: each variant here is run through the real hook (`hooks/pre-handoff`), the real CLI and
real files, and must end undecided (exit 3) with the reason, the transfer never run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from provenance.approvals import ApproverRegistry, registry_signature, sign_approval, write_portable
from provenance.approvals.keys import load_private, new_keypair
from provenance.config import load_config
from provenance.identify import sha256_file
from provenance.ledger import Ledger
from provenance.model import Classification, Evidence, Scope, Signal, Verdict, Zone
from tests.gate.conftest import PROVENANCE, REPO, Show, ai_png

HOOK = REPO / "hooks" / "pre-handoff"


def hook(cwd: Path, *args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`pre-handoff ARGS -- touch SENT` run from `cwd`; the marker says whether the transfer ran."""
    return subprocess.run([str(HOOK), *map(str, args), "--", "touch", str(cwd / "SENT")], cwd=cwd,
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PROVENANCE": str(PROVENANCE), **(env or {})})


def refused(proc: subprocess.CompletedProcess[str], cwd: Path, *needles: str) -> None:
    assert proc.returncode == 3, proc.stderr
    assert not (cwd / "SENT").exists(), "the transfer ran"
    assert "APPROVED" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, f"{needle!r} not in:\n{proc.stderr}"


def self_approved_package(pkg: Path) -> Path:
    """A package with its own provenance.toml, its own approvers file naming the artist's key as
    "Legal" (signed with that key, too), and an approval of its AI image signed by that key."""
    gen = ai_png(pkg / "gen.png")
    (pkg / "provenance.toml").write_text('[ledger]\nurl = "sqlite:///.provenance/ledger.db"\n'
                                         '[approvals]\napprovers_file = "approvers.toml"\n')
    key = pkg / ".keys" / "legal.key"
    new_keypair(key)
    pem = Path(f"{key}.pub").read_text().strip()
    text = (f'show = "show"\nversion = 99\n\n[[approvers]]\nname = "Legal"\nemail = "legal@studio.example"\n'
            f'scopes = ["final-deliverable"]\npublic_key = """\n{pem}\n"""\n')
    (pkg / "approvers.toml").write_text(text)
    registry_signature.signature_path(pkg / "approvers.toml").write_text(
        json.dumps(registry_signature.sign(text.encode(), [load_private(key)])))
    own = ApproverRegistry.parse(pkg / "approvers.toml", text)
    envelope, _ = sign_approval(load_private(key), own, subject_name=gen.name, sha256=sha256_file(gen),
                                scopes={Scope.FINAL_DELIVERABLE}, reference="LEGAL-1")
    write_portable(gen, envelope, sha256_file(gen), load_config(pkg / "provenance.toml"))
    return gen


def test_a_package_with_its_own_config_approvers_and_approval_is_refused(tmp_path: Path,
                                                                         exiftool_available: None) -> None:
    pkg = tmp_path / "incoming" / "EP101"
    self_approved_package(pkg)
    proc = hook(pkg, ".")
    refused(proc, pkg, "configuration is inside", "a package cannot bring its own policy")


def test_a_package_config_that_forgets_the_shows_ledger_is_refused(show: Show) -> None:
    # The show's ledger remembers these bytes as AI (their sidecar stayed behind on the show);
    # a package config pointing at a fresh ledger would forget that and clear them.
    plate = show.pkg / "plate_v002.exr"
    shutil.copy(REPO / "sample_assets/show/working/plates/plate.exr", plate)
    seen = Verdict(path="/show/work/plate_v002.exr", sha256=sha256_file(plate), format="exr", size=10,
                   classification=Classification.AI_GENERATED,
                   evidence=(Evidence("xmp-sidecar", "DigitalSourceType", "trainedAlgorithmicMedia",
                                      Signal.AI_GENERATED),))
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        ledger.record_verdict(seen, None, Zone.WORKING)
    (show.pkg / "provenance.toml").write_text('[ledger]\nurl = "sqlite:///fresh.db"\n')
    refused(hook(show.pkg, "."), show.pkg, "configuration is inside")
    # The same package judged with the show's own configuration (outside it) is blocked.
    (show.pkg / "provenance.toml").unlink()
    proc = hook(show.pkg, ".")
    assert proc.returncode == 1 and not (show.pkg / "SENT").exists(), proc.stderr


def test_a_config_below_the_judged_folder_is_refused(tmp_path: Path, exiftool_available: None) -> None:
    pkg = tmp_path / "incoming" / "EP101"
    self_approved_package(pkg / "reel1")
    proc = hook(pkg / "reel1", "..")  # run from the sub-folder that holds the config; judge the package
    refused(proc, pkg / "reel1", "configuration is inside")


def test_provenance_config_pointing_into_the_package_is_refused(tmp_path: Path,
                                                                exiftool_available: None) -> None:
    pkg = tmp_path / "incoming" / "EP101"
    self_approved_package(pkg)
    outside = tmp_path / "transfer-host"
    outside.mkdir()
    proc = hook(outside, pkg, env={"PROVENANCE_CONFIG": str(pkg / "provenance.toml")})
    refused(proc, outside, "configuration is inside")
    refused(hook(outside, "--config", pkg / "provenance.toml", pkg), outside, "configuration is inside")


def test_a_show_config_naming_approvers_inside_the_package_is_refused(show: Show) -> None:
    self_approved_package(show.pkg)
    (show.pkg / "provenance.toml").unlink()
    show.config_file.write_text(show.config_file.read_text().replace(
        'approvers_file = "approvers.toml"', 'approvers_file = "deliveries/EP101/approvers.toml"'))
    proc = hook(show.root, "--config", show.config_file, show.pkg)
    refused(proc, show.root, "approvers registry is inside")


def test_a_symlink_to_the_package_does_not_hide_its_config(tmp_path: Path, exiftool_available: None) -> None:
    pkg = tmp_path / "incoming" / "EP101"
    self_approved_package(pkg)
    link = tmp_path / "link"
    link.symlink_to(pkg)
    proc = hook(link, ".")
    refused(proc, link, "configuration is inside")


def _gate(show: Show) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROVENANCE), "gate", "--config", str(show.config_file), str(show.pkg)],
                          capture_output=True, text=True, timeout=180)


def test_a_config_others_could_change_does_not_decide(show: Show) -> None:
    """The show's config chooses the policy (strict or not, approvals needed, readers, ledger):
    one on group-writable storage is the artists' policy. Refused like OpenSSH's StrictModes."""
    ai_png(show.pkg / "gen.png")
    assert _gate(show).returncode == 1  # protected: it decides (blocked)
    show.config_file.chmod(0o664)
    proc = _gate(show)
    assert proc.returncode == 3 and "writable by its group" in proc.stderr, proc.stderr
    show.config_file.chmod(0o644)
    show.root.chmod(0o777)  # the file is safe, but its folder lets anyone replace it
    proc = _gate(show)
    assert proc.returncode == 3 and f"its folder {show.root} is writable by others" in proc.stderr
    show.root.chmod(0o755)
    os.chown(show.config_file, 65534, 65534)  # another user's file
    proc = _gate(show)
    assert proc.returncode == 3 and "owned by uid 65534" in proc.stderr


def test_a_shows_config_cannot_switch_off_the_gates_readers(show: Show) -> None:
    """`[inspect] readers` narrows inspect and the daemon, never the gate."""
    ai_png(show.pkg / "gen.png")
    show.config_file.write_text(show.config_file.read_text() + '[inspect]\nreaders = ["sidecar"]\n')
    proc = _gate(show)
    assert proc.returncode == 1 and "gen.png" in proc.stdout + proc.stderr

"""Who may approve is decided by the production's admin keys pinned on the gate's host (issue 13.1).

An artist can write the show folder, so each way they could make themselves an approver — edit
the registry by hand, re-sign it with a key of their own, put an old version back, strip its
signature — must leave the gate undecided (exit 3) with its own reason, and their approval
must never clear. The real CLI, real keys, real files; the trust file is a temp file
(PROVENANCE_TRUST, tests/conftest.py), never /etc.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from provenance.approvals import ApproverRegistry, registry_signature, sign_approval, write_portable
from provenance.approvals.keys import load_private, new_keypair
from provenance.cli import main
from provenance.identify import sha256_file
from provenance.model import Scope
from tests.gate.conftest import Show, ai_png, asset


def undecided_because(show: Show, capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 3 and report["result"] == "undecided", err
    for needle in needles:
        assert needle in report["fatal"] and needle in err, f"{needle!r} not in {report['fatal']!r}"
    return report["fatal"]


@pytest.fixture
def gen(show: Show) -> Path:
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    return ai_png(show.pkg / "gen.png")


def _mallory(show: Show) -> tuple[Path, str]:
    """The artist's own key, and the [[approvers]] block naming it as Legal would be named."""
    key = show.root / "keys" / "mallory.key"
    new_keypair(key)
    pem = Path(f"{key}.pub").read_text().strip()
    block = (f'\n[[approvers]]\nname = "Legal Dept"\nemail = "legal@studio.example"\n'
             f'scopes = ["final-deliverable"]\npublic_key = """\n{pem}\n"""\n')
    return key, block


def _self_approve(show: Show, gen: Path, key: Path) -> None:
    """Mallory signs an approval of her own asset against the registry as she edited it."""
    own = ApproverRegistry.parse(show.config.effective_approvers_file,
                                 show.config.effective_approvers_file.read_text())
    envelope, _ = sign_approval(load_private(key), own, subject_name=gen.name, sha256=sha256_file(gen),
                                scopes={Scope.FINAL_DELIVERABLE}, reference="SELF-1")
    write_portable(gen, envelope, sha256_file(gen), show.config)


def test_a_signed_registry_clears_an_approved_asset(show: Show, gen: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE})
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and asset(report, "gen.png")["status"] == "approved", err


def test_an_artist_who_edits_the_registry_by_hand_is_refused(show: Show, gen: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    key, block = _mallory(show)
    registry = show.config.effective_approvers_file
    registry.write_text(registry.read_text() + block)
    _self_approve(show, gen, key)
    undecided_because(show, capsys, "approvers.toml was edited after it was signed")
    # Nor can the edited registry be used to sign: `approve` refuses it too.
    rc = main(["approve", str(gen), "--scope", "final-deliverable", "--ref", "X", "--key", str(key),
               "--config", str(show.config_file)])
    assert rc == 3 and "edited after it was signed" in capsys.readouterr().err


def test_an_artist_who_re_signs_the_registry_with_their_own_key_is_refused(
        show: Show, gen: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, block = _mallory(show)
    registry = show.config.effective_approvers_file
    edited = (registry.read_text() + block).encode()
    registry.write_bytes(edited)
    sig = registry_signature.sign(edited, [load_private(key)])
    registry_signature.signature_path(registry).write_text(json.dumps(sig))
    _self_approve(show, gen, key)
    undecided_because(show, capsys, "which is not one of the 1 admin key(s) pinned in",
                      str(show.admin.trust_file))


def test_an_admin_signature_moved_onto_edited_bytes_is_refused(show: Show, gen: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    key, block = _mallory(show)
    registry = show.config.effective_approvers_file
    sig_file = registry_signature.signature_path(registry)
    envelope = json.loads(sig_file.read_text())
    edited = (registry.read_text() + block).encode()
    registry.write_bytes(edited)
    envelope["payload"] = base64.b64encode(edited).decode()  # the admin's signature, new bytes
    sig_file.write_text(json.dumps(envelope))
    _self_approve(show, gen, key)
    undecided_because(show, capsys, "does not verify: the signed registry was altered after it was signed")


def test_an_old_registry_copied_back_is_a_rollback(show: Show, gen: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE})
    registry = show.config.effective_approvers_file
    sig_file = registry_signature.signature_path(registry)
    old = registry.read_bytes(), sig_file.read_bytes()  # version 2: Legal active
    show.revoke("Legal")  # version 3
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and "was revoked" in "\n".join(asset(report, "gen.png")["reasons"])
    registry.write_bytes(old[0])
    sig_file.write_bytes(old[1])
    undecided_because(show, capsys, "rollback refused: this is version 2", "already accepted version 3")


def test_an_unsigned_registry_is_undecided_until_migrated(show: Show, gen: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE})
    registry = show.config.effective_approvers_file
    unsigned = tmp_path / "old-approvers.toml"
    # An approvers file from before signing: no show, no version, no signature.
    text = "".join(ln + "\n" for ln in registry.read_text().splitlines()
                   if not ln.startswith(("show =", "version =")))
    unsigned.write_text(text)
    registry.unlink()
    registry_signature.signature_path(registry).unlink()
    shutil.copy(unsigned, registry)
    undecided_because(show, capsys, "the approvers registry is not signed", "approvers init")

    # Migration: an admin signs the existing file once; approvals made under it clear again.
    registry.unlink()
    rc = main(["approvers", "init", "--admin-key", str(show.admin.key_file), "--from", str(unsigned),
               "--show", "migrated", "--config", str(show.config_file)])
    assert rc == 0, capsys.readouterr().err
    signed = ApproverRegistry.load(show.config)
    assert (signed.show, signed.version, [a.name for a in signed.approvers]) == ("migrated", 1, ["Legal"])
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and asset(report, "gen.png")["status"] == "approved", err


def test_without_a_trust_file_nothing_is_trusted(show: Show, gen: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE})
    monkeypatch.setenv("PROVENANCE_TRUST", str(tmp_path / "nowhere" / "trust.toml"))
    undecided_because(show, capsys, "no trust file")
    # --trust FILE names it explicitly (the same as $PROVENANCE_TRUST).
    rc = main(["gate", "--trust", str(show.admin.trust_file), "--config", str(show.config_file),
               str(show.pkg)])
    assert rc == 0, capsys.readouterr().err


def test_the_shows_config_cannot_name_the_trust_root(show: Show, gen: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # A trust file inside the show tree is one an artist could write: refused, even when pinned.
    inside = show.root / "trust.toml"
    shutil.copy(show.admin.trust_file, inside)
    (show.root / "admin.key.pub").write_bytes(Path(f"{show.admin.key_file}.pub").read_bytes())
    monkeypatch.setenv("PROVENANCE_TRUST", str(inside))
    undecided_because(show, capsys, "trust file is inside", "outside the show tree")


def test_a_registry_needs_the_hosts_threshold_of_admin_signatures(
        show: Show, gen: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE})
    second = tmp_path / "etc" / "admin2.key"
    new_keypair(second)
    trust = tmp_path / "etc" / "trust.toml"
    trust.write_text(f'admin_keys = ["{show.admin.key_file}.pub", "admin2.key.pub"]\nthreshold = 2\n')
    monkeypatch.setenv("PROVENANCE_TRUST", str(trust))
    undecided_because(show, capsys, "signed by 1 admin key(s); the trust root needs 2")
    # Two admins sign the next version: it verifies again.
    registry = ApproverRegistry.from_file(show.config.effective_approvers_file,
                                          trust=_one_key_trust(show))
    registry.add("Other", "o@studio.example", load_private(second).public_key(),
                 frozenset({Scope.FINAL_DELIVERABLE}), admin=[show.admin.key, load_private(second)])
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and asset(report, "gen.png")["status"] == "approved", err


def _one_key_trust(show: Show):  # the session's own trust root, read while another one is pinned
    from provenance.approvals.trust import load_trust

    return load_trust(show.admin.trust_file)


def test_approvers_init_threshold_needs_that_many_admin_keys(show: Show,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    config = str(show.config_file)
    rc = main(["approvers", "init", "--admin-key", str(show.admin.key_file), "--threshold", "2",
               "--config", config])
    assert rc == 3 and "needs 2 admin signatures; 1 --admin-key given" in capsys.readouterr().err
    assert not show.config.effective_approvers_file.exists()  # nothing half-written


def test_the_watchers_judge_keeps_the_finding_open_under_an_edited_registry(
        show: Show, gen: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`scan` judges with the daemon's worker: a self-approval under a hand-edited registry must
    not close the AI file's finding (the worker must not crash on the registry either)."""
    from provenance.ledger import Ledger

    final = show.root / "final"
    mine = ai_png(final / "mine.png", seed=7)
    key, block = _mallory(show)
    registry = show.config.effective_approvers_file
    registry.write_text(registry.read_text() + block)
    _self_approve(show, mine, key)
    rc = main(["scan", "--config", str(show.config_file), str(final)])
    assert rc == 3, capsys.readouterr().err  # could not decide, and says why
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        findings = ledger.open_findings()
    assert {f.path.rsplit("/", 1)[-1] for f in findings} == {"mine.png"}
    assert any("edited after it was signed" in f.message for f in findings), [f.message for f in findings]


def test_an_approver_key_kept_in_a_separate_file_is_refused(show: Show, gen: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The signature covers the registry's bytes, not a key file it points to: whoever can write
    that file would choose whose approvals verify. Refused when signing and when verifying."""
    from provenance.errors import TrustError

    registry = show.config.effective_approvers_file
    by_path = (f'show = "show"\nversion = 9\n\n[[approvers]]\nname = "Legal"\nemail = "l@studio.example"\n'
               f'scopes = ["final-deliverable"]\npublic_key = "{show.keys["Legal"]}.pub"\n')
    with pytest.raises(TrustError, match="names a public key file"):
        ApproverRegistry.parse(registry, registry.read_text())._signed(by_path, [show.admin.key], None)
    # Signed anyway, by the real admin key, outside our tools: the gate still refuses it.
    registry.write_text(by_path)
    registry_signature.signature_path(registry).write_text(
        json.dumps(registry_signature.sign(by_path.encode(), [show.admin.key])))
    undecided_because(show, capsys, "approver 'Legal' names a public key file")


def _pin_shows(show: Show, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shows: dict[str, Path]) -> None:
    """A host trust file with the session's admin key and a [shows] table."""
    host = tmp_path / "etc-pinned"
    host.mkdir()
    trust = host / "trust.toml"
    table = "".join(f'"{name}" = "{root}"\n' for name, root in shows.items())
    trust.write_text(f'admin_keys = ["{show.admin.trust_file.parent / "admin.key.pub"}"]\n[shows]\n{table}')
    monkeypatch.setenv("PROVENANCE_TRUST", str(trust))


def test_a_registry_copied_from_another_show_of_the_same_admin_is_refused(
        show: Show, gen: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One admin key signs the registries of two shows. Show B's artist copies show A's signed
    registry (naming A's approver Legal) into B, and Legal's approval of an asset of B clears
    there — unless the host pins each show's registry to its folder."""
    other = tmp_path / "show-b"
    (other / "deliveries" / "EP201").mkdir(parents=True)
    shutil.copy(show.config_file, other / "provenance.toml")
    registry = show.config.effective_approvers_file
    for f in (registry, registry_signature.signature_path(registry)):
        shutil.copy(f, other / f.name)
    show_b = Show(other, other / "deliveries" / "EP201", show.admin, show.keys)
    b_gen = ai_png(show_b.pkg / "b_gen.png")
    show_b.approve(b_gen, "Legal", {Scope.FINAL_DELIVERABLE})
    rc, _, _ = show_b.gate(show_b.pkg, capsys=capsys)
    assert rc == 0  # what an unpinned host believes: the reason to pin

    _pin_shows(show, tmp_path, monkeypatch, {"show": show.root, "Show B": other})
    fatal = undecided_because(show_b, capsys, "signed for show 'show'", "outside it")
    assert str(show.root) in fatal
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE})
    rc, report, err = show.gate(show.pkg, capsys=capsys)  # in its own folder it still verifies
    assert rc == 0 and asset(report, "gen.png")["status"] == "approved", err


def test_a_registry_naming_a_show_the_host_does_not_list_is_refused(
        show: Show, gen: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _pin_shows(show, tmp_path, monkeypatch, {"Show B": tmp_path / "show-b"})
    undecided_because(show, capsys, "does not list")

"""`provenance untag`: a signed, recorded retraction of a mistaken tag (issue 14)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provenance.approvals import ApproverRegistry, dsse
from provenance.approvals.keys import key_id, load_private, load_public, new_keypair
from provenance.approvals.retraction import PAYLOAD_TYPE, STATEMENT_TYPE, honour
from provenance.cli import main
from provenance.config import load_config
from provenance.errors import EXIT_BLOCKED, EXIT_OK, EXIT_UNDECIDED
from provenance.identify import sha256_file
from provenance.identity import SigningIdentity
from provenance.ledger import Ledger
from provenance.model import Scope, Signal
from provenance.tagging.c2pa_sign import read_store
from provenance.tagging.essence import essence_digest
from tests.conftest import Admin


def cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().out


@pytest.fixture
def show(tmp_path: Path, admin: Admin, capsys: pytest.CaptureFixture[str]) -> dict[str, Path]:
    """A show with a signed registry holding one approver; an artist's key that is not in it."""
    root = tmp_path / "show"
    root.mkdir()
    assert main(["init", str(root)]) == 0
    config = root / "provenance.toml"
    approver, artist = tmp_path / "legal.key", tmp_path / "artist.key"
    new_keypair(approver)
    new_keypair(artist)
    admin.add(load_config(config).effective_approvers_file, "J. Doe",
              load_public(Path(f"{approver}.pub")), {Scope.FINAL_DELIVERABLE})
    return {"root": root, "config": config, "approver": approver, "artist": artist}


def xmp_tags(path: Path) -> dict[str, Any]:
    out = subprocess.run(["exiftool", "-j", "-G1", "-XMP:all", str(path)], capture_output=True,
                         text=True, check=True).stdout
    return dict(json.loads(out)[0])


def inspect(capsys: pytest.CaptureFixture[str], show: dict[str, Path], path: Path) -> dict[str, Any]:
    code, out = cli(capsys, "inspect", "--json", "--config", show["config"], path)
    assert code == EXIT_OK, out
    return dict(json.loads(out)["verdicts"][0])


def test_a_mistaken_tag_is_withdrawn_signed_recorded_and_removed(
        show: dict[str, Path], media: Callable[..., Path], capsys: pytest.CaptureFixture[str],
        exiftool_available: None) -> None:
    plate = media("jpeg")  # a camera plate, tagged by mistake
    untouched = sha256_file(plate)
    pixels = essence_digest(plate, "jpeg")
    code, _ = cli(capsys, "tag", "--generated", "--tool", "Firefly", "--no-c2pa", "--config",
                  show["config"], plate)
    assert code == EXIT_OK
    tagged = sha256_file(plate)
    assert inspect(capsys, show, plate)["classification"] == "ai_generated"

    # The artists' own key (not an approver) cannot retract: nothing changes. Exit 3, as for
    # `approve` with a key that may not sign (the command could not do it; README's table).
    code, _ = cli(capsys, "untag", "--reason", "wrong file", "--key", show["artist"], "--config",
                  show["config"], plate)
    assert code == EXIT_UNDECIDED and sha256_file(plate) == tagged

    code, out = cli(capsys, "untag", "--reason", "wrong plate tagged", "--key", show["approver"],
                    "--json", "--config", show["config"], plate)
    assert code == EXIT_OK, out
    row = json.loads(out)["results"][0]
    assert row["outcome"] == "withdrawn" and row["approver"] == "J. Doe"
    assert row["removed"] == ["xmp"] and row["classification_now"] == "unknown"
    # inspect still shows the history: the withdrawal, by whom and why (never a signal).
    shown_now = inspect(capsys, show, plate)
    assert shown_now["classification"] == "unknown"
    said = " ".join(m["statement"] for m in shown_now["memory"])
    assert "withdrawn by J. Doe" in said and "wrong plate tagged" in said, said
    tags = xmp_tags(plate)
    assert not [k for k in tags if k.startswith(("XMP-provenance:", "XMP-iptcExt:"))], tags
    assert essence_digest(plate, "jpeg") == pixels
    now = sha256_file(plate)

    config = load_config(show["config"])
    with Ledger.open(config.effective_ledger_url) as ledger:
        def ai_recalled(sha: str) -> bool:
            got = ledger.recall_many([sha]).get(sha)
            return got is not None and any(e.signal is Signal.AI_GENERATED for e in got.evidence)

        # Memory honours only retractions it can authenticate: none without the registry.
        assert ai_recalled(untouched) and ai_recalled(tagged)
        ledger.retractions = honour(ApproverRegistry.load(config))
        memory = ledger.recall_many([untouched, tagged, now])
        # Nothing recalls AI for any of these bytes, and the withdrawal is visible.
        for sha in (untouched, tagged):
            ev = memory[sha].evidence
            assert not [e for e in ev if e.signal in (Signal.AI_GENERATED, Signal.AI_EDITED)]
            assert any(e.field == "withdrawn tag" and "J. Doe" in e.value
                       and "wrong plate tagged" in e.value for e in ev)
        assert untouched not in {s for s, m in memory.items()
                                 if any(e.signal is Signal.AI_GENERATED for e in m.evidence)}
        # History is kept: the tag event is still in the chain, and the chain verifies.
        with ledger.engine.connect() as conn:
            kinds = [r[0] for r in conn.exec_driver_sql("SELECT kind FROM events ORDER BY id")]
        # (fingerprint events of the rewritten file may follow the untag)
        assert "tag" in kinds and "untag" in kinds and kinds.index("untag") > kinds.index("tag")
        envelope = json.loads(conn_payload(ledger))["envelope"]
        assert envelope["payloadType"] == "application/vnd.provenance.retraction+json"
        # Anyone who can write the database can append a well-chained untag; an envelope not
        # signed by an approver (the artist's key here) withdraws nothing.
        other = media("png", "other.png")
        assert cli(capsys, "tag", "--generated", "--tool", "X", "--no-c2pa", "--config",
                   show["config"], other)[0] == EXIT_OK
        forged_sha = sha256_file(other)
        tag_event = ledger.recorded_tags(forged_sha)[0]
        withdrawn = {forged_sha: [tag_event["id"]]}
        statement = json.dumps({"_type": STATEMENT_TYPE, "tag_event": tag_event["id"],
                                "sha256": forged_sha, "withdrawn": withdrawn}).encode()
        artist = load_private(show["artist"])
        ledger.record_untag(str(other), forged_sha, {
            "tag_event": tag_event["id"], "withdrawn": withdrawn, "reason": "sneak", "approver": "J. Doe",
            "envelope": dsse.sign(artist, statement, key_id(artist.public_key()), PAYLOAD_TYPE)})
        assert ai_recalled(forged_sha)
    code, out = cli(capsys, "ledger", "verify", "--config", show["config"])
    assert code == EXIT_OK, out
    # A retraction withdraws a tag once; there is nothing left to withdraw.
    code, out = cli(capsys, "untag", "--reason", "again", "--key", show["approver"], "--config",
                    show["config"], plate)
    assert code == EXIT_BLOCKED and "no `provenance tag`" in out


def conn_payload(ledger: Ledger) -> str:
    with ledger.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT payload FROM events WHERE kind = 'untag'").one()
    return row[0] if isinstance(row[0], str) else json.dumps(row[0])


def test_untag_never_removes_a_generators_own_evidence(
        show: dict[str, Path], corpus_dir: Path, capsys: pytest.CaptureFixture[str],
        exiftool_available: None) -> None:
    # The attack: tag AI material, untag it, hope it reads clean. The A1111 parameters stay.
    png = show["root"] / "sd.png"
    shutil.copyfile(corpus_dir / "d10_sd-webui.png", png)
    assert cli(capsys, "tag", "--generated", "--tool", "SD", "--no-c2pa", "--config",
               show["config"], png)[0] == EXIT_OK
    code, out = cli(capsys, "untag", "--reason", "not AI, honest", "--key", show["approver"],
                    "--json", "--config", show["config"], png)
    assert code == EXIT_OK, out
    row = json.loads(out)["results"][0]
    assert row["removed"] == ["xmp"] and row["classification_now"] == "ai_generated"
    assert inspect(capsys, show, png)["classification"] == "ai_generated"
    assert "Parameters" in subprocess.run(["exiftool", "-G1", "-s", str(png)], text=True,
                                              capture_output=True, check=True).stdout


def test_our_c2pa_manifest_and_a_sidecar_are_removed(
        show: dict[str, Path], media: Callable[..., Path], signing_identity: SigningIdentity,
        capsys: pytest.CaptureFixture[str]) -> None:
    jpeg, png, exr = media("jpeg"), media("png"), media("exr")
    pixels = essence_digest(png, "png")
    code, out = cli(capsys, "tag", "--edited", "--tool", "Nuke", "--cert", signing_identity.chain_path,
                    "--key", signing_identity.key_path, "--config", show["config"], jpeg, png, exr)
    assert code == EXIT_OK, out
    assert read_store(jpeg, "image/jpeg") is not None and read_store(png, "image/png") is not None
    assert Path(f"{exr}.xmp").is_file()
    exr_bytes = exr.read_bytes()
    code, out = cli(capsys, "untag", "--reason", "not ours", "--key", show["approver"], "--json",
                    "--config", show["config"], jpeg, png, exr)
    assert code == EXIT_OK, out
    rows = {Path(r["path"]).name: r for r in json.loads(out)["results"]}
    assert rows[jpeg.name]["removed"] == ["xmp", "c2pa"]
    assert rows[png.name]["removed"] == ["xmp", "c2pa"] and rows[png.name]["classification_now"] == "unknown"
    assert read_store(jpeg, "image/jpeg") is None and read_store(png, "image/png") is None
    assert essence_digest(png, "png") == pixels
    assert rows[exr.name]["removed"] == ["sidecar"] and not Path(f"{exr}.xmp").exists()
    assert exr.read_bytes() == exr_bytes
    assert inspect(capsys, show, jpeg)["classification"] == "unknown"


def test_a_c2pa_history_beside_ours_is_kept_whole(
        show: dict[str, Path], sample: Callable[[str], Path], signing_identity: SigningIdentity,
        capsys: pytest.CaptureFixture[str]) -> None:
    # A generator's signed manifest, then our tag on top: removing ours would drop its history
    # (or, XMP alone, break its signature), so the file stays exactly as it is.
    path = sample("show/working/generated/c2pa_generated.jpg")
    code, out = cli(capsys, "tag", "--generated", "--tool", "Gen", "--cert", signing_identity.chain_path,
                    "--key", signing_identity.key_path, "--config", show["config"], path)
    assert code == EXIT_OK, out
    tagged = path.read_bytes()
    code, out = cli(capsys, "untag", "--reason", "oops", "--key", show["approver"], "--json",
                    "--config", show["config"], path)
    assert code == EXIT_OK, out
    row = json.loads(out)["results"][0]
    assert row["removed"] == [] and "history" in row["kept"][0]
    assert path.read_bytes() == tagged and row["classification_now"] == "ai_generated"
    assert inspect(capsys, show, path)["c2pa"]["integrity"] == "ok"

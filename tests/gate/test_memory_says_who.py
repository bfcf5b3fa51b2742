"""The ledger records who tagged (the OS account, and the C2PA identity when it signed), and
every output's memory statement says it: "… tagged at PATH by USER (C2PA-signed as …), WHEN"
(issue 9)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.identity import SigningIdentity
from provenance.ledger import Ledger
from tests.gate.conftest import Show, asset, plain_png

ME = pwd.getpwuid(os.geteuid()).pw_name


def test_a_signed_tag_is_remembered_by_user_and_signer_in_text_json_and_html(
        show: Show, signing_identity: SigningIdentity, capsys: pytest.CaptureFixture[str],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matte = plain_png(show.root / "working" / "gen" / "matte.png")
    copy = show.pkg / "matte_copy.png"
    shutil.copyfile(matte, copy)  # the untagged original's bytes, about to reach a delivery
    monkeypatch.setenv("USER", "someone-else")  # the account counts, not what $USER claims
    monkeypatch.setenv("LOGNAME", "someone-else")
    assert main(["tag", "--config", str(show.config_file), "--edited", "--tool", "Runway Gen-4",
                 "--cert", str(signing_identity.chain_path), "--key", str(signing_identity.key_path),
                 str(matte)]) == 0
    signer = signing_identity.subject()
    assert "Test Studio" in signer  # the leaf's common name, from the identity that signed
    who = f"by {ME} (C2PA-signed as {signer}), "

    html = tmp_path / "gate.html"
    rc, report, err = show.gate("--html", str(html), show.pkg, capsys=capsys)
    assert rc == 1
    said = asset(report, "matte_copy.png")["memory"][0]
    assert said.startswith(f"the ledger remembers these bytes as ai_edited (tagged at {matte} {who}")
    assert "someone-else" not in said
    assert f"from memory: {said}" in err  # text
    # The HTML report names paths relative to the show (it is sent out): the same statement so.
    assert said.replace(f"{show.root}/", "") in html.read_text()
    capsys.readouterr()
    assert main(["inspect", "--json", "--config", str(show.config_file), str(copy)]) == 0
    assert json.loads(capsys.readouterr().out)["verdicts"][0]["memory"][0]["statement"] == said

    # The replay of the chain derives the same memory the writer stored.
    with Ledger.open(show.config.effective_ledger_url, create=False) as ledger:
        assert ledger.audit()[1] == []

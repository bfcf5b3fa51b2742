"""A provenance.toml already validated by this user (these exact bytes, this schema) is loaded
from an authenticated note in private state, without building the pydantic schema: the
result must be the same `Config`, and anything but those bytes under that note is validated."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provenance import config as config_mod
from provenance import private_state
from provenance.config import load_config

REPO = Path(__file__).resolve().parents[2]
CONFIGS = [REPO / "sample_assets/show/provenance.toml", REPO / "src/provenance/data/provenance.toml.template"]


@pytest.mark.parametrize("source", CONFIGS, ids=lambda p: p.name)
def test_a_remembered_config_is_the_same_config(source: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "provenance.toml"
    shutil.copy(source, cfg)
    validated = load_config(cfg)  # validated, and remembered
    assert (private_state.private_dir() / config_mod._VALIDATED_NOTE).exists()
    remembered = load_config(cfg)
    assert remembered == validated and remembered.raw == validated.raw
    # Without private state every load validates: the same again.
    open_dir = tmp_path / "shared"
    open_dir.mkdir(mode=0o777)
    open_dir.chmod(0o777)
    monkeypatch.setenv("XDG_STATE_HOME", str(open_dir))
    assert load_config(cfg) == validated


def test_a_second_load_does_not_import_pydantic(tmp_path: Path) -> None:
    cfg = tmp_path / "provenance.toml"
    shutil.copy(CONFIGS[0], cfg)
    probe = ("import sys\nfrom provenance.config import load_config\n"
             f"load_config({str(cfg)!r})\nprint('pydantic' in sys.modules)")
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                           env=os.environ).stdout.strip() for _ in range(2)]
    assert runs == ["True", "False"]


def test_an_edited_note_or_an_edited_file_is_validated_again(tmp_path: Path) -> None:
    cfg = tmp_path / "provenance.toml"
    cfg.write_text('[policy]\nunknown = "require-declaration"\n')
    assert load_config(cfg).unknown_policy == "require-declaration"
    note = private_state.private_dir() / config_mod._VALIDATED_NOTE
    # Someone with write access to the note turns strict mode off: the MAC no longer matches.
    note.write_bytes(note.read_bytes().replace(b"require-declaration", b"pass"))
    assert load_config(cfg).unknown_policy == "require-declaration"
    # A changed file is other bytes: validated (and refused) afresh.
    cfg.write_text('[policy]\nunknown = "maybe"\n')
    with pytest.raises(Exception, match="unknown"):
        load_config(cfg)

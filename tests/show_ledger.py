"""A show's ledger made before the gate runs, as `provenance init` (or the first scan) makes it:
the gate never creates one (a missing ledger is one that forgot), so a test show needs its own."""

from __future__ import annotations

from pathlib import Path

from provenance.config import load_config
from provenance.ledger import Ledger


def make_ledger(config_file: Path) -> str:
    """Create (or migrate) the ledger `config_file` names; its URL."""
    url = load_config(config_file).effective_ledger_url
    Ledger.open(url).close()
    return url

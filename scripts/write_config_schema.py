#!/usr/bin/env python3
"""Regenerate src/provenance/data/provenance.schema.json from the config models (config_schema.py).

    .venv/bin/python scripts/write_config_schema.py

tests/config/test_strict.py fails while the shipped file differs from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from provenance._os import write_atomic  # noqa: E402
from provenance.config_schema import schema_text  # noqa: E402

TARGET = REPO / "src" / "provenance" / "data" / "provenance.schema.json"

if __name__ == "__main__":
    write_atomic(TARGET, schema_text().encode("utf-8"))
    print(f"wrote {TARGET.relative_to(REPO)}")

"""One schema for both backends: the same tables, columns, keys and indexes on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from provenance.ledger import Ledger
from provenance.ledger.schema import metadata


def _shape(ledger: Ledger) -> dict[str, Any]:
    insp = inspect(ledger.engine)
    out: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        out[table] = {
            "columns": [(c["name"], c["nullable"], c["type"]._type_affinity.__name__
                         if c["type"]._type_affinity.__name__ != "BigInteger" else "Integer")
                        for c in insp.get_columns(table)],
            "pk": insp.get_pk_constraint(table)["constrained_columns"],
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
            "indexes": sorted((tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table)
                              # SQLite reports UNIQUE columns as unique indexes too; compare those above
                              if not i["unique"]),
        }
    return out


@pytest.mark.postgres
def test_schema_is_identical_on_sqlite_and_postgres(tmp_path: Path, fresh_postgres_url: str) -> None:
    with Ledger.open(f"sqlite:///{tmp_path / 'l.db'}") as lite, Ledger.open(fresh_postgres_url) as pg:
        lite_shape, pg_shape = _shape(lite), _shape(pg)
    assert set(lite_shape) == set(metadata.tables)
    assert lite_shape == pg_shape

"""The CLI's output contract, tested through `provenance.cli.main` on a real show: real ExifTool,
a real SQLite ledger, real keys; every `--json` answer checked against the schema it names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from provenance.cli import main
from tests.gate.conftest import Show, ai_png, plain_png, show  # noqa: F401 (fixtures)

SCHEMA_BASE = "https://provenance-tool.org/schemas/"


@cache
def registry() -> Registry:
    """Every schema shipped in the package, by its $id (documents refer to shared parts)."""
    folder = files("provenance") / "data" / "schemas"
    resources = []
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            schema = json.loads(entry.read_text(encoding="utf-8"))
            assert schema["$id"] == SCHEMA_BASE + entry.name, entry.name
            resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def schema_for(doc_id: str) -> dict[str, Any]:
    """`provenance.inspect/v1` → the shipped inspect.v1.json."""
    assert doc_id.startswith("provenance.") and doc_id.count("/v") == 1, doc_id
    name, version = doc_id.removeprefix("provenance.").split("/")
    contents: dict[str, Any] = registry().contents(f"{SCHEMA_BASE}{name}.{version}.json")
    return contents


def validated(text: str) -> dict[str, Any]:
    """stdout as exactly one JSON document, valid against the schema its `schema` names."""
    doc = json.loads(text)
    assert isinstance(doc, dict), "a JSON document is an object with a schema id"
    Draft202012Validator(schema_for(doc["schema"]), registry=registry()).validate(doc)
    return doc


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def run(*args: object) -> Run:
        capsys.readouterr()
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return run

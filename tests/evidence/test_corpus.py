"""Every real file in ../shared/corpus classifies as labelled (labels.tsv), and every sample
asset as its expected.tsv says. Media are read in place, never copied into the repository."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.model import Verdict
from provenance.pipeline import Inspector

REPO = Path(__file__).resolve().parents[2]
CORPUS_LABELS = REPO.parent / "shared" / "corpus" / "labels.tsv"
SAMPLES = REPO / "sample_assets"


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="module")
def verdicts() -> Iterator[dict[str, Verdict]]:
    cache: dict[str, Verdict] = {}
    with Inspector() as ins:
        class _Lazy(dict):  # type: ignore[type-arg]
            def __missing__(self, path: str) -> Verdict:
                cache[path] = ins.inspect(path)
                return cache[path]
        yield _Lazy()


@pytest.mark.usefixtures("exiftool_available")
@pytest.mark.parametrize("row", _rows(CORPUS_LABELS), ids=lambda r: r["file"])
def test_corpus_label(row: dict[str, str], corpus_dir: Path, verdicts) -> None:
    v = verdicts[str(corpus_dir / row["file"])]
    assert not v.errors, v.errors
    assert str(v.classification) == row["expected_class"], (row["evidence"], v.evidence)
    # c2pa_state as labelled: absent ⇔ no embedded manifest; invalid ⇔ a non-trust failure.
    if row["c2pa_state"] == "absent":
        assert not v.c2pa.present
    else:
        assert v.c2pa.present


def test_corpus_has_all_forty_rows(corpus_dir: Path) -> None:
    assert len(_rows(corpus_dir / "labels.tsv")) == 40


@pytest.mark.usefixtures("exiftool_available")
@pytest.mark.parametrize("row", _rows(SAMPLES / "expected.tsv"), ids=lambda r: r["path"])
def test_sample_asset(row: dict[str, str], verdicts) -> None:
    v = verdicts[str(SAMPLES / row["path"])]
    assert not v.errors, v.errors
    assert v.format == row["format"]
    assert str(v.classification) == row["classification"], (row["note"], v.evidence)


def test_samples_exist() -> None:
    if not (SAMPLES / "expected.tsv").is_file():
        pytest.skip("sample_assets/expected.tsv not generated yet")
    assert len(_rows(SAMPLES / "expected.tsv")) >= 10

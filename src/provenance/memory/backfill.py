"""Back-fill: fingerprint the assets the ledger already knows (`provenance scan --backfill`).

Content memory fingerprints what the judge reads; an asset judged before fingerprints existed
(or whose print is of an older VERSION) is only fingerprinted when judged again, and an AI
original that is never judged again is never in memory. The back-fill walks the ledger's
locations instead of a folder: for every sha256 lacking an authenticated current fingerprint
(`store.missing`) it takes a location whose current bytes still hash to it (re-hashed: the
ledger's stat key is not proof), computes the print (with crop variants when the ledger
remembers the asset as AI, as the judge does) and saves each batch as it completes. A kill
loses at most the batch in flight, and the next run skips what was saved. A location gone or
holding other bytes is reported, never fingerprinted (the next `scan` of its folder records it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.errors import AssetError
from provenance.fingerprint import Fingerprint, fingerprint, kind_of
from provenance.identify import identify
from provenance.ledger import Ledger
from provenance.memory import store
from provenance.memory.recall import lacks_variants, plain
from provenance.pathtext import to_text

BATCH = 8  # prints per saved batch: what a kill can lose (a 4K EXR takes ~0.3 s)

Progress = Callable[[int, int], None]  # (done, total) hashes


@dataclass
class BackfillResult:
    assets: int = 0  # distinct hashes with a location under the roots
    fingerprinted: int = 0
    already: int = 0  # had an authenticated current fingerprint
    no_media: int = 0  # formats that hold no picture or sound
    gone: list[str] = field(default_factory=list)  # recorded paths no longer on storage
    changed: list[str] = field(default_factory=list)  # recorded paths now holding other bytes
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, why it could not be fingerprinted)
    unreachable: int = 0  # hashes lacking a print with no location still holding their bytes
    ai_without_print: list[str] = field(default_factory=list)  # AI originals memory cannot match against

    def to_dict(self) -> dict[str, Any]:
        return {"assets": self.assets, "fingerprinted": self.fingerprinted, "already": self.already,
                "no_media": self.no_media, "gone": self.gone, "changed": self.changed,
                "failed": [{"path": p, "reason": r} for p, r in self.failed],
                "unreachable": self.unreachable, "ai_without_fingerprint": self.ai_without_print}


def _under(path: str, roots: Sequence[Path]) -> bool:
    return not roots or any(Path(path).is_relative_to(r) for r in roots)


def backfill(ledger: Ledger, roots: Sequence[Path] = (), *, batch: int = BATCH,
             progress: Progress | None = None) -> BackfillResult:
    """Fingerprint the ledger's assets located under `roots` (all when empty) that lack a
    current one (or, for an AI original, lack its crop variants)."""
    resolved = [r.resolve() for r in roots]
    by_hash: dict[str, list[str]] = {}
    for loc in ledger.locations():
        if loc.sha256 is not None and _under(loc.path, resolved):
            by_hash.setdefault(loc.sha256, []).append(loc.path)
    result = BackfillResult(assets=len(by_hash))
    ai = store.ai_claims(ledger)
    have = store.load(ledger, sorted(by_hash))
    # An AI original printed when it was not yet known as AI has no crop variants: cropped
    # derivatives would not match it, so it is printed again (as the judge would).
    todo = [sha for sha in sorted(by_hash)
            if sha not in have or (sha in ai and lacks_variants(have[sha]))]
    result.already = len(by_hash) - len(todo)
    pending: list[Fingerprint] = []
    for n, sha in enumerate(todo, 1):
        got = _one(sha, sorted(by_hash[sha]), sha in ai, result)
        if got is not None:
            pending.append(got)
        if len(pending) >= batch:
            result.fingerprinted += store.save(ledger, pending)
            pending = []
        if progress is not None:
            progress(n, len(todo))
    result.fingerprinted += store.save(ledger, pending)
    # AI originals that memory still cannot match against: no copy on storage holds their
    # bytes (moved away, deleted, or only ever seen elsewhere), so nothing here can print them.
    lacking = sorted(set(ai) - store.comparable(ledger, sorted(ai)))
    result.ai_without_print = lacking
    return result


def _one(sha: str, paths: Sequence[str], is_ai: bool, result: BackfillResult) -> Fingerprint | None:
    """The print of `sha` from the first recorded path still holding its bytes (None: no media,
    or none holds them; what was wrong is in `result`)."""
    for path in paths:
        try:
            asset = identify(path)  # re-hashes: a stat key matching the ledger's is not proof
        except AssetError as exc:
            if not Path(path).exists():
                result.gone.append(to_text(path))
            else:
                result.failed.append((to_text(path), exc.reason))
            continue
        if asset.sha256 != sha:
            result.changed.append(to_text(path))
            continue
        if kind_of(asset.format) is None:
            result.no_media += 1
            return None
        try:
            # As the judge does: an AI original gets crop variants (derivatives are matched
            # against it), anything else is only ever a query.
            return (fingerprint if is_ai else plain)(path, asset.format, sha)
        except AssetError as exc:
            result.failed.append((to_text(path), exc.reason))
            return None
    result.unreachable += 1
    return None

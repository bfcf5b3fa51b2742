"""`provenance verify-delivery DIR... --decision FILE`: is what arrived exactly what the gate cleared?

Run on the receiving side (or on the sending side after the transfer). Exit 0 when every file
is there with the bytes the gate judged, nothing else arrived, the inputs digest matches and the
decision was "clear"; 1 when the delivery differs or was not cleared (each difference named);
3 when the decision file or a delivered file cannot be read. For a gated edit, a PATH may be
the received edit itself: it stands for the edit and every file judged with it, found by
their names relative to the edit's root (see `gate.delivery`).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from provenance.approvals.keys import load_public
from provenance.cli.options import json_option
from provenance.cli.output import emit
from provenance.errors import EXIT_BLOCKED, EXIT_OK, EXIT_UNDECIDED
from provenance.gate.delivery import DecisionFileError, open_decision, verify_delivery

MAX_DECISION_BYTES = 256 << 20  # a 1,000,000-file package is ~150 MB of file list


def _load(path: Path) -> object:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_DECISION_BYTES + 1)
    except OSError as exc:
        raise DecisionFileError(f"cannot read the decision file: {exc.strerror or exc}", path) from None
    if len(data) > MAX_DECISION_BYTES:
        raise DecisionFileError("the decision file is larger than any gate writes", path)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise DecisionFileError(f"the decision file is not JSON ({type(exc).__name__})", path) from None


@click.command("verify-delivery")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--decision", "decision_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The decision file `provenance gate --decision FILE` wrote for this delivery.")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Accept only a decision file signed with this key (`gate --decision-key`'s public half).")
@json_option
def command(paths: tuple[Path, ...], decision_path: Path, public_key: Path | None, as_json: bool) -> int:
    """Compare a received delivery with the gate decision it came with."""
    public = load_public(public_key) if public_key is not None else None
    try:
        decision, signed = open_decision(_load(decision_path), public)
        check = verify_delivery(list(paths), decision)
    except DecisionFileError as exc:
        if exc.path is None:
            exc = DecisionFileError(exc.reason, decision_path)
        raise exc from None
    code = EXIT_OK if check.ok else (EXIT_UNDECIDED if check.unreadable else EXIT_BLOCKED)
    if as_json:
        emit("verify-delivery", {**check.to_dict(), "signature_checked": signed, "exit_code": code})
        return code
    for label, names in (("CHANGED", check.changed), ("MISSING", check.missing), ("EXTRA", check.extra),
                         ("UNREADABLE", check.unreadable)):
        for name in names:
            click.echo(f"{label:10} {check.named(name)}")
    if check.result != "clear":
        click.echo(f"the gate decision was '{check.result}', not clear: this delivery was never cleared")
    if check.ok:
        whose = "signed by the given key" if signed else "unsigned decision: its origin was not checked"
        click.echo(f"ok: the delivery is what the gate cleared (inputs digest {check.digest[:16]}…; {whose})")
    else:
        click.echo(f"verify-delivery: MISMATCH — this is not what the gate cleared (exit {code})")
    return code

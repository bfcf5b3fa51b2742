"""`provenance gate PATH...`: refuse a delivery while it holds AI material without valid approval.

Exit 0 clear, 1 blocked, 2 usage, 3 could not decide. Anything but 0 means "do not send".
The report goes to stdout and ends with one verdict line, clear or not (`gate … > log` keeps
it); progress and diagnostics go to stderr. With `--json` stdout holds only the JSON report
and the human report moves to stderr, for whoever watches the hook. Reports can be written
at the same time (`--junit FILE`, `--html FILE`, `--decision FILE` for the receiver).
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape

from provenance._os import stage_atomic
from provenance.approvals import registry_signature
from provenance.approvals.outside import refuse_own_policy
from provenance.cli.options import trust_option
from provenance.config import Config, load_config
from provenance.errors import EXIT_UNDECIDED, ProvenanceError
from provenance.gate import GateResult, Status, gate
from provenance.gate.core import decision_record, gc_paused
from provenance.pathtext import shown
from provenance.report.json import fatal_report, gate_report_json
from provenance.wording import plural

if TYPE_CHECKING:  # the signing stack is imported only when --decision-key asks for it
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_STYLE = {Status.BLOCKED: "bold red", Status.UNDECIDED: "bold magenta", Status.APPROVED: "green",
          Status.WARNING: "yellow", Status.CLEAR: "dim"}


def _render(result: GateResult, console: Console) -> None:
    for a in result.assets:
        if a.status in (Status.CLEAR,):
            continue
        frames = f" [{plural(len(a.frames), 'frame')}]" if a.is_sequence else ""
        name = escape(shown(a.name))  # one line, and a `[` in a name is not markup
        console.print(f"[{_STYLE[a.status]}]{a.status.upper():9}[/] {name}{frames} ({a.classification})",
                      highlight=False)
        for reason in a.reasons():
            console.print(f"          {shown(reason)}", highlight=False, markup=False)
        for x in a.approvals():
            console.print(f"          approved by {x['approver']} ({', '.join(x['scopes'])}; ref "
                          f"{x['reference']}; expires {x['expires_at'] or 'never'})", highlight=False,
                          markup=False)
        if a.status is Status.WARNING:
            for w in a.warnings():  # once per sequence, with its frames
                console.print(f"          {shown(w)}", highlight=False, markup=False)
    if result.edits:
        from provenance.report.shot_map import text_lines

        for line in text_lines(result):
            console.print(shown(line), highlight=False, markup=False)
    for p in result.packages:  # what the IMF check covered, said even when it found nothing
        console.print(shown(p.line()), highlight=False, markup=False)
    style = {"clear": "bold green", "blocked": "bold red"}.get(result.result, "bold magenta")
    console.print(f"[{style}]{result.summary()}[/]", highlight=False)
    console.print(f"[{style}]{verdict_line(result.result, result.exit_code)}[/]", highlight=False)


def verdict_line(result: str, exit_code: int) -> str:
    """The last line of every gate run: what to do, and the exit code that says it."""
    if exit_code == 0:
        return f"gate: {result.upper()} — ok to send (exit 0)"
    return f"gate: {result.upper()} — do not send (exit {exit_code})"


@click.command("gate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="provenance.toml to use (default: search upward from the current folder).")
@trust_option
@click.option("--json", "as_json", is_flag=True, help="Write the JSON report (provenance.gate/v1) to stdout.")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write JUnit XML (one test case per asset) to FILE.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML report to FILE.")
@click.option("--report", "report_specs", multiple=True, metavar="FORMAT=FILE",
              help="Also write a report in FORMAT (json, junit, html, or a plug-in's: "
                   "entry-point group provenance.reports) to FILE; may be repeated.")
@click.option("--decision", "decision_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the decision record and every judged file's sha256 to FILE, for "
                   "`provenance verify-delivery` on the receiving side.")
@click.option("--decision-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Sign the --decision file with this Ed25519 key (DSSE), for `verify-delivery "
                   "--public-key`.")
@click.option("--dry-run", is_flag=True,
              help="Judge and report, but append no decision record to the ledger.")
@click.option("--verify-hashes", is_flag=True,
              help="Re-hash and re-read every file; trust no cached hash or verdict.")
@click.option("--allow-missing", is_flag=True,
              help="Clips of an edit whose media is not found are listed, not undecided (media "
                   "that is there but unreadable stays undecided).")
@click.option("--origin", "origins", multiple=True, type=click.Path(path_type=Path),
              help="Where a staged PATH was copied from (hooks/pre-handoff sets it): configuration, "
                   "approvers and trust from inside it are refused as from inside PATH.")
@gc_paused
def command(paths: tuple[Path, ...], config_path: Path | None, as_json: bool, junit_file: Path | None,
            html_file: Path | None, report_specs: tuple[str, ...], decision_out: Path | None,
            decision_key: Path | None, dry_run: bool, verify_hashes: bool, allow_missing: bool,
            origins: tuple[Path, ...]) -> int:
    """Judge PATH... as final deliverables; exit 0 only when nothing is blocked or undecided.

    Order (so the ledger never records an answer the user did not get): judge; stage every
    report file (written and fsynced beside its name); record the decision, with exit 3 and the
    reason if a report could not be staged; only then move the reports into place.
    """
    console = Console(stderr=as_json, soft_wrap=True)  # the human report: stdout unless --json
    err = Console(stderr=True, soft_wrap=True)
    if decision_key is not None and decision_out is None:
        raise click.UsageError("--decision-key signs the --decision file: give --decision FILE too")
    key = None
    if decision_key is not None:
        from provenance.approvals.keys import load_private

        key = load_private(decision_key)
    reports = {"--junit": junit_file, "--html": html_file, "--decision": decision_out,
               **_report_options(report_specs)}
    try:
        result = _run(paths, config_path, dry_run, verify_hashes, err, not as_json,
                      {flag: path for flag, path in reports.items() if path is not None}, key, origins,
                      allow_missing)
    except ProvenanceError as exc:  # bad config, unreachable ledger: fail closed, and say so
        if as_json:  # the gate's own report, undecided, with the error as every command gives it
            report = fatal_report(str(exc), [str(p) for p in paths])
            report["error"] = {"type": type(exc).__name__, "message": exc.reason, "path": exc.path}
            click.echo(json.dumps(report, indent=2))
        # The reason is a diagnostic (stderr), the verdict a result (stdout). escape: a reason
        # may quote a config table ("[watch] …") that rich would read as markup.
        err.print(f"[bold magenta]gate: could not decide — {escape(str(exc))}[/]", highlight=False)
        console.print(f"[bold magenta]{verdict_line('undecided', EXIT_UNDECIDED)}[/]", highlight=False)
        return EXIT_UNDECIDED
    if as_json:
        # Compact: scripts parse it, and only the compact form uses the C encoder (a 20,000-file
        # report took seconds with indent).
        click.echo(gate_report_json(result, result.policy_version))
    _render(result, console)
    return result.exit_code


def _report_options(specs: tuple[str, ...]) -> dict[str, Path | None]:
    """`--report FORMAT=FILE` options, keyed like the other report flags ("--report html")."""
    from provenance.report.formats import available

    out: dict[str, Path | None] = {}
    for spec in specs:
        name, sep, file = spec.partition("=")
        if not sep or not file:
            raise click.BadParameter(f"{spec!r} is not FORMAT=FILE", param_hint="--report")
        if name not in available():
            raise click.BadParameter(f"unknown format {name!r}; available: {', '.join(available())}",
                                     param_hint="--report")
        out[f"--report {name}={file}"] = Path(file)
    return out


def _report_bytes(flag: str, result: GateResult, config: Config, key: Ed25519PrivateKey | None) -> bytes:
    from provenance.report.formats import render

    if flag in ("--junit", "--html"):
        return render(flag.removeprefix("--"), result)
    if flag.startswith("--report "):
        return render(flag.removeprefix("--report ").partition("=")[0], result)
    from provenance.gate.delivery import decision_file, sign_decision

    content = decision_file(_record(result, config), result, config.approvals_dir)
    return (json.dumps(sign_decision(content, key) if key is not None else content, indent=1)
            + "\n").encode("utf-8")


def _record(result: GateResult, config: Config) -> dict[str, Any]:
    record = decision_record(result, config)
    if result.fatal:
        record["fatal"] = result.fatal
    return record


def _stage(result: GateResult, config: Config, reports: dict[str, Path],
           key: Ed25519PrivateKey | None) -> list[tuple[Path, Path]]:
    """Every report written to a temp beside its name (all or none); on failure the result
    becomes undecided with the file and the reason, and nothing is left behind."""
    staged: list[tuple[Path, Path]] = []
    try:
        for flag, path in reports.items():
            try:
                staged.append((stage_atomic(path, _report_bytes(flag, result, config, key)), path))
            except OSError as exc:
                raise ProvenanceError(f"could not write the {flag} report {path}: "
                                      f"{exc.strerror or exc}") from None
    except ProvenanceError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        result.fatal = exc.reason
        return []
    return staged


def _registry_needed(result: GateResult, config: Config) -> None:
    """A file needed to know who may approve: a registry the gate cannot authenticate leaves
    the whole package undecided, with the reason (issue 13), as the files it failed already are."""
    from provenance.approvals.registry import ApproverRegistry

    try:
        ApproverRegistry.load(config)  # the answer the files got, kept while the files are unchanged
    except ProvenanceError as exc:
        result.fatal = result.fatal or str(exc)


def _run(paths: tuple[Path, ...], config_path: Path | None, dry_run: bool, verify_hashes: bool,
         console: Console, show_progress: bool, reports: dict[str, Path],
         key: Ed25519PrivateKey | None = None, origins: tuple[Path, ...] = (),
         allow_missing: bool = False) -> GateResult:
    config = load_config(config_path)
    # A package must not bring its own policy, nor policy files others could change: refused
    # before anything is read (issue 10 item 3, issue 13).
    refuse_own_policy(config, [*paths, *origins])
    asked = registry_signature.ASKED[config.effective_approvers_file]
    from provenance.ledger_location import open_for_gate

    with ExitStack() as stack:
        # Never a ledger created empty here, nor a per-user one: either would forget memory.
        ledger = stack.enter_context(open_for_gate(config))
        progress = None
        if show_progress and console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            bar = stack.enter_context(Progress(TextColumn("gate"), BarColumn(), MofNCompleteColumn(),
                                               TimeRemainingColumn(), console=console, transient=True))
            task = bar.add_task("gate", total=None)

            def progress(done: int, total: int, _path: str) -> None:
                bar.update(task, completed=done, total=total)

        # The gate itself records nothing: this command records once the reports are staged.
        # An .otioz's members live as long as the reports that read them (HTML thumbnails).
        extract = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="provenance-edit-")))
        result = gate(list(paths), config, ledger, verify_hashes=verify_hashes, dry_run=True,
                      progress=progress, allow_missing=allow_missing, extract_to=extract)
        result.dry_run = dry_run
        if registry_signature.ASKED[config.effective_approvers_file] > asked:
            _registry_needed(result, config)
        staged = _stage(result, config, reports, key)
        try:
            if not dry_run:
                result.decision_id = ledger.record_gate_decision(_record(result, config))
            for tmp, path in staged:
                try:
                    os.replace(tmp, path)
                except OSError as exc:
                    # Staged beside its name, so this is all but impossible; if it happens the
                    # decision just recorded is amended with the failure and the exit it causes.
                    result.fatal = f"could not write the report {path}: {exc.strerror or exc}"
                    if not dry_run:
                        amended = {**_record(result, config), "amends": result.decision_id}
                        result.decision_id = ledger.record_gate_decision(amended)
                    break
        finally:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)  # already moved into place, or not to be left behind
        if result.fatal:
            console.print(f"[bold magenta]gate: {escape(result.fatal)}[/]", highlight=False)
        return result

"""`provenance tag (--generated | --edited) --tool NAME ... PATH...`: mark what AI made."""

from __future__ import annotations

import contextlib
import os
import pwd
from collections.abc import Iterator
from pathlib import Path

import click

from provenance.cli.output import emit
from provenance.config import Config, load_config
from provenance.errors import EXIT_BLOCKED, EXIT_OK, EXIT_UNDECIDED, LedgerError, SigningError
from provenance.identity import SigningIdentity
from provenance.ledger import Ledger
from provenance.model import Declarations, Risk
from provenance.pathtext import shown
from provenance.pipeline import iter_files
from provenance.tagging import Outcome, Tagger, TagResult, TagSpec, no_identity_message
from provenance.tagging.atomic import is_temp_name


def _files(paths: tuple[Path, ...], config: Config) -> Iterator[Path]:
    """Named files as given (each gets an outcome); folders walked, skipping temporaries."""
    for raw in paths:
        if raw.is_dir() and not raw.is_symlink():
            for child in iter_files([raw]):
                if not is_temp_name(child.name) and not config.is_ignored(child):
                    yield child
        else:
            yield raw


def _identity(cert: Path | None, key: Path | None, config: Config) -> SigningIdentity:
    if (cert is None) != (key is None):
        raise click.UsageError("--cert and --key go together")
    if cert is not None and key is not None:
        return SigningIdentity(cert, key, None)
    found = SigningIdentity.in_dir(config.signing_identity_dir)
    if found is None:
        raise SigningError(no_identity_message(config.signing_identity_dir))
    return found


def _open_ledger(config: Config, dry_run: bool) -> Ledger | None:
    """The show's ledger, when there is a show configuration; None (with a warning) when it
    cannot be opened. Tagging never waits on the ledger: the tag is in the file or its
    sidecar either way, and the watch daemon records it when it sees the file."""
    if dry_run:
        return None
    if config.file is None:  # a per-user ledger would mix shows: say where the tag is instead
        click.echo("note: no provenance.toml here or above, so no show ledger: the tag is in the "
                   "file (or its sidecar) only; run in the show folder or pass --config to "
                   "record it", err=True)
        return None
    try:
        return Ledger.open(config.effective_ledger_url)
    except LedgerError as exc:
        click.echo(f"warning: tags will not be recorded in the ledger ({exc}); the watch daemon "
                   "records them when it sees the files", err=True)
        return None


def _tagged_by(result: TagResult, identity: SigningIdentity | None) -> dict[str, str]:
    """Who tagged, as the ledger keeps it: the OS user, and the C2PA identity that signed."""
    # The account this process runs as, not $USER/$LOGNAME (which getpass.getuser reads first
    # and anyone can set): what the ledger says happened "by jdoe" should be jdoe's doing.
    try:
        user = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # no passwd entry (a container's bare uid)
        user = f"uid {os.geteuid()}"
    by = {"user": user}
    if identity is not None and "c2pa" in result.written:
        by["signer"] = identity.subject()
    return by


def _remember(ledger: Ledger, path: Path, spec: TagSpec, result: TagResult,
              by: dict[str, str] | None = None) -> None:
    """Record a tag in the ledger under both hashes; an unchanged file is recorded only if the
    ledger does not know it yet (re-running a tag adds no events)."""
    if result.outcome not in (Outcome.WRITTEN, Outcome.SIDECAR, Outcome.UNCHANGED) or not result.sha256_after:
        return
    declared = Declarations(tool=spec.tool, tool_version=spec.tool_version, purpose=spec.purpose,
                            risks=spec.risks)
    try:
        if result.outcome is Outcome.UNCHANGED and ledger.recall_many([result.sha256_after]):
            return
        ledger.record_tag(os.path.abspath(path), result.sha256_before, result.sha256_after,
                          spec.kind.classification, declared, result.prior, by)
    except LedgerError as exc:
        click.echo(f"warning: {shown(result.path)} is tagged, but the ledger did not record it: {exc}",
                   err=True)


def _line(r: TagResult) -> str:
    parts = [f"{r.outcome!s:<9}", shown(r.path)]
    if r.written:
        parts.append(f"[{', '.join(r.written)}]")
    if r.sidecar and r.outcome in (Outcome.SIDECAR, Outcome.DRY_RUN):
        parts.append(f"→ {shown(r.sidecar)}")
    if r.reason and r.outcome is not Outcome.WRITTEN:
        parts.append(f"— {r.reason}")
    return "  ".join(parts)


@click.command("tag")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--generated", "kinds", flag_value="generated", multiple=True,
              help="Made by a generative model.")
@click.option("--edited", "kinds", flag_value="edited", multiple=True,
              help="Captured/human media with AI-generated parts.")
@click.option("--tool", required=True, help="The generative tool, e.g. \"Adobe Firefly\".")
@click.option("--tool-version", help="The tool's version.")
@click.option("--purpose", help="What the material is for (free text).")
@click.option("--prompt", help="The prompt given to the tool (IPTC AIPromptInformation).")
@click.option("--prompt-writer", help="Who wrote the prompt (IPTC AIPromptWriterName).")
@click.option("--talent-likeness", is_flag=True, help="Depicts a real performer's likeness.")
@click.option("--personal-data", is_flag=True, help="Contains personal data.")
@click.option("--third-party-ip", is_flag=True, help="Involves third-party IP.")
@click.option("--performance", is_flag=True, help="Generates or alters a performance.")
@click.option("--sidecar-only", is_flag=True,
              help="Never change the file: write <file>.xmp beside it.")
@click.option("--no-c2pa", is_flag=True, help="Write XMP only (no signing identity needed).")
@click.option("--dry-run", is_flag=True, help="Say what would be written; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of per-file results.")
@click.option("--cert", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Certificate chain PEM (leaf first) to sign with instead of ours.")
@click.option("--key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Private key PEM for --cert.")
@click.option("--config", "config_file", type=click.Path(path_type=Path),
              help="provenance.toml to use (default: search upward).")
@click.pass_context
def command(ctx: click.Context, paths: tuple[Path, ...], kinds: tuple[str, ...], tool: str,
            tool_version: str | None, purpose: str | None, prompt: str | None,
            prompt_writer: str | None, talent_likeness: bool,
            personal_data: bool, third_party_ip: bool, performance: bool, sidecar_only: bool,
            no_c2pa: bool, dry_run: bool, as_json: bool, cert: Path | None, key: Path | None,
            config_file: Path | None) -> None:
    """Mark files (or every file under folders) as AI-generated or AI-edited.

    Writes XMP, then a signed C2PA manifest (a file's earlier C2PA history is kept), or an
    XMP sidecar <file>.xmp where nothing can be embedded. Every write goes through a
    verified temporary file. A tag never lowers what a file's own evidence says
    (`--edited` on a file that reads as generated is refused). Exit 0 when every file is
    tagged or already was, 1 if a tag was refused, 3 if any file failed (the rest are
    still tagged).
    """
    if not kinds:
        raise click.UsageError("say what the files are: --generated or --edited")
    if len(set(kinds)) > 1:  # with one destination the last flag used to win, silently
        raise click.UsageError("--generated and --edited exclude each other: say which the files are")
    kind = kinds[0]
    risks = [r for r, on in ((Risk.TALENT_LIKENESS, talent_likeness),
                             (Risk.PERSONAL_DATA, personal_data),
                             (Risk.THIRD_PARTY_IP, third_party_ip),
                             (Risk.PERFORMANCE, performance)) if on]
    try:
        spec = TagSpec.make(kind, tool, tool_version, purpose, risks, prompt, prompt_writer)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    config = load_config(config_file)
    use_c2pa = not (no_c2pa or sidecar_only)
    identity = _identity(cert, key, config) if use_c2pa else None

    results: list[TagResult] = []
    # A show's ledger remembers the tag under both hashes: a copy that later loses its tag
    # or sidecar is still known as AI, with its declared risks.
    ledger = _open_ledger(config, dry_run)
    with contextlib.ExitStack() as stack:
        if ledger is not None:
            stack.enter_context(ledger)
        tagger = stack.enter_context(Tagger(identity, c2pa=use_c2pa,
                                            trust_anchors_pem=config.trust_anchors_pem()))
        for path in _files(paths, config):
            result = tagger.tag(path, spec, sidecar_only=sidecar_only, dry_run=dry_run)
            if ledger is not None:
                _remember(ledger, path, spec, result, _tagged_by(result, identity))
            results.append(result)
            if not as_json:
                click.echo(_line(result))
    if as_json:
        emit("tag", {"results": [r.to_dict() for r in results]}, ensure_ascii=False, default=os.fsdecode)
    failed = sum(not r.ok for r in results)
    if not as_json:
        counts: dict[str, int] = {}
        for r in results:
            counts[str(r.outcome)] = counts.get(str(r.outcome), 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no files"
        click.echo(f"{summary}", err=True)
    refused = any(r.outcome is Outcome.REFUSED for r in results)
    ctx.exit(EXIT_UNDECIDED if failed or not results else EXIT_BLOCKED if refused else EXIT_OK)

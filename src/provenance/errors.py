"""Every error provenance raises on purpose, and the exit code each one means.

Exit codes are a contract with handoff scripts (DESIGN.md), the same for every command:
0 ok / clear, 1 blocked / a finding (the gate, `ledger verify`, `verify-delivery`), 2 usage
(click's own, and `InvalidUsage`), 3 could not decide or could not do it. Anything unexpected
is 3, never 0 or 1. `cli.main` is the one place an error becomes an exit code.
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_USAGE = 2
EXIT_UNDECIDED = 3


class ProvenanceError(Exception):
    """Base of every deliberate error. `exit_code` is what the CLI exits with."""

    exit_code: int = EXIT_UNDECIDED

    def __init__(self, reason: str, path: str | Path | None = None) -> None:
        self.reason = reason
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


class InvalidUsage(ProvenanceError):
    """The command line asks for something that cannot be done as asked and a different
    command line would do it: a file exists and `--force` was not given, flags that exclude
    each other. Nothing was changed."""

    exit_code = EXIT_USAGE


class ConfigError(ProvenanceError):
    """The configuration file is missing, unreadable or invalid."""


class AssetError(ProvenanceError):
    """One file could not be read or judged (unreadable, empty, a loop, a timeout...)."""


class ReaderError(ProvenanceError):
    """An evidence reader failed on one file; the verdict records it as an error."""


class LedgerError(ProvenanceError):
    """The ledger cannot be reached, migrated, or its history does not verify."""


class TagError(ProvenanceError):
    """Tagging one file failed; the original is untouched."""


class SigningError(ProvenanceError):
    """No usable signing identity, or the C2PA signer refused it."""


class TrustError(ProvenanceError):
    """Who may approve cannot be established: the trust root, or the signed approvers registry
    checked against it, is missing, altered, rolled back or signed by the wrong keys."""


class ApprovalError(ProvenanceError):
    """An approval does not verify, or cannot be signed, with the specific reason.

    Exit 3 when it reaches the CLI: the command could not do what it was asked (`approve` with
    a key that may not grant the scope, like a key it cannot read). A delivery blocked by an
    approval that does not verify is the gate's result (exit 1), never this exception."""

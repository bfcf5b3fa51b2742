"""The decision context: everything besides a file's bytes (and its name) that can change
whether it clears with nothing to say. A decision cached under one context is reused only
under the same one (`gate.cache`); any change re-judges every file from its cached verdict.

What it covers, and why that is enough for a file that cleared with no finding, no note, no
memory and no approval (the only decisions that are cached):
- policy (`policy_digest`: rules' settings, tools, trust anchors, the approvers file) and the
  whole config file's bytes (memory thresholds, anything else a rule or memory reads);
- the readers' digest (what a file says);
- the approvers registry's signature, this host's trust file and the admin keys it pins
  (a key rotated in place keeps the trust file's bytes): which retractions the ledger's
  memory honours;
- the ledger's memory generation (`Ledger.memory_generation`): a tag, fingerprint, untag,
  verdict or approval written anywhere moves it, so memory is recalled afresh; the gate's own
  decision record does not;
- the judging code (policy, rules, memory, the judging step: their files' bytes, so an edited
  editable install counts) and the policy rule plug-ins installed (name, target, version): a
  rule added or fixed judges every file again.
Approval files, not-derived records and expiries need no place here: a file whose decision
could depend on them (a finding an approval could clear, a content match to dismiss) did
not clear with nothing to say, and is judged afresh every run. Policy does not read the clock.

Anything that cannot be stated (a ledger that is not a `Ledger`, a file that cannot be read)
gives no context (None): then nothing is taken from cached decisions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from importlib.metadata import entry_points
from pathlib import Path

from provenance.approvals import registry_signature
from provenance.approvals.trust import load_trust, trust_file
from provenance.config import Config
from provenance.ledger_view import LedgerView

log = logging.getLogger(__name__)


def _file_state(path: Path | None) -> str | None:
    """sha256 of a file's bytes; "absent" when it is not there; None when it cannot be read."""
    if path is None:
        return "none"
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except FileNotFoundError:
        return "absent"
    except OSError:
        return None


_PACKAGE = Path(__file__).resolve().parent.parent
_JUDGING_CODE = ("policy/*.py", "memory/*.py", "judge.py", "classify.py", "model.py", "gate/*.py")


def _judging_code() -> dict[str, str | None]:
    return {str(p.relative_to(_PACKAGE)): _file_state(p)
            for pattern in _JUDGING_CODE for p in sorted(_PACKAGE.glob(pattern)) if p.is_file()}


def _rule_plugins() -> list[list[str | None]]:
    from provenance.policy.registry import GROUP

    return sorted([ep.name, ep.value, ep.dist.version if ep.dist is not None else None]
                  for ep in entry_points(group=GROUP))


def decision_context(config: Config, policy: str, readers: str, ledger: LedgerView | None) -> str | None:
    """The context digest of this run (see the module docstring), or None when there is none."""
    from provenance.ledger import Ledger

    try:
        if ledger is None:
            generation: object = "no ledger"
        elif isinstance(ledger, Ledger):
            generation = list(ledger.memory_generation())
        else:
            return None  # a stand-in whose memory we cannot date
        approvers = config.effective_approvers_file
        trust = trust_file()
        admin_keys = load_trust(trust).key_files if os.path.exists(trust) else ()
        files = [config.file, approvers, registry_signature.signature_path(approvers), trust,
                 *admin_keys]
        states = [_file_state(Path(os.fspath(f)) if f is not None else None) for f in files]
        code, plugins = _judging_code(), _rule_plugins()
    except Exception as exc:  # no context is always safe: every file is judged
        log.warning("gate: no decision context (%s: %s); judging every file", type(exc).__name__, exc)
        return None
    if any(s is None for s in [*states, *code.values()]):
        return None
    material = {"v": 1, "policy": policy, "readers": readers, "files": states, "ledger": generation,
                "code": code, "rules": plugins}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

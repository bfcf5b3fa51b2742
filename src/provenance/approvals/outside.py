"""The gate's policy comes from outside what it judges (issue 10 item 3).

A package that holds its own provenance.toml (naming its own approvers file), that approvers
file and an approval signed by its own key would otherwise clear itself when the gate is run
from inside it. Everything that decides a delivery — the configuration, the approvers registry
and its signature, the trust file and its admin keys, the C2PA trust anchors, the host's
rollback memory — must live outside (and not below) every path being judged; the trust root
and the host's memory must also live outside the show tree, which artists can write.

Outside the package is not enough for what decides how the gate judges: the configuration
chooses the policy (strict or not, how many approvers a scope needs, which tools are vetted,
which ledger remembers what), so it must also be a file nobody but this user or root can
change — the check OpenSSH's StrictModes makes of authorized_keys: the file and every folder
above it owned by root or us and not writable by group or others (a root-owned sticky folder
such as /tmp excepted). A show config on group-writable shared storage is refused with the
fix: protect it, or keep the gate's config on this host (`--config /etc/provenance/show.toml`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from provenance.approvals import registry_signature, seen_versions
from provenance.approvals.trust import load_trust, trust_file
from provenance.config import Config
from provenance.errors import TrustError


def _real(p: Path) -> Path:
    return Path(os.path.realpath(p))


def inside(path: Path, folder: Path) -> bool:
    """`path` is `folder` or below it, after resolving symlinks on both."""
    p, f = _real(path), _real(folder)
    return p == f or f in p.parents


def check_outside(what: Iterable[tuple[str, Path | None]], folders: Sequence[Path], why: str) -> None:
    """TrustError naming the first file of `what` that is inside any of `folders`."""
    for label, path in what:
        if path is None:
            continue
        for folder in folders:
            if inside(path, folder):
                raise TrustError(f"the gate's {label} is inside {os.path.abspath(folder)} ({why})", path)


def _writable_by_others(st: os.stat_result) -> str | None:
    """Why someone else could change this file or folder's entries, or None."""
    if st.st_uid not in (0, os.geteuid()):
        return f"owned by uid {st.st_uid}"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX and st.st_uid == 0:
            return None  # /tmp: others cannot rename or remove what is ours
        return f"writable by {'others' if st.st_mode & stat.S_IWOTH else 'its group'}"
    return None


KEEP_CONFIG_HERE = "keep the gate's configuration on this host (--config FILE)"


def check_protected(what: Iterable[tuple[str, Path | None]], fix: str = KEEP_CONFIG_HERE) -> None:
    """TrustError naming the first file of `what` that someone other than us or root could
    change: the file itself, or any folder above it. Both the folders above the name as given
    and those above where its symlinks lead: whoever can write the folder holding a link can
    point it at a file of their own. `fix` ends the message: what to do instead."""
    for label, path in what:
        if path is None or not os.path.lexists(path):
            continue
        real = _real(path)
        given = Path(os.path.abspath(path))
        for p in dict.fromkeys((real, *real.parents, *given.parents)):
            try:
                why = _writable_by_others(os.stat(p))
            except OSError as exc:
                if p == real and isinstance(exc, FileNotFoundError):
                    continue  # gone since lexists (a -wal its last reader removed): its folders count
                raise TrustError(f"cannot check who may change the gate's {label}: {exc.strerror}",
                                 p) from None
            if why:
                where = "it" if p == real else f"its folder {p}"
                raise TrustError(f"the gate's {label} could be changed by someone else ({where} is {why}): "
                                 f"protect it (owned by root or this user, not group- or world-writable), or "
                                 f"{fix}", path)


def refuse_own_policy(config: Config, judged: Sequence[Path]) -> None:
    """Refuse policy from inside `judged` or trust from inside the show, and policy files others
    could change, before anything is judged. The approvers registry itself is authenticated
    when a file first needs an approval looked up (`ApproverRegistry.load`): a package with
    nothing to approve never reads it, and one that needs it is undecided if it fails."""
    approvers = config.effective_approvers_file
    policy: list[tuple[str, Path | None]] = [
        ("configuration", config.file),
        ("approvers registry", approvers),
        ("approvers registry signature", registry_signature.signature_path(approvers)),
        ("trust file", trust_file()),
        ("rollback memory", seen_versions.memory_file()),
        *(("C2PA trust anchor", a) for a in config.trust_anchor_files),
        ("signing CA", config.signing_identity_dir / "ca.pem"),
    ]
    check_outside(policy, judged, "a package cannot bring its own policy: run the gate from outside the "
                                  "package, or with --config FILE outside it")
    host_trust: list[tuple[str, Path | None]] = [("trust file", trust_file()),
                                                 ("rollback memory", seen_versions.memory_file())]
    if approvers.exists() or os.path.exists(trust_file()):
        trust = load_trust()
        keys = [("admin key", f) for f in trust.key_files]
        keys += [("C2PA capture anchor", f) for f in trust.capture_anchor_files]
        check_outside(keys, judged, "a package cannot bring its own admin keys or capture anchors")
        host_trust += keys
    if config.file is not None:
        check_outside(host_trust, [config.base_dir], "the trust root is pinned on this host, outside the "
                                                     "show tree that artists can write")
    check_protected([("configuration", config.file), *host_trust])

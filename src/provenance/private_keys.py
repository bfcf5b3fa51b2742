"""Recognise private-key files by their content, so that no driver records or indexes a secret.

Approver keys, the production's C2PA signing key and SSH keys end up in show trees (`keys new
--out ~/show/keys/jdoe.key`). The ledger is readable by everyone who records tags; it must not
say where a secret is, nor keep its hash. A file is a private key when it is small and is one:
a PEM block of a private-key type (PKCS#1 `RSA`, SEC1 `EC`, `DSA`, PKCS#8 plain or `ENCRYPTED`,
`OPENSSH`) at its start — after openssl's optional "Bag Attributes" lines — a PuTTY key file,
or DER that `cryptography` loads as a private key. Names and extensions decide nothing, and a
marker somewhere inside a media file does not make it a key (it could hide AI material).
"""

from __future__ import annotations

import os
import re
import stat

from cryptography.hazmat.primitives import serialization

MAX_KEY_BYTES = 64 << 10  # an RSA-16384 PEM is ~13 KB; media files are larger or are not keys
_PEM_KEY = re.compile(
    rb"\A(?:\s*(?:Bag|Key) Attributes[^\n]*\n(?:[ \t]+[^\n]*\n)*)*\s*"
    rb"-----BEGIN (?:RSA |EC |DSA |ENCRYPTED |OPENSSH )?PRIVATE KEY-----\r?\n")
_PUTTY = re.compile(rb"\A\s*PuTTY-User-Key-File-\d+: ")


def looks_like_private_key(data: bytes) -> bool:
    """Is `data` (a whole small file) a private key?"""
    if len(data) > MAX_KEY_BYTES:
        return False
    if _PEM_KEY.match(data) or _PUTTY.match(data):
        return True
    if data[:1] == b"\x30":  # a DER SEQUENCE: PKCS#8 or PKCS#1 only if it loads as a key
        try:
            serialization.load_der_private_key(data, password=None)
        except TypeError:
            return True  # encrypted PKCS#8: a key, we just do not know the password
        except Exception:  # ValueError, UnsupportedAlgorithm…: any parse failure means "not a key"
            return False
        return True
    return False


def is_private_key(path: str | os.PathLike[str]) -> bool:
    """Does the regular file at `path` hold a private key? (False when it cannot be read: the
    normal read then reports why.) Never blocks on a FIFO and reads at most MAX_KEY_BYTES."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_KEY_BYTES or st.st_size == 0:
            return False
        return looks_like_private_key(os.read(fd, MAX_KEY_BYTES + 1))
    except OSError:
        return False
    finally:
        os.close(fd)

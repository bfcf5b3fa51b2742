"""The one C2PA/XMP vocabulary shared by reading (`evidence/`) and tagging (`tagging/`).

What a digital source type means, which C2PA validation codes are integrity failures, which
leaf EKUs a C2PA signer may carry, what our own declaration is called in C2PA and XMP, and
IPTC's own AI properties: written once here, so the side that writes a mark and the side
that reads it can never disagree.
"""

from __future__ import annotations

import re
import unicodedata

# --- digital source types (IPTC NewsCodes, C2PA) ------------------------------------------------

IPTC_DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"
GENERATED_TYPE = "trainedAlgorithmicMedia"
COMPOSITE_TYPE = "compositeWithTrainedAlgorithmicMedia"

AI_GENERATED_TYPES = frozenset({GENERATED_TYPE, "algorithmicMedia", "trainedAlgorithmicData"})
AI_COMPOSITE_TYPES = frozenset({COMPOSITE_TYPE, "compositeSynthetic"})
CAPTURE_TYPES = frozenset({"digitalCapture", "computationalCapture", "compositeCapture",
                           "negativeFilm", "positiveFilm", "print", "humanEdits",
                           "minorHumanEdits", "digitalCreation"})
# Terms that say neither AI nor capture (read, shown, never a signal).
OTHER_TYPES = frozenset({"algorithmicallyEnhanced", "dataDrivenMedia", "digitalArt",
                         "virtualRecording", "screenCapture"})
_TERMS = {t.lower(): t for t in (*AI_GENERATED_TYPES, *AI_COMPOSITE_TYPES, *CAPTURE_TYPES,
                                 *OTHER_TYPES)}
_AI_TERMS = {t.lower() for t in (*AI_GENERATED_TYPES, *AI_COMPOSITE_TYPES)}
# The bases a term may be written under (scheme and host compared without case).
_BASES = re.compile(r"^(?:https?://(?:cv\.iptc\.org/newscodes/digitalsourcetype|"
                    r"c2pa\.org/digitalsourcetype)/)?([a-z]+)$")
# A value in no known form still names AI if an AI term stands in it as a word (fail closed:
# "…/trainedAlgorithmicMedia (generated)"); a capture term only counts in a known form.
_AI_WORD = re.compile(r"\b(" + "|".join(sorted(_AI_TERMS, key=len, reverse=True)) + r")\b")


def normalise(value: str) -> str:
    """The text a person would read: NFKC, no format characters (zero-width...), trimmed."""
    if value.isascii():
        return value.strip()
    text = unicodedata.normalize("NFKC", value)
    return "".join(c for c in text if unicodedata.category(c) != "Cf").strip()


def dst_term(value: object) -> str | None:
    """A digital source type value → its term ("trainedAlgorithmicMedia"), or None.

    Accepts the IPTC and C2PA URI forms over http or https, the bare term, any case, surrounding
    whitespace and a trailing slash. An AI term under any other base is still an AI term.
    """
    if not isinstance(value, str):
        return None
    low = normalise(value).lower().rstrip("/")
    m = _BASES.match(low)
    if m:
        return _TERMS.get(m.group(1))
    m = _AI_WORD.search(low)
    return _TERMS[m.group(1)] if m else None


def is_dst_tag(key: str) -> bool:
    """Whether an ExifTool "Group:Tag" key holds a digital source type, by tag name wherever it
    appears (`XMP-iptcExt:DigitalSourceType`, SVG's `XMP-iptcExt:SvgMetadataDigitalSourceType`)."""
    return key.rpartition(":")[2].lower().endswith("digitalsourcetype")


# --- C2PA -----------------------------------------------------------------------------------------

DECLARATION_LABEL = "org.provenance-tool.declaration"
ACTIONS_LABELS = ("c2pa.actions", "c2pa.actions.v2")
INCEPTION_ACTIONS = frozenset({"c2pa.created", "c2pa.opened"})

# Leaf EKUs a C2PA signer may carry (c2pa-rs valid_eku_oids.cfg): without the full list
# Microsoft/C2PA/documentSigning signers read as signingCredential.invalid.
EKU_OIDS = (
    "1.3.6.1.5.5.7.3.4",  # emailProtection
    "1.3.6.1.5.5.7.3.36",  # documentSigning
    "1.3.6.1.5.5.7.3.8",  # timeStamping
    "1.3.6.1.5.5.7.3.9",  # OCSPSigning
    "1.3.6.1.4.1.311.76.59.1.9",  # Microsoft C2PA signing
    "1.3.6.1.4.1.62558.2.1",  # C2PA claim signing
)
TRUST_CONFIG = "\n".join(EKU_OIDS)

# Codes about who signed and when, not whether the bytes match.
CREDENTIAL_PREFIXES = ("signingCredential.", "timeStamp.", "cawg.", "claimSignature.insideValidity")
# A writer's spec violation in a real capture (corpus d25, Sony): not evidence of a change.
_WRITER_MISTAKES = ("assertion.action.malformed",)


def is_credential_code(code: str) -> bool:
    return code.startswith(CREDENTIAL_PREFIXES)


def is_integrity_code(code: str) -> bool:
    """Whether a failure code in a file we read means the bytes or the manifest were changed."""
    if is_credential_code(code) or code.startswith(_WRITER_MISTAKES):
        return False
    return (code.endswith((".mismatch", ".missing", ".malformed", ".invalid"))
            or "mismatch" in code or code in ("claim.missing", "general.error"))


def own_output_failures(codes: list[str]) -> list[str]:
    """Failures that make a file *we just signed* unacceptable: every one not about credentials
    (stricter than reading: our own writer makes no spec mistakes to forgive)."""
    return [c for c in codes if not is_credential_code(c)]


# --- XMP ------------------------------------------------------------------------------------------

XMP_NS = "XMP-provenance"  # our namespace's ExifTool group (data/exiftool.config)
XMP_DST_TAG = "XMP-iptcExt:DigitalSourceType"
# IPTC Photo Metadata 2025.1 AI properties (Iptc4xmpExt), as ExifTool names the tags. 12.57
# predates them: it reads them as properties of the known namespace under these names, and
# writes them only as defined by the package's data/exiftool.config. `tag` writes them,
# `evidence/tags.py` reads them, both through these names.
IPTC_AI_SYSTEM = "XMP-iptcExt:AISystemUsed"
IPTC_AI_SYSTEM_VERSION = "XMP-iptcExt:AISystemVersionUsed"
IPTC_AI_PROMPT = "XMP-iptcExt:AIPromptInformation"
IPTC_AI_PROMPT_WRITER = "XMP-iptcExt:AIPromptWriterName"
IPTC_AI_FIELDS = (IPTC_AI_SYSTEM, IPTC_AI_SYSTEM_VERSION, IPTC_AI_PROMPT, IPTC_AI_PROMPT_WRITER)
# Our namespace's fields that duplicated IPTC's (tool, version; the class is the source type):
# read from files tagged before IPTC 2025.1 was written, removed by any re-tag, never written.
XMP_LEGACY_FIELDS = (f"{XMP_NS}:Classification", f"{XMP_NS}:Tool", f"{XMP_NS}:ToolVersion")

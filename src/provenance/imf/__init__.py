"""IMF packages (SMPTE ST 2067): a folder holding ASSETMAP.xml, judged as one delivery.

`documents` parses ASSETMAP, PKL and CPL safely into typed values; `package` reads a package
and checks every asset against its PKL (size, SHA-1) and the package's own boundaries;
`timeline` maps track files to CPL timecode; `approval` is what a package approval binds;
`gating` applies all of it to the gate's per-file judgements.
"""

from provenance.imf.package import Package, Problem, Severity, is_package, open_package
from provenance.imf.timeline import Placement, placements

__all__ = ["Package", "Placement", "Problem", "Severity", "is_package", "open_package", "placements"]

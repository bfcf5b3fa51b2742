"""Renderings of gate results and ledger queries: JSON, JUnit XML, self-contained HTML, disclosure."""

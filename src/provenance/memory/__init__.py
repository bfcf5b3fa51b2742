"""Content memory: fingerprints of AI assets kept in the ledger, and near-match lookup.

`store` reads and writes the ledger's `fingerprints` table and lists the AI originals;
`index` is the near-match search over picture hashes; `match.Memory` answers which
original a fingerprint was derived from, and how.
"""

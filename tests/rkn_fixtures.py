"""Entry keys of rkn_registry tables rewritten for tests: a twin key, a key replaced, keys as hex text.

entry_key holds the md5 digest's 16 bytes (schema.ENTRY_KEY_TYPE). `hexed` gives a table as the project
wrote it before, with the key's 32 hex digits as a string: what the gate, the history's fast path and
the migration of an old lake must each recognise.
"""

from __future__ import annotations

import pyarrow as pa

from pipelines.sources.rkn_registry.schema import ENTRY_KEY_TYPE


def with_key(table: pa.Table, row: int, key: bytes) -> pa.Table:
    """The table with the entry key of one row replaced."""
    keys = table.column("entry_key").to_pylist()
    keys[row] = key
    index = table.schema.get_field_index("entry_key")
    return table.set_column(index, table.schema.field(index), pa.array(keys, ENTRY_KEY_TYPE))


def twin_of(key: bytes) -> bytes:
    """Another key with the same first 8 bytes (the half the fast path matches on)."""
    return key[:8] + bytes([key[8] ^ 1]) + key[9:]


def hexed(table: pa.Table) -> pa.Table:
    """The table as written before entry_key held the md5 digest's bytes: its 32 hex digits as a string."""
    index = table.schema.get_field_index("entry_key")
    keys = pa.array([key.hex() for key in table.column("entry_key").to_pylist()], pa.string())
    return table.set_column(index, pa.field("entry_key", pa.string(), nullable=False), keys)

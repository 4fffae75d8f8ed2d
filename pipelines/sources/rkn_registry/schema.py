"""Typed staging schema of rkn_registry: one dataset, `registry_snapshot`, one row per published line.

A zapret-info `dump.csv` (or its parts `dump-00.csv`, `dump-01.csv` …) is one snapshot of the whole
registry, dated by its first line `Updated: <timestamp>`. Every data line becomes one row; nothing is
dropped, repeats are flagged instead (the gate's summary counts them).

Entry key (what makes two lines "the same registry entry"):
  entry_key = md5 of authority, decision_number, decision_date (ISO), domain, url, joined by U+001F
  (each field trimmed, a missing domain/url as the empty string), stored as the 16 bytes of the digest
  (fixed_size_binary(16); DuckDB reads it as BLOB, and the marts show it as its 32 lowercase hex digits,
  lower(hex(entry_key)), which equals md5() of the same text).
The IP addresses are deliberately not part of the key: the registry re-resolves the blocked resources and
rewrites their addresses from week to week, and it lists some decisions twice in one snapshot with other
IPs. With the IPs in the key, every address change would look like an entry leaving and a new one
arriving. Measured on the 74 real snapshots (2012-11 … 2014-04): no key's decision attributes differ
between lines, 0 exact repeats until 2014-04-04 and then 4 per snapshot; 1–6 keys per snapshot listed again
with other IPs (see /work/notes/issue3-rkn_registry.md).

Flags:
- is_duplicate: the line repeats an earlier line of the same snapshot exactly (same key, same ips);
- is_repeat_key: the entry key already appeared on an earlier line of the snapshot (exact repeats and
  the same decision listed again with other IPs). `is_repeat_key and not is_duplicate` counts the latter.

Other conventions: every field is trimmed of surrounding whitespace (the publisher leaves trailing blanks
in URLs); `ips` and `url` keep the publisher's ` | ` joined lists, `ip_count` / `url_count` count their
elements; an empty domain/url/ips is NULL; `is_wildcard` is true for `*.` domains. Lineage columns close
the schema: source_id, vintage, source_file (the dump file, or the part file of a split dump),
source_row_number (1-based index of the data line in that file, the `Updated:` line excluded).
"""

from __future__ import annotations

import pyarrow as pa

from pipelines.lake import COMPRESSION_HINT, DICTIONARY_HINT

# Writer hints (pipelines/lake.py): near-unique strings are stored without a dictionary, which only costs the
# writer time (measured: staging write of 2 million lines 1.47 -> 1.18 s, same file size).
PLAIN = {DICTIONARY_HINT: b"false"}
# ... and uncompressed: the entry key (16 random bytes of an md5, which no codec shrinks); and every unique
# string of the history, a file read and written whole on every load (see derive.write_history).
RAW = PLAIN | {COMPRESSION_HINT: b"none"}

# The entry key: the md5 digest's 16 bytes. As 32 hex characters it cost twice the bytes, a hex encoding
# in the parser and a decoding in every history update (measured on 2 million lines: hashing 1.42 -> 1.07 s
# of CPU; the history update reads the history's keys in 0.03 s instead of 0.26 s and the snapshot's keys
# and IPs in 0.18 s instead of 0.54 s).
ENTRY_KEY_TYPE = pa.binary(16)

# Naive timestamps holding UTC: the gate names timestamp[us] (DuckDB TIMESTAMP) but no zoned type.
SNAPSHOT_AT_TYPE = pa.timestamp("us")

LINEAGE = [
    pa.field("source_id", pa.string(), nullable=False),
    pa.field("vintage", pa.string(), nullable=False),
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("source_row_number", pa.int64(), nullable=False),
]

# Attributes of an entry as published (what the history carries along with the key).
ENTRY_FIELDS = [
    pa.field("ips", pa.string(), metadata=PLAIN),
    pa.field("ip_count", pa.int64(), nullable=False),
    pa.field("domain", pa.string(), metadata=PLAIN),
    pa.field("is_wildcard", pa.bool_(), nullable=False),
    pa.field("url", pa.string(), metadata=PLAIN),
    pa.field("url_count", pa.int64(), nullable=False),
    pa.field("authority", pa.string(), nullable=False),
    pa.field("decision_number", pa.string(), nullable=False, metadata=PLAIN),
    pa.field("decision_date", pa.date32(), nullable=False),
]

REGISTRY_SNAPSHOT = pa.schema(
    [
        pa.field("snapshot_at", SNAPSHOT_AT_TYPE, nullable=False),
        pa.field("entry_key", ENTRY_KEY_TYPE, nullable=False, metadata=RAW),
        *ENTRY_FIELDS,
        pa.field("is_duplicate", pa.bool_(), nullable=False),
        pa.field("is_repeat_key", pa.bool_(), nullable=False),
        *LINEAGE,
    ]
)

# Derived dataset `registry_history` (history.py computes it, derive.py stores it in the lake at
# lake/rkn_registry/registry_history/current/part-0.parquet): one row per spell of an entry, i.e. per maximal
# run of consecutive snapshots containing its entry_key. Attributes are those of the spell's last snapshot;
# removed_at is the first snapshot after last_seen_at (NULL while the spell reaches the newest snapshot).
# Times are naive timestamp[us] holding UTC, like snapshot_at.
HISTORY = pa.schema(
    [
        pa.field("entry_key", ENTRY_KEY_TYPE, nullable=False, metadata=RAW),
        pa.field("spell", pa.int64(), nullable=False),
        pa.field("ips", pa.string(), metadata=RAW),
        pa.field("domain", pa.string(), metadata=RAW),
        pa.field("is_wildcard", pa.bool_(), nullable=False),
        pa.field("url", pa.string(), metadata=RAW),
        pa.field("authority", pa.string(), nullable=False),
        pa.field("decision_number", pa.string(), nullable=False, metadata=RAW),
        pa.field("decision_date", pa.date32(), nullable=False),
        pa.field("first_seen_at", SNAPSHOT_AT_TYPE, nullable=False),
        pa.field("last_seen_at", SNAPSHOT_AT_TYPE, nullable=False),
        pa.field("removed_at", SNAPSHOT_AT_TYPE),
        pa.field("is_active", pa.bool_(), nullable=False),
        pa.field("snapshots_seen", pa.int64(), nullable=False),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {"registry_snapshot": REGISTRY_SNAPSHOT, "registry_history": HISTORY}

# registry_snapshot: unique within one batch; lines are kept as published (repeats included), so the key is
# the line itself. registry_history: an entry's spells are numbered 1, 2, … in time order.
KEYS: dict[str, tuple[str, ...]] = {
    "registry_snapshot": ("source_file", "source_row_number"),
    "registry_history": ("entry_key", "spell"),
}

# Fields hashed into entry_key, in this order.
ENTRY_KEY_FIELDS: tuple[str, ...] = ("authority", "decision_number", "decision_date", "domain", "url")

# No measure is a percentage; ip_count and url_count are counts (>= 0).
PERCENT_COLUMNS: frozenset[str] = frozenset()

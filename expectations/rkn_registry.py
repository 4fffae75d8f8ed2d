"""Great Expectations suite of rkn_registry (see sources/rkn_registry/schema.py).

The standard suite of expectations/common.py: exact columns in order and their types, NOT NULL where the
schema says so (snapshot_at, entry_key, authority, decision number and date, flags, lineage), the line key
(source_file, source_row_number) unique, ip_count/url_count >= 0, at least one row and, given the row
count of the previous snapshot in the lake, at least ROW_COUNT_COLLAPSE_FLOOR (50 %) of it: a registry
does not lose half its entries in a week, so a near-empty snapshot is a broken download and is quarantined
(the history, computed from the lake's snapshots only, is then unchanged). Measured on the 74 real weekly
snapshots: the largest week-on-week drop keeps 68 % of the lines (224 -> 152, 2013-05-30 -> 2013-06-06).
Plus: a batch holds one snapshot (one snapshot_at). entry_key is the md5 digest's 16 bytes: the column's
type (BLOB, read from a Parquet FIXED_LEN_BYTE_ARRAY of 16 bytes) says all a check of its length could;
the parser computes every key itself (tested against hashlib in tests/sources/rkn_registry/test_parse.py),
NOT NULL catches a missing one.
Repeated lines are kept and flagged (is_duplicate, is_repeat_key), not failed: `notes` (the gate's hook)
reports parse.duplicate_summary's counts in the batch's summary, JSON result and quarantine SUMMARY.
The derived dataset registry_history is computed from gated snapshots, not gated itself: it has no suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from expectations.common import (
    dataset_schema,
    standard_suite,
    suite_name,
)
from pipelines.sources.rkn_registry.schema import KEYS, PERCENT_COLUMNS, SCHEMAS

if TYPE_CHECKING:
    import great_expectations as gx

SOURCE_ID = "rkn_registry"
DERIVED = frozenset({"registry_history"})


def build_suite(dataset: str, previous_rows: int | None = None) -> gx.ExpectationSuite:
    """The suite of one dataset; previous_rows is the row count of the latest snapshot already in the lake."""
    import great_expectations as gx

    if dataset in DERIVED:
        raise ValueError(f"{dataset} is derived from gated snapshots, not gated itself")
    schema = dataset_schema(SOURCE_ID, SCHEMAS, dataset)
    suite = standard_suite(
        suite_name(SOURCE_ID, dataset),
        schema,
        KEYS[dataset],
        percent_columns=PERCENT_COLUMNS,
        previous_rows=previous_rows,
    )
    extra = [
        gx.expectations.ExpectColumnUniqueValueCountToBeBetween(
            column="snapshot_at", min_value=1, max_value=1
        ),
    ]
    return gx.ExpectationSuite(name=suite.name, expectations=list(suite.expectations) + extra)


def notes(dataset: str, parquet_path: Path) -> list[str]:
    """The gate's notes on a staged snapshot: its repeated lines (kept and flagged, never dropped)."""
    import pyarrow.parquet as pq

    from pipelines.sources.rkn_registry.parse import duplicate_summary

    if dataset != "registry_snapshot":
        return []
    table = pq.ParquetFile(parquet_path).read(columns=["is_duplicate", "is_repeat_key"])
    counts = duplicate_summary(table)
    head = f"{counts['lines']:,} lines, {counts['entries']:,} distinct entries"
    if not counts["exact_duplicate_lines"] and not counts["same_key_other_ips_lines"]:
        return [f"{head}; no repeated lines"]
    repeats = (
        f"{counts['exact_duplicate_lines']:,} repeat an earlier line exactly, "
        f"{counts['same_key_other_ips_lines']:,} list an entry again with other IPs"
    )
    return [f"{head}; repeated lines kept and flagged (is_duplicate, is_repeat_key):", repeats]

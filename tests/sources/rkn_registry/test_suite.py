"""The rkn_registry suite: built from the standard helpers, with the row-count collapse floor.

End-to-end runs through pipelines/gate.py (quarantine of a near-empty snapshot, the duplicate notes) are in
tests/test_rkn_pipeline.py.
"""

from __future__ import annotations

import itertools

import pyarrow as pa
import pytest

from expectations.common import ROW_COUNT_COLLAPSE_FLOOR
from expectations.rkn_registry import build_suite
from pipelines import gate
from pipelines.lake import PART, partition_dir, write_batches
from pipelines.sources.rkn_registry.parse import parse_snapshot
from pipelines.sources.rkn_registry.schema import REGISTRY_SNAPSHOT
from tests.conftest import require_real
from tests.rkn_fixtures import hexed

DUMP = (
    "Updated: 2025-04-05 13:00:00 +0000\n"
    "192.0.2.1;a.example;http://a.example/x;суд;2-1/2025;2025-03-01\n"
    "192.0.2.2;b.example;http://b.example/y;ФСКН;2/1/11-1734;2013-01-02\n"
).encode("cp1251")


def kinds(suite) -> list[str]:
    return [e.expectation_type for e in suite.expectations]


def test_suite_checks_columns_keys_and_a_row_count_floor_against_the_previous_snapshot():
    suite = build_suite("registry_snapshot", previous_rows=6)
    assert "expect_table_columns_to_match_ordered_list" in kinds(suite)
    assert "expect_compound_columns_to_be_unique" in kinds(suite)
    not_null = {
        e.column for e in suite.expectations if e.expectation_type == "expect_column_values_to_not_be_null"
    }
    assert not_null == {f.name for f in REGISTRY_SNAPSHOT if not f.nullable}
    floors = [
        e.min_value
        for e in suite.expectations
        if e.expectation_type == "expect_table_row_count_to_be_between"
    ]
    assert floors == [1, 3]


def test_unknown_dataset_has_no_suite():
    with pytest.raises(ValueError, match="unknown rkn_registry dataset"):
        build_suite("registry_entries")


def test_derived_history_is_not_gated():
    with pytest.raises(ValueError, match="derived from gated snapshots"):
        build_suite("registry_history")


def test_no_real_week_loses_half_the_registry():
    folder = require_real("rkn_zi")
    counts = [
        sum(1 for line in p.read_bytes().splitlines()[1:] if line) for p in sorted(folder.glob("*.csv"))
    ]
    shares = [new / old for old, new in itertools.pairwise(counts)]
    assert min(shares) >= ROW_COUNT_COLLAPSE_FLOOR


def validate(settings, table: pa.Table):
    path = partition_dir(settings.staging_dir, "rkn_registry", "registry_snapshot", "v1") / PART
    write_batches(path, table.schema, table.to_batches())
    return gate.validate_batch(settings, "rkn_registry", "registry_snapshot", "v1", path)


def test_parsed_snapshot_passes_the_gate(settings):
    result = validate(settings, parse_snapshot([("dump.csv", DUMP)], vintage="v1").table)
    assert result.passed, result.failed


def test_entry_key_in_hex_instead_of_the_digests_bytes_fails_the_gate(settings):
    """The key's type is its check: 32 hex characters (as staged before the key held the digest's bytes)
    are VARCHAR, not BLOB."""
    table = parse_snapshot([("dump.csv", DUMP)], vintage="v1").table
    result = validate(settings, hexed(table))
    assert [line.split("(", 1)[0] for line in result.failed] == ["expect_column_values_to_be_of_type"]

"""derive: the lake's registry_history equals build_history over the lake's snapshots, whatever the order."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import lake
from pipelines.registry import get_source
from pipelines.sources.rkn_registry import derive as derive_module
from pipelines.sources.rkn_registry import history as history_module
from pipelines.sources.rkn_registry.derive import history_path, read_coverage
from pipelines.sources.rkn_registry.history import build_history
from pipelines.sources.rkn_registry.parse import parse_files, snapshot_files, vintage_of
from pipelines.sources.rkn_registry.schema import HISTORY, REGISTRY_SNAPSHOT
from tests.conftest import SAMPLES_DIR
from tests.rkn_fixtures import hexed, twin_of, with_key

SPEC = get_source("rkn_registry")
SAMPLE_FOLDERS = ("2025-04-05", "2025-05-10", "2025-06-14")


@pytest.fixture(scope="module")
def samples():
    parsed = []
    for folder in SAMPLE_FOLDERS:
        paths = snapshot_files(SAMPLES_DIR / "rkn_registry" / folder)
        first = parse_files(paths, "x")
        parsed.append(parse_files(paths, vintage_of(first.snapshot_at)))
    return parsed


def replaced(table: pa.Table, column: str, value) -> pa.Table:
    """The table with every value of `column` set to `value` (same type)."""
    index = table.schema.get_field_index(column)
    field = table.schema.field(index)
    return table.set_column(index, field, pa.array([value] * table.num_rows, field.type))


def put(settings, snapshot, vintage: str | None = None, table: pa.Table | None = None) -> str:
    """A gated snapshot in the lake, as publish_to_lake leaves it (vintage: its own unless given)."""
    vintage = vintage or vintage_of(snapshot.snapshot_at)
    table = replaced(snapshot.table if table is None else table, "vintage", vintage)
    path = lake.partition_dir(settings.lake_dir, "rkn_registry", "registry_snapshot", vintage) / lake.PART
    lake.write_batches(path, REGISTRY_SNAPSHOT, table.to_batches())
    return vintage


def stored(settings):
    return pq.read_table(history_path(settings.lake_dir, "rkn_registry")).replace_schema_metadata(None)


def test_history_follows_the_lake_and_records_the_vintages_it_covers(settings, samples):
    for snapshot in samples:
        put(settings, snapshot)
        assert SPEC.derive(settings) == {"registry_history": history_path(settings.lake_dir, "rkn_registry")}
    assert stored(settings).equals(build_history([s.table for s in samples]))
    assert stored(settings).schema == HISTORY
    coverage = read_coverage(history_path(settings.lake_dir, "rkn_registry"))
    assert coverage == {
        vintage_of(s.snapshot_at): s.snapshot_at.replace(tzinfo=None).isoformat() for s in samples
    }


def test_nothing_new_in_the_lake_leaves_the_file_untouched(settings, samples):
    for snapshot in samples:
        put(settings, snapshot)
    SPEC.derive(settings)
    path = history_path(settings.lake_dir, "rkn_registry")
    before, stat = path.read_bytes(), path.stat()
    SPEC.derive(settings)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stat.st_mtime_ns


def incremental_and_recomputed(settings, samples) -> tuple[bytes, bytes]:
    """The history file's bytes after deriving once per snapshot, and after recomputing it from scratch."""
    for snapshot in samples:
        put(settings, snapshot)
        SPEC.derive(settings)  # one snapshot newer than all each time: the fast path after the first
    path = history_path(settings.lake_dir, "rkn_registry")
    incremental = path.read_bytes()
    path.unlink()
    SPEC.derive(settings)
    return incremental, path.read_bytes()


def test_fast_path_gives_the_bytes_of_a_full_recomputation(settings, samples):
    incremental, recomputed = incremental_and_recomputed(settings, samples)
    assert recomputed == incremental


def test_a_late_snapshot_and_the_same_snapshot_twice_give_the_in_order_history(settings, samples):
    put(settings, samples[2])
    SPEC.derive(settings)
    put(settings, samples[0])  # older than the newest loaded
    SPEC.derive(settings)
    put(settings, samples[1])
    put(settings, samples[1], vintage="2025-05-11-again")  # the same snapshot under another vintage
    SPEC.derive(settings)
    assert stored(settings).equals(build_history([s.table for s in samples]))


def test_a_snapshot_identical_to_its_neighbour_is_covered_though_it_changes_no_spell(settings, samples):
    first = put(settings, samples[0])
    SPEC.derive(settings)
    later = samples[1].snapshot_at.replace(tzinfo=None)
    same = replaced(samples[0].table, "snapshot_at", later)  # the first snapshot's lines, a month later
    put(settings, samples[0], vintage="later", table=same)
    SPEC.derive(settings)
    assert set(read_coverage(history_path(settings.lake_dir, "rkn_registry"))) == {first, "later"}
    assert stored(settings).equals(build_history([samples[0].table, same]))


def test_a_corrupt_history_file_is_recomputed(settings, samples):
    for snapshot in samples:
        put(settings, snapshot)
    SPEC.derive(settings)
    path = history_path(settings.lake_dir, "rkn_registry")
    path.write_bytes(b"not parquet")
    SPEC.derive(settings)
    assert stored(settings).equals(build_history([s.table for s in samples]))


def test_a_vintage_gone_from_the_lake_is_gone_from_the_history(settings, samples):
    vintages = [put(settings, s) for s in samples]
    SPEC.derive(settings)
    shutil.rmtree(lake.partition_dir(settings.lake_dir, "rkn_registry", "registry_snapshot", vintages[1]))
    SPEC.derive(settings)
    assert stored(settings).equals(build_history([samples[0].table, samples[2].table]))


@pytest.mark.parametrize(
    ("covered", "wanted", "expected"),
    [
        ({"a": "2025-01-01T00:00:00"}, {"a": "2025-01-01T00:00:00", "b": "2025-02-01T00:00:00"}, "b"),
        ({}, {"b": "2025-02-01T00:00:00"}, "b"),
        ({"b": "2025-02-01T00:00:00"}, {"a": "2025-01-01T00:00:00", "b": "2025-02-01T00:00:00"}, None),
        ({"a": "2025-01-01T00:00:00"}, {"a": "2025-01-01T00:00:00", "c": "2025-01-01T00:00:00"}, None),
        (
            {"a": "2025-01-01T00:00:00"},
            {"a": "2025-01-01T00:00:00", "b": "2025-02-01T00:00:00", "c": "2025-03-01T00:00:00"},
            None,
        ),
        (None, {"a": "2025-01-01T00:00:00"}, None),
    ],
    ids=["one-newer", "first", "late", "same-time-again", "two-new", "no-history"],
)
def test_the_fast_path_is_taken_only_for_one_snapshot_newer_than_all(covered, wanted, expected):
    assert derive_module._fast_path_vintage(covered, wanted) == expected


def test_fast_path_over_many_row_groups_gives_the_bytes_of_a_full_recomputation(
    settings, samples, monkeypatch
):
    monkeypatch.setattr(history_module, "BATCH_ROWS", 3)  # row groups of 3 spells: new spells cross them
    incremental, recomputed = incremental_and_recomputed(settings, samples)
    assert pq.ParquetFile(history_path(settings.lake_dir, "rkn_registry")).metadata.num_row_groups > 2
    assert recomputed == incremental


def test_keys_the_fast_path_cannot_tell_apart_are_recomputed(settings, samples):
    put(settings, samples[0])
    SPEC.derive(settings)
    key = samples[0].table.column("entry_key")[0].as_py()
    second = with_key(samples[1].table, 0, twin_of(key))  # same first 8 bytes, another entry
    put(settings, samples[1], table=second)
    SPEC.derive(settings)
    assert stored(settings).equals(build_history([samples[0].table, second]))


def test_a_history_in_the_former_entry_key_order_is_recomputed(settings, samples):
    """Files written before the rows were ordered by (first_seen_at, entry_key) were in entry_key order:
    the fast path refuses them (extending one would keep the wrong order) and the history is recomputed."""
    put(settings, samples[0])
    put(settings, samples[1])
    SPEC.derive(settings)
    path = history_path(settings.lake_dir, "rkn_registry")
    current = pq.read_table(path)
    key_ordered = current.sort_by([("entry_key", "ascending"), ("first_seen_at", "ascending")])
    assert not key_ordered.equals(current)  # the samples' spells start at different snapshots
    pq.write_table(key_ordered, path)  # same coverage metadata: only the order differs
    with pytest.raises(history_module.Unmergeable, match="order"):
        history_module.history_keys(key_ordered.select(history_module.PLAN_COLUMNS))
    put(settings, samples[2])
    SPEC.derive(settings)
    assert stored(settings).equals(build_history([s.table for s in samples]))


def test_a_lake_written_with_hex_entry_keys_gets_the_digests_bytes(settings, samples):
    """Snapshots and a history written when entry_key held 32 hex digits: the history is recomputed (its
    columns are not HISTORY's) even when no snapshot is new, and the old snapshots' keys are read as the
    bytes they spell (DuckDB alone would take the hex text for the bytes)."""
    vintage = put(settings, samples[0])
    SPEC.derive(settings)
    snapshot = lake.partition_dir(settings.lake_dir, "rkn_registry", "registry_snapshot", vintage) / lake.PART
    pq.write_table(hexed(pq.read_table(snapshot)), snapshot)
    path = history_path(settings.lake_dir, "rkn_registry")
    pq.write_table(hexed(pq.read_table(path)), path)  # coverage kept: only the key's type differs
    assert read_coverage(path) is None
    SPEC.derive(settings)
    assert stored(settings).equals(build_history([samples[0].table]))
    pq.write_table(hexed(pq.read_table(path)), path)
    put(settings, samples[1])
    SPEC.derive(settings)
    assert stored(settings).equals(build_history([s.table for s in samples[:2]]))

"""History of registry entries: exact reconciliation over the 74 real snapshots, idempotent replays."""

from __future__ import annotations

import random
import time

import numpy as np
import pyarrow as pa
import pytest

from pipelines.errors import PipelineError
from pipelines.sources.rkn_registry.history import (
    HISTORY,
    NEW_SPELL_COLUMNS,
    PLAN_COLUMNS,
    STREAMED_COLUMNS,
    Unmergeable,
    add_snapshot,
    build_history,
    extended_batches,
    plan_extension,
    stable_argsort,
    state_at,
)
from pipelines.sources.rkn_registry.parse import parse_files, snapshot_files
from tests.conftest import SAMPLES_DIR, require_real
from tests.rkn_fixtures import hexed, twin_of, with_key

SAMPLE_VINTAGES = ("2025-04-05", "2025-05-10", "2025-06-14")


def sample_snapshots():
    return [parse_files(snapshot_files(SAMPLES_DIR / "rkn_registry" / v), v) for v in SAMPLE_VINTAGES]


def naive(at):
    return at.replace(tzinfo=None)  # history times are naive UTC (the snapshot_at column type)


def keys(snapshot) -> set[str]:
    return set(snapshot.table.column("entry_key").to_pylist())


@pytest.fixture(scope="module")
def real_snapshots():
    folder = require_real("rkn_zi")
    return [parse_files([path], path.stem) for path in sorted(folder.glob("*.csv"))]


def test_sample_history_has_spells_removals_and_new_ips():
    snaps = sample_snapshots()
    history = build_history([s.table for s in snaps])
    casino = [r for r in history.to_pylist() if r["domain"] == "*.casino.example.test"]
    assert [(r["spell"], r["removed_at"], r["is_active"]) for r in casino] == [
        (1, naive(snaps[1].snapshot_at), False),
        (2, None, True),
    ]
    forum = next(r for r in history.to_pylist() if r["domain"] == "forum.example.test")
    assert forum["ips"] == "203.0.113.7" and forum["first_seen_at"] == naive(snaps[0].snapshot_at)
    news = next(r for r in history.to_pylist() if r["domain"] == "news.example.test")
    assert news["ips"] == "203.0.113.90"  # as in its last snapshot (2025-05-10 also listed .91)
    for snap in snaps:
        assert state_at(history, snap.snapshot_at) == keys(snap)


def test_history_is_the_same_when_snapshots_arrive_late_twice_or_shuffled():
    snaps = [s.table for s in sample_snapshots()]
    reference = build_history(snaps)
    assert build_history([snaps[2], snaps[0], snaps[1]]).equals(reference)  # late arrival
    assert build_history(snaps + snaps).equals(reference)  # every snapshot loaded twice


def test_add_snapshot_refuses_a_late_snapshot():
    snaps = [s.table for s in sample_snapshots()]
    history = build_history(snaps[1:])
    with pytest.raises(PipelineError, match="not newer"):
        add_snapshot(history, snaps[0])
    with pytest.raises(PipelineError, match="not newer"):
        add_snapshot(history, snaps[2])  # the same snapshot again


def test_real_history_state_after_each_of_74_snapshots_equals_that_snapshot(real_snapshots):
    assert len(real_snapshots) == 74
    started = time.perf_counter()
    history = build_history([s.table for s in real_snapshots])
    assert time.perf_counter() - started < 60
    for snapshot in real_snapshots:
        assert state_at(history, snapshot.snapshot_at) == keys(snapshot), snapshot.table["source_file"][0]
    assert history.schema == HISTORY


def test_real_history_is_identical_when_shuffled_and_loaded_twice(real_snapshots):
    tables = [s.table for s in real_snapshots]
    reference = build_history(tables)
    shuffled = tables + tables[::7]
    random.Random(3).shuffle(shuffled)
    assert build_history(shuffled).equals(reference)


def test_real_incremental_history_equals_recomputation_at_every_step(real_snapshots):
    history = HISTORY.empty_table()
    for i, snapshot in enumerate(real_snapshots):
        history = add_snapshot(history, snapshot.table)
        if i % 10 == 9 or i == len(real_snapshots) - 1:
            assert history.equals(build_history([s.table for s in real_snapshots[: i + 1]]))


def extended_in_batches(history, snapshot, rows_per_batch: int, streamed_rows: int):
    """add_snapshot's steps by hand, with tiny batches: every batch boundary case on a few rows."""
    rows = snapshot.combine_chunks()
    new_at = rows.column("snapshot_at")[0].as_py()
    plan = plan_extension(history.select(PLAN_COLUMNS), rows.column("entry_key"), rows.column("ips"), new_at)
    new_spells = rows.select(NEW_SPELL_COLUMNS).take(plan.new_rows)
    streamed = history.select(STREAMED_COLUMNS).to_batches(max_chunksize=streamed_rows)
    return list(extended_batches(plan, history.select(PLAN_COLUMNS), streamed, new_spells, rows_per_batch))


@pytest.mark.parametrize(("rows_per_batch", "streamed_rows"), [(1, 1), (2, 3), (3, 2), (5, 7), (1000, 4)])
def test_extension_cut_in_any_batches_equals_the_recomputation(rows_per_batch, streamed_rows):
    snaps = [s.table for s in sample_snapshots()]  # 2025-05-10 lists keys twice: repeated lines merge
    history = HISTORY.empty_table()
    for i, snapshot in enumerate(snaps):
        batches = extended_in_batches(history, snapshot, rows_per_batch, streamed_rows)
        assert (
            all(b.num_rows == rows_per_batch for b in batches[:-1]) and batches[-1].num_rows <= rows_per_batch
        )
        history = pa.Table.from_batches(batches, HISTORY)
        assert history.equals(build_history(snaps[: i + 1]))


def test_add_snapshot_refuses_keys_it_cannot_tell_apart():
    first, second = (s.table for s in sample_snapshots()[:2])
    history = build_history(first)
    key = first.column("entry_key")[0].as_py()
    with pytest.raises(Unmergeable, match="first 8 bytes"):
        add_snapshot(history, with_key(second, 0, twin_of(key)))
    with pytest.raises(Unmergeable, match="fixed_size_binary"):  # keys as hex text: another type
        add_snapshot(history, hexed(second))


def test_stable_argsort_is_numpys_stable_argsort():
    values = np.random.default_rng(5).integers(0, 2**64 - 1, 50_000, dtype=np.uint64)
    values[::7] = values[3]  # repeated values keep their index order
    assert np.array_equal(stable_argsort(values), np.argsort(values, kind="stable"))
    # two values sharing their high bits but out of order by index: the packed sort cannot tell, argsort does
    assert stable_argsort(np.array([5, 4], np.uint64)).tolist() == [1, 0]
    assert stable_argsort(np.zeros(0, np.uint64)).tolist() == []

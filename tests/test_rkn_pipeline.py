"""rkn_registry end to end: snapshot files -> landing -> parse -> the real gate -> lake -> registry_history.

Replays go through `pipelines.run.backfill` (which orders a folder by the snapshots' `Updated:` lines,
quarantines what the gate refuses and derives the history once at the end) or through the single steps
(stage_vintage, gate_vintage, publish_to_lake, which derives after each publish).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines import lake, run
from pipelines.errors import GateFailed
from pipelines.fetch import land_files
from pipelines.registry import get_source
from pipelines.settings import load_settings
from pipelines.sources.rkn_registry.derive import history_path
from pipelines.sources.rkn_registry.history import state_at
from tests.conftest import SAMPLES_DIR, require_real

SPEC = get_source("rkn_registry")
SAMPLES = SAMPLES_DIR / "rkn_registry"


def history_file(settings) -> Path:
    return history_path(settings.lake_dir, "rkn_registry")


def history(settings):
    return pq.read_table(history_file(settings)).replace_schema_metadata(None)


def lake_snapshots(settings) -> dict:
    """snapshot_at -> set of entry keys, for every registry_snapshot vintage in the lake."""
    pattern = str(settings.lake_dir / "rkn_registry" / "registry_snapshot" / "vintage=*" / lake.PART)
    rows = duckdb.sql(
        f"select snapshot_at, entry_key from read_parquet('{pattern}', hive_partitioning = false)"
    ).fetchall()
    keys: dict = {}
    for at, key in rows:
        keys.setdefault(at, set()).add(key)
    return keys


def assert_history_reproduces_every_snapshot(settings) -> None:
    table = history(settings)
    snapshots = lake_snapshots(settings)
    assert snapshots
    for at, keys in snapshots.items():
        assert state_at(table, at) == keys, at


def dump(updated: str, lines: list[str]) -> bytes:
    return ("\n".join([f"Updated: {updated}", *lines]) + "\n").encode("cp1251")


def lines(count: int) -> list[str]:
    return [
        f"192.0.2.{i % 250};d{i}.example.test;http://d{i}.example.test/page;суд;2-{i}/2025;2025-03-01"
        for i in range(count)
    ]


def test_sample_snapshots_load_and_the_history_equals_each_snapshot(settings):
    result = run.backfill("rkn_registry", settings, SAMPLES)
    assert [r.vintage for r in result.loaded] == [
        "2025-04-05T130900Z",
        "2025-05-10T220900Z",
        "2025-06-14T210900Z",
    ]
    assert not result.quarantined
    assert result.derived == {"registry_history": history_file(settings)}
    assert_history_reproduces_every_snapshot(settings)
    # the repeated lines of 2025-05-10 are reported by the gate, not dropped
    notes = result.loaded[1].notes
    assert "1 repeat an earlier line exactly, 1 list an entry again with other IPs" in notes[-1]
    summary = settings.gate_dir / "rkn_registry" / "2025-05-10T220900Z" / "registry_snapshot.txt"
    assert "note: 1 repeat an earlier line exactly" in summary.read_text(encoding="utf-8")
    assert (
        lake.row_count(
            lake.partition_dir(settings.lake_dir, "rkn_registry", "registry_snapshot", "2025-05-10T220900Z")
            / lake.PART
        )
        == 8
    )


def test_near_empty_snapshot_is_quarantined_and_the_history_is_unchanged(settings, tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "dump-a.csv").write_bytes(dump("2025-04-05 10:00:00 +0000", lines(60)))
    run.backfill("rkn_registry", settings, full)
    before = history_file(settings).read_bytes()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "dump-b.csv").write_bytes(dump("2025-04-12 10:00:00 +0000", lines(3)))
    result = run.backfill("rkn_registry", settings, broken)
    assert len(result.quarantined) == 1
    assert (
        "quarantined" in result.quarantined[0]
        and "expect_table_row_count_to_be_between" in result.quarantined[0]
    )
    summary = settings.quarantine_dir / "rkn_registry" / "2025-04-12T100000Z" / "SUMMARY.txt"
    assert "observed 3 rows" in summary.read_text(encoding="utf-8")
    assert "note: 3 lines, 3 distinct entries" in summary.read_text(encoding="utf-8")
    assert history_file(settings).read_bytes() == before


def test_empty_snapshot_is_refused_and_the_history_is_unchanged(settings, tmp_path):
    run.backfill("rkn_registry", settings, SAMPLES)
    before = history_file(settings).read_bytes()
    (tmp_path / "empty.csv").write_bytes(dump("2025-06-21 10:00:00 +0000", []))
    result = run.backfill("rkn_registry", settings, tmp_path)
    assert len(result.quarantined) == 1 and "observed 0 rows" in result.quarantined[0]
    assert "\n" not in result.quarantined[0]
    assert history_file(settings).read_bytes() == before


def pending_folders(settings) -> list[Path]:
    return list((settings.lake_dir / "rkn_registry" / "registry_history").glob(".pending-*"))


def test_a_run_derives_while_gating_and_keeps_the_history_only_when_the_gate_passed(settings, tmp_path):
    """ingest_source computes the new history beside the gate; it replaces the current file only after
    the gate passed, and a refused snapshot leaves the history byte-identical and no pending file."""
    first, good, broken = (tmp_path / name for name in ("first", "good", "broken"))
    for folder, updated, count in (
        (first, "2025-04-05", 60),
        (good, "2025-04-12", 58),
        (broken, "2025-04-19", 3),
    ):
        folder.mkdir()
        (folder / "dump.csv").write_bytes(dump(f"{updated} 10:00:00 +0000", lines(count)))
    run.ingest_source(SPEC, settings, mirror=first, vintage="w1")
    run.ingest_source(SPEC, settings, mirror=good, vintage="w2")
    assert_history_reproduces_every_snapshot(settings)
    recomputed = load_settings(data_dir=tmp_path / "again")
    run.backfill("rkn_registry", recomputed, tmp_path / "first")
    run.backfill("rkn_registry", recomputed, tmp_path / "good")
    assert history(settings).equals(history(recomputed))
    before = history_file(settings).read_bytes()
    with pytest.raises(GateFailed, match="expect_table_row_count_to_be_between"):
        run.ingest_source(SPEC, settings, mirror=broken, vintage="w3")
    assert history_file(settings).read_bytes() == before
    assert pending_folders(settings) == []


def load_steps(settings, vintage: str, files: dict[str, Path]) -> None:
    """One snapshot through land -> stage -> gate -> lake (+ derive) under the given vintage."""
    landing = land_files(SPEC, settings, files, vintage)
    staged = run.stage_vintage(SPEC, settings, vintage, landing.raw_dir)
    run.gate_vintage(SPEC, settings, vintage, staged)
    run.publish_to_lake(SPEC, settings, vintage, staged)


def test_late_and_repeated_snapshots_give_the_in_order_history(tmp_path):
    in_order = load_settings(data_dir=tmp_path / "in-order")
    for folder in ("2025-04-05", "2025-05-10", "2025-06-14"):
        files = {p.name: p for p in sorted((SAMPLES / folder).glob("*.csv"))}
        load_steps(in_order, folder, files)
    shuffled = load_settings(data_dir=tmp_path / "shuffled")
    for folder in ("2025-06-14", "2025-04-05", "2025-05-10"):  # April and May arrive late
        files = {p.name: p for p in sorted((SAMPLES / folder).glob("*.csv"))}
        load_steps(shuffled, folder, files)
    may = {"dump.csv": SAMPLES / "2025-05-10" / "dump.csv"}
    load_steps(shuffled, "2025-05-10-again", may)  # the same snapshot once more, under another vintage
    assert history(shuffled).equals(history(in_order))
    assert_history_reproduces_every_snapshot(shuffled)


# ---- real data: the 74 weekly snapshots of 2012-11 … 2014-04 --------------------------------------


@pytest.fixture(scope="module")
def real_replay(tmp_path_factory):
    folder = require_real("rkn_zi")
    settings = load_settings(data_dir=tmp_path_factory.mktemp("real") / "data")
    started = time.perf_counter()
    result = run.backfill("rkn_registry", settings, folder)
    seconds = time.perf_counter() - started
    print(f"\nreplay of {len(result.loaded)} real snapshots through the gate: {seconds:.1f} s")
    return settings, result, seconds


@pytest.mark.real
@pytest.mark.slow
def test_real_replay_history_equals_each_of_the_74_snapshots(real_replay):
    settings, result, _ = real_replay
    assert len(result.loaded) == 74 and not result.quarantined
    assert len(lake_snapshots(settings)) == 74
    assert_history_reproduces_every_snapshot(settings)


@pytest.mark.real
@pytest.mark.slow
def test_real_replay_again_leaves_the_history_byte_identical(real_replay):
    settings, _, _ = real_replay
    before = history_file(settings).read_bytes()
    again = run.backfill("rkn_registry", settings, require_real("rkn_zi"))
    assert not any(r.changed for r in again.loaded)
    assert history_file(settings).read_bytes() == before


@pytest.mark.real
@pytest.mark.slow
def test_real_replay_of_a_shuffled_folder_gives_the_identical_history(real_replay, tmp_path):
    settings, _, _ = real_replay
    files = sorted(require_real("rkn_zi").glob("*.csv"))
    names = [f"snapshot-{i:03d}.csv" for i in range(len(files))]
    random.Random(7).shuffle(names)  # file names no longer in time order
    folder = tmp_path / "shuffled"
    folder.mkdir()
    for name, path in zip(names, files, strict=True):
        (folder / name).symlink_to(path)
    other = load_settings(data_dir=tmp_path / "data")
    run.backfill("rkn_registry", other, folder)
    assert history_file(other).read_bytes() == history_file(settings).read_bytes()

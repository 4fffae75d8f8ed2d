"""End to end through the CLI for the blocking sources: `transparency run --mirror data/samples` loads every
source of the sample mirror (one folder per source), builds the blocking marts and publishes them; the
backfill command replays snapshot files in the order of their own dates; bad invocations are one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines import lake
from pipelines.registry import SOURCES
from pipelines.settings import load_settings
from pipelines.sources.rkn_registry.history import state_at
from pipelines.sources.rkn_registry.parse import parse_files, snapshot_files, vintage_of
from tests.conftest import SAMPLES_DIR
from tests.test_pipeline import cli, marts_snapshot

pytestmark = pytest.mark.slow

RKN_SAMPLES = SAMPLES_DIR / "rkn_registry"


def query(data_dir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    """A data dir after `transparency run --mirror data/samples` (all four sources)."""
    data_dir = tmp_path_factory.mktemp("blocking") / "data"
    assert cli(data_dir, "run", "--mirror", str(SAMPLES_DIR)) == 0
    return data_dir


def test_run_on_the_sample_mirror_loads_every_source(loaded):
    for spec in SOURCES:
        for dataset in spec.datasets:
            assert lake.lake_vintages(loaded / "lake", spec.source_id, dataset), (spec.source_id, dataset)
    history = loaded / "lake" / "rkn_registry" / "registry_history" / "current" / lake.PART
    assert pq.read_metadata(history).num_rows > 0


def test_the_run_renders_the_data_docs_once_with_every_source(loaded):
    index = load_settings(data_dir=loaded).docs_dir / "index.html"
    pages = [page.name for page in (index.parent / "validations").rglob("*.html")]
    for spec in SOURCES:  # one page per gated dataset, rendered at the end of the run
        for dataset in spec.datasets:
            assert any(f"{spec.source_id}-{dataset}-" in name for name in pages), (spec.source_id, dataset)
    assert "rkn_registry" in index.read_text()


def test_registry_entries_reproduce_the_newest_sample_snapshot(loaded):
    newest = max(p for p in RKN_SAMPLES.iterdir() if p.is_dir())
    snapshot = parse_files(snapshot_files(newest), newest.name)
    expected = set(snapshot.table.column("entry_key").to_pylist())
    active = {key for (key,) in query(loaded, "select entry_key from marts.registry_entries where is_active")}
    assert active == {key.hex() for key in expected}  # the lake's digests, in hex in the marts
    history = pq.read_table(loaded / "lake" / "rkn_registry" / "registry_history" / "current" / lake.PART)
    assert state_at(history, snapshot.snapshot_at) == expected


def test_testlist_and_ooni_marts_are_filled(loaded):
    lists = dict(query(loaded, "select country_code, count(*) from marts.testlist_urls group by 1"))
    assert set(lists) == {"KZ", "GLOBAL"}
    quarters = {
        q for (q,) in query(loaded, "select distinct quarter from marts.ooni_blocking_by_domain_quarter")
    }
    assert "2025Q2" in quarters
    evidence = {
        e
        for (e,) in query(loaded, "select evidence from marts.blocked_news_domains where quarter = '2025Q2'")
    }
    assert evidence == {"confirmed", "sustained_anomalies"}


def test_ooni_days_are_never_duplicated_across_windows(loaded):
    (duplicates,) = query(
        loaded,
        "select count(*) from (select country_code, quarter, domain from marts.ooni_blocking_by_domain_quarter "
        "group by all having count(*) > 1)",
    )
    assert duplicates == (0,)


def test_rerun_on_an_unchanged_mirror_changes_nothing(loaded, capsys):
    before = marts_snapshot(loaded)
    capsys.readouterr()
    assert cli(loaded, "run", "--mirror", str(SAMPLES_DIR)) == 0
    err = capsys.readouterr().err
    assert err.count("unchanged upstream") == sum(
        len([p for p in (SAMPLES_DIR / s.source_id).iterdir() if p.is_dir()]) for s in SOURCES
    )
    assert "marts unchanged" in err
    assert marts_snapshot(loaded) == before


def test_backfill_replays_snapshot_files_in_the_order_of_their_updated_lines(tmp_path, capsys):
    folder = tmp_path / "dumps"
    folder.mkdir()
    snapshots = sorted(p for p in RKN_SAMPLES.iterdir() if p.is_dir())
    # name the files so that name order is the reverse of time order; split parts stay a subfolder
    for n, snapshot in enumerate(reversed(snapshots)):
        files = snapshot_files(snapshot)
        if len(files) == 1:
            shutil.copyfile(files[0], folder / f"{n:02d}-dump.csv")
        else:
            shutil.copytree(snapshot, folder / f"{n:02d}-parts")
    data_dir = tmp_path / "data"
    assert cli(data_dir, "backfill", "rkn_registry", str(folder)) == 0
    out = capsys.readouterr().out
    assert f"backfill rkn_registry: {len(snapshots)} copies, {len(snapshots)} loaded, 0 quarantined" in out
    history = pq.read_table(data_dir / "lake" / "rkn_registry" / "registry_history" / "current" / lake.PART)
    landed = sorted(
        p.name for p in (data_dir / "raw" / "rkn_registry").iterdir() if not p.name.startswith(".")
    )
    for snapshot in snapshots:
        parsed = parse_files(snapshot_files(snapshot), snapshot.name)
        assert vintage_of(parsed.snapshot_at) in landed
        assert state_at(history, parsed.snapshot_at) == set(parsed.table.column("entry_key").to_pylist())
    assert query(data_dir, "select count(*) from marts.registry_entries")[0][0] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("backfill", "rkn_registry", "/nonexistent/folder"),
            "backfill folder not found: /nonexistent/folder",
        ),
        (("backfill", "google_removals", "."), "google_removals has no backfill"),
        (("backfill", "nope", "."), "unknown source 'nope'"),
        (
            ("run", "--sources", "rkn_registry", "--mirror", str(SAMPLES_DIR / "google_removals")),
            "holds no file of the rkn_registry plan",
        ),
    ],
)
def test_bad_invocations_are_one_line(tmp_path, capsys, args, message):
    assert cli(tmp_path / "data", *args) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err, err


def test_an_invalid_setting_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TRANSPARENCY_OONI_SINCE", "last tuesday")
    assert cli(tmp_path / "data", "status") == 1
    assert (
        capsys.readouterr().err.strip()
        == "error: TRANSPARENCY_OONI_SINCE='last tuesday' is not a valid value"
    )

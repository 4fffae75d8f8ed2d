"""The synthetic OONI responses parse, replay the incremental load (two overlapping windows) and pass the gate."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from pipelines import gate
from pipelines.lake import PART, partition_dir, write_batches
from pipelines.sources.ooni_aggregates.parse import (
    DATASET,
    SOURCE_ID,
    merge_days,
    parse_raw_name,
    parse_vintage,
    refetch_window,
)
from pipelines.sources.ooni_aggregates.schema import SCHEMAS
from tests.conftest import SAMPLES_DIR

SAMPLE_DIR = SAMPLES_DIR / SOURCE_ID
VINTAGES = ("2026-06-30", "2026-07-02")


def load(vintage: str) -> tuple[pa.Table, tuple[dt.date, dt.date]]:
    (parsed,) = parse_vintage(SAMPLE_DIR / vintage, vintage)
    _, since, until = parse_raw_name(parsed.source_file)
    return pa.Table.from_batches(list(parsed.batches), schema=SCHEMAS[DATASET]), (since, until)


@pytest.fixture(scope="module")
def samples() -> dict[str, tuple[pa.Table, tuple[dt.date, dt.date]]]:
    return {vintage: load(vintage) for vintage in VINTAGES}


def test_samples_parse_with_nine_domains_a_day(samples):
    assert {v: (t.num_rows, window) for v, (t, window) in samples.items()} == {
        "2026-06-30": (63, (dt.date(2026, 6, 24), dt.date(2026, 7, 1))),
        "2026-07-02": (45, (dt.date(2026, 6, 28), dt.date(2026, 7, 3))),
    }


def test_second_sample_is_the_refetch_window_after_the_first(samples):
    first, _ = samples["2026-06-30"]
    last_loaded = max(first.column("measurement_day").to_pylist())
    assert refetch_window(last_loaded, dt.date(2026, 7, 2)) == samples["2026-07-02"][1]


def test_replaying_both_samples_gives_each_day_once_with_the_newer_counts(samples):
    (first, first_window), (second, second_window) = samples["2026-06-30"], samples["2026-07-02"]
    merged = merge_days(merge_days(first.slice(0, 0), first, first_window), second, second_window)
    days = merged.column("measurement_day").to_pylist()
    assert sorted(set(days)) == [dt.date(2026, 6, 24) + dt.timedelta(days=i) for i in range(9)]
    assert (
        merged.group_by(["country_code", "measurement_day", "domain"]).aggregate([]).num_rows
        == merged.num_rows
        == 81
    )
    by_key = {(r["measurement_day"], r["domain"]): r for r in merged.to_pylist()}
    old = {(r["measurement_day"], r["domain"]): r for r in first.to_pylist()}
    key = (dt.date(2026, 6, 29), "opposition-kz.example")
    assert by_key[key]["measurements"] == old[key]["measurements"] + 4
    assert by_key[key]["vintage"] == "2026-07-02"
    unchanged = (dt.date(2026, 6, 28), "opposition-kz.example")
    assert by_key[unchanged]["measurements"] == old[unchanged]["measurements"]


def test_sample_counts_are_consistent(samples):
    for table, _ in samples.values():
        for row in table.to_pylist():
            assert row["ok"] == row["measurements"] - row["anomalies"] - row["failures"]
            assert row["confirmed"] <= row["anomalies"] <= row["measurements"]


def test_samples_are_marked_synthetic():
    assert "synthetic" in (SAMPLE_DIR / "README.md").read_text().lower()


def test_sample_batches_pass_the_gate(samples, settings):
    for vintage, (table, _) in samples.items():
        path = partition_dir(settings.staging_dir, SOURCE_ID, DATASET, vintage) / PART
        write_batches(path, table.schema, table.to_batches())
        result = gate.validate_batch(settings, SOURCE_ID, DATASET, vintage, path)
        assert result.passed, (vintage, result.failed)

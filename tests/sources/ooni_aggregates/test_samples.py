"""The synthetic OONI responses parse, replay the incremental load (two overlapping windows), tell the
stories the blocking marts need in 2025Q2, and pass the gate."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pyarrow as pa
import pytest

from pipelines import gate
from pipelines.lake import PART, partition_dir, write_batches
from pipelines.sources.ooni_aggregates.parse import DATASET, SOURCE_ID, WINDOWS, parse_vintage, refetch_window
from pipelines.sources.ooni_aggregates.schema import SCHEMAS
from tests.conftest import SAMPLES_DIR

SAMPLE_DIR = SAMPLES_DIR / SOURCE_ID
VINTAGES = ("2025-06-30", "2025-07-02")
Q2_END = dt.date(2025, 6, 30)


def load(vintage: str) -> dict[str, pa.Table]:
    return {
        parsed.dataset: pa.Table.from_batches(list(parsed.batches), schema=SCHEMAS[parsed.dataset])
        for parsed in parse_vintage(SAMPLE_DIR / vintage, vintage)
    }


@pytest.fixture(scope="module")
def samples() -> dict[str, dict[str, pa.Table]]:
    return {vintage: load(vintage) for vintage in VINTAGES}


def newest_window_per_day(samples) -> list[dict]:
    """The rule dbt applies (COMMON3): per (country, day), the rows of the newest vintage whose window
    covers the day."""
    chosen: dict[tuple[str, dt.date], str] = {}
    for vintage in sorted(samples):
        for window in samples[vintage][WINDOWS].to_pylist():
            day = window["window_since"]
            while day < window["window_until"]:
                chosen[(window["country_code"], day)] = vintage
                day += dt.timedelta(days=1)
    return [
        row
        for vintage, tables in samples.items()
        for row in tables[DATASET].to_pylist()
        if chosen[(row["country_code"], row["measurement_day"])] == vintage
    ]


def quarter(rows: list[dict]) -> dict[str, dict]:
    """Per domain, 2025Q2 totals: measurements, anomalies, confirmed, days."""
    totals: dict[str, dict] = defaultdict(
        lambda: {"measurements": 0, "anomalies": 0, "confirmed": 0, "days": 0}
    )
    for row in rows:
        if row["measurement_day"] <= Q2_END:
            total = totals[row["domain"]]
            for column in ("measurements", "anomalies", "confirmed"):
                total[column] += row[column]
            total["days"] += 1
    return totals


def test_samples_parse_into_days_and_one_window_row_per_response(samples):
    shape = {v: (t[DATASET].num_rows, t[WINDOWS].to_pylist()) for v, t in samples.items()}
    first_file = "aggregation_KZ_2025-06-22_2025-07-01.json"
    second_file = "aggregation_KZ_2025-06-28_2025-07-03.json"
    assert {
        v: (rows, [(w["window_since"], w["window_until"], w["result_rows"]) for w in windows])
        for v, (rows, windows) in shape.items()
    } == {
        "2025-06-30": (76, [(dt.date(2025, 6, 22), dt.date(2025, 7, 1), 76)]),
        "2025-07-02": (44, [(dt.date(2025, 6, 28), dt.date(2025, 7, 3), 44)]),
    }
    assert [w["source_file"] for v in VINTAGES for w in shape[v][1]] == [first_file, second_file]


def test_second_sample_is_the_refetch_window_after_the_first(samples):
    last_loaded = max(samples["2025-06-30"][DATASET].column("measurement_day").to_pylist())
    [window] = samples["2025-07-02"][WINDOWS].to_pylist()
    assert refetch_window(last_loaded, dt.date(2025, 7, 2)) == (
        window["window_since"],
        window["window_until"],
    )


def test_newest_window_per_day_gives_each_day_once_with_the_newer_counts(samples):
    rows = newest_window_per_day(samples)
    keys = [(r["country_code"], r["measurement_day"], r["domain"]) for r in rows]
    assert len(keys) == len(set(keys)) == 76 - 9 * 3 + 44  # 9 domains x 3 days of the first vintage replaced
    assert sorted({r["measurement_day"] for r in rows}) == [
        dt.date(2025, 6, 22) + dt.timedelta(days=i) for i in range(11)
    ]
    by_key = {(r["measurement_day"], r["domain"]): r for r in rows}
    old = {(r["measurement_day"], r["domain"]): r for r in samples["2025-06-30"][DATASET].to_pylist()}
    late = (dt.date(2025, 6, 29), "rights-watch-kz.example")
    assert (by_key[late]["measurements"], by_key[late]["vintage"]) == (
        old[late]["measurements"] + 4,
        "2025-07-02",
    )
    unchanged = (dt.date(2025, 6, 28), "rights-watch-kz.example")
    assert by_key[unchanged]["measurements"] == old[unchanged]["measurements"]
    gone = (dt.date(2025, 6, 29), "unlisted-kz.example")
    assert gone in old and gone not in by_key  # absent from the re-fetch: gone


def test_2025q2_holds_a_confirmed_a_sustained_and_a_not_blocked_news_domain(samples):
    totals = quarter(newest_window_per_day(samples))
    assert totals["opposition-kz.example"]["confirmed"] >= 1  # POLR, confirmed
    sustained = totals["rights-watch-kz.example"]  # HUMR, never confirmed
    assert sustained["confirmed"] == 0
    assert sustained["anomalies"] / sustained["measurements"] >= 0.5 and sustained["days"] >= 7
    mild = totals["www.kz-news.example"]  # NEWS, rate 0.3
    assert (mild["anomalies"] / mild["measurements"], mild["confirmed"]) == (0.3, 0)
    short = totals["old-press.example"]  # NEWS (old code FEXP), high rate on too few days
    assert short["anomalies"] / short["measurements"] >= 0.5 and short["days"] < 7


def test_sample_counts_are_consistent(samples):
    for tables in samples.values():
        for row in tables[DATASET].to_pylist():
            assert row["ok"] == row["measurements"] - row["anomalies"] - row["failures"]
            assert row["confirmed"] <= row["anomalies"] <= row["measurements"]


def test_samples_are_marked_synthetic():
    assert "synthetic" in (SAMPLE_DIR / "README.md").read_text().lower()


def test_sample_batches_pass_the_gate(samples, settings):
    for vintage, tables in samples.items():
        for dataset, table in tables.items():
            path = partition_dir(settings.staging_dir, SOURCE_ID, dataset, vintage) / PART
            write_batches(path, table.schema, table.to_batches())
            result = gate.validate_batch(settings, SOURCE_ID, dataset, vintage, path)
            assert result.passed, (vintage, dataset, result.failed)

"""Incremental loading: which days to re-fetch, and how a re-fetched window replaces what was loaded."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from pipelines.sources.ooni_aggregates.parse import merge_days, refetch_window
from pipelines.sources.ooni_aggregates.schema import SCHEMAS

D = dt.date
SCHEMA = SCHEMAS["ooni_domain_days"]


def rows(*items: tuple[str, dt.date, str, int], vintage: str = "v1") -> pa.Table:
    """(country, day, domain, measurements) -> a table of the dataset (other counts derived)."""
    return pa.Table.from_pylist(
        [
            {
                "country_code": cc,
                "measurement_day": day,
                "domain": domain,
                "measurements": m,
                "anomalies": m // 4,
                "confirmed": 0,
                "failures": 0,
                "ok": m - m // 4,
                "source_id": "ooni_aggregates",
                "vintage": vintage,
                "source_file": "f.json",
                "source_row_number": i + 1,
            }
            for i, (cc, day, domain, m) in enumerate(items)
        ],
        schema=SCHEMA,
    )


def keyed(table: pa.Table) -> list[tuple]:
    return [
        (r["country_code"], r["measurement_day"], r["domain"], r["measurements"]) for r in table.to_pylist()
    ]


# ---- refetch_window ------------------------------------------------------------------------------
def test_daily_run_refetches_the_last_three_loaded_days_and_today():
    assert refetch_window(D(2026, 6, 30), D(2026, 7, 1)) == (D(2026, 6, 28), D(2026, 7, 2))


def test_rerun_on_the_same_day_refetches_the_same_three_days():
    assert refetch_window(D(2026, 7, 1), D(2026, 7, 1)) == (D(2026, 6, 29), D(2026, 7, 2))


def test_run_after_a_gap_covers_every_missed_day():
    assert refetch_window(D(2026, 6, 1), D(2026, 7, 1)) == (D(2026, 5, 30), D(2026, 7, 2))


def test_first_run_starts_at_first_day_or_the_last_days():
    assert refetch_window(None, D(2026, 7, 1), first_day=D(2026, 1, 1)) == (D(2026, 1, 1), D(2026, 7, 2))
    assert refetch_window(None, D(2026, 7, 1)) == (D(2026, 6, 29), D(2026, 7, 2))


def test_window_size_is_a_parameter():
    assert refetch_window(D(2026, 6, 30), D(2026, 7, 1), days=1) == (D(2026, 6, 30), D(2026, 7, 2))


def test_last_loaded_day_after_today_is_refused():
    with pytest.raises(ValueError, match="after today"):
        refetch_window(D(2026, 7, 2), D(2026, 7, 1))


def test_zero_day_window_is_refused():
    with pytest.raises(ValueError, match="days must be >= 1"):
        refetch_window(D(2026, 6, 30), D(2026, 7, 1), days=0)


# ---- merge_days -------------------------------------------------------------------------------------
EXISTING = rows(
    ("KZ", D(2026, 6, 27), "a.example", 10),
    ("KZ", D(2026, 6, 28), "a.example", 10),
    ("KZ", D(2026, 6, 28), "gone.example", 3),
    ("KZ", D(2026, 6, 29), "a.example", 10),
    ("RU", D(2026, 6, 28), "a.example", 99),
)
WINDOW = (D(2026, 6, 28), D(2026, 7, 1))


def test_refetched_days_replace_loaded_days_without_duplicates():
    new = rows(
        ("KZ", D(2026, 6, 28), "a.example", 12),
        ("KZ", D(2026, 6, 29), "a.example", 14),
        ("KZ", D(2026, 6, 30), "a.example", 5),
        vintage="v2",
    )
    assert keyed(merge_days(EXISTING, new, WINDOW)) == [
        ("KZ", D(2026, 6, 27), "a.example", 10),  # before the window: kept
        ("KZ", D(2026, 6, 28), "a.example", 12),  # replaced
        ("KZ", D(2026, 6, 29), "a.example", 14),  # replaced
        ("KZ", D(2026, 6, 30), "a.example", 5),  # new day
        ("RU", D(2026, 6, 28), "a.example", 99),  # another country: untouched
    ]  # gone.example vanished from the re-fetched 2026-06-28, so it is gone from the result


def test_merging_the_same_window_twice_gives_the_same_table():
    new = rows(("KZ", D(2026, 6, 28), "a.example", 12), ("KZ", D(2026, 6, 30), "a.example", 5))
    once = merge_days(EXISTING, new, WINDOW)
    assert merge_days(once, new, WINDOW).equals(once)


def test_merging_into_nothing_gives_the_new_rows_sorted():
    new = rows(("KZ", D(2026, 6, 30), "b.example", 1), ("KZ", D(2026, 6, 28), "a.example", 2))
    merged = merge_days(rows(), new, WINDOW)
    assert keyed(merged) == [("KZ", D(2026, 6, 28), "a.example", 2), ("KZ", D(2026, 6, 30), "b.example", 1)]
    assert merged.schema == SCHEMA


def test_new_row_outside_the_window_is_refused():
    with pytest.raises(ValueError, match="outside the window"):
        merge_days(EXISTING, rows(("KZ", D(2026, 7, 1), "a.example", 1)), WINDOW)


def test_new_rows_with_a_repeated_key_are_refused():
    new = rows(("KZ", D(2026, 6, 28), "a.example", 1), ("KZ", D(2026, 6, 28), "a.example", 2))
    with pytest.raises(ValueError, match="repeat a"):
        merge_days(EXISTING, new, WINDOW)

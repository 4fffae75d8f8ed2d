"""Incremental loading: which days to re-fetch (the replacement itself is dbt's, over ooni_windows)."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.sources.ooni_aggregates.parse import refetch_window

D = dt.date


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

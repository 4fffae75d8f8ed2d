"""The synthetic sample mirror: reproducible from its script, parseable, and reconciling as the real data
does (the dbt reconciliation tests run on it, so a sample that stops reconciling is caught here first)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipelines.settings import PROJECT_DIR
from pipelines.sources.google_removals.parse import ARCHIVE_NAME, parse_vintage
from pipelines.sources.google_removals.schema import SCHEMAS
from tests.conftest import SAMPLES_DIR

SAMPLE_DIR = SAMPLES_DIR / "google_removals"
VINTAGES = ("2023-03", "2026-03")


def load_script():
    path = PROJECT_DIR / "scripts" / "make_google_samples.py"
    spec = importlib.util.spec_from_file_location("make_google_samples", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script loads
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """DuckDB with one table per parsed sample file, named <dataset>_<yyyy>_<mm>."""
    from pipelines.settings import load_settings

    settings = load_settings(data_dir=tmp_path_factory.mktemp("data"))
    con = duckdb.connect()
    for vintage in VINTAGES:
        for result in parse_vintage(SAMPLE_DIR / vintage, vintage, settings):
            table = pa.Table.from_batches(list(result.batches), schema=SCHEMAS[result.dataset])
            con.register(f"{result.dataset}_{vintage.replace('-', '_')}", table)
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_sample_zips_are_byte_identical_to_what_the_script_generates():
    for vintage, data in load_script().build_samples().items():
        assert (SAMPLE_DIR / vintage / ARCHIVE_NAME).read_bytes() == data, vintage


def test_samples_hold_the_files_of_their_era(tables):
    names = {row[0] for row in tables.execute("show tables").fetchall()}
    assert names == {
        "requests_by_requester_2023_03",
        "requests_by_product_reason_2023_03",
        "requests_summary_historical_2023_03",
        "requests_by_product_reason_historical_2023_03",
        "requests_granular_2026_03",
        "requests_by_product_reason_2026_03",
    }


def test_product_reason_totals_equal_requests_summed_over_requesters(tables):
    mismatches = scalar(
        tables,
        """
        with d as (select period_end, country_name, sum(requests) r
                   from requests_by_product_reason_2023_03 group by all),
             s as (select period_end, country_name, sum(requests) r
                   from requests_by_requester_2023_03 group by all)
        select count(*) from s left join d using (period_end, country_name) where d.r is distinct from s.r
        """,
    )
    assert mismatches == 0


def test_granular_requests_over_count_while_the_product_reason_file_gives_the_true_count(tables):
    over, under, groups = tables.execute(
        """
        with d as (select period_end, country_code_raw c, sum(requests) r
                   from requests_by_product_reason_2026_03 group by all),
             g as (select period_end, country_code_raw c, sum(requests) r
                   from requests_granular_2026_03 where country_code is not null group by all)
        select count(*) filter (where g.r > d.r), count(*) filter (where g.r < d.r or d.r is null), count(*)
        from g left join d using (period_end, c)
        """
    ).fetchone()
    assert under == 0 and over > 0 and groups == 13 * 5  # 13 half-years x 5 countries with a code


def test_granular_item_outcomes_add_up_to_items_requested_on_every_row(tables):
    assert (
        scalar(
            tables,
            """
            select count(*) from requests_granular_2026_03
            where items_removed_legal + items_removed_policy + items_content_not_found + items_not_enough_info
                  + items_no_action_taken + items_content_already_removed <> items_requested
            """,
        )
        == 0
    )


def test_granular_items_add_up_to_the_per_requester_items_of_the_older_vintage(tables):
    mismatches = tables.execute(
        """
        with g as (select period_end, country_code c, sum(items_requested) i
                   from requests_granular_2026_03 group by all),
             s as (select period_end, country_code c, sum(items_requested) i
                   from requests_by_requester_2023_03 group by all)
        select c, period_end from s join g using (period_end, c) where g.i <> s.i
        """
    ).fetchall()
    assert len(mismatches) == 1  # the one revision between vintages: Germany 2021-06-30
    assert mismatches[0][0] == "DE" and str(mismatches[0][1]) == "2021-06-30"


def test_historical_all_equals_court_orders_plus_other_where_not_censored(tables):
    total, equal, censored, unknown = tables.execute(
        """
        select count(*) filter (where all_requests is not null),
               count(*) filter (where all_requests
                                      = coalesce(court_orders_requests, 0) + coalesce(other_requests, 0)),
               count(*) filter (where all_requests_is_censored),
               count(*) filter (where all_requests_raw = '?')
        from requests_summary_historical_2023_03
        """
    ).fetchone()
    assert total == equal > 0 and censored > 0 and unknown == 2


def test_historical_product_reason_sums_equal_the_historical_summary(tables):
    total, equal = tables.execute(
        """
        with d as (select period_end, country_name, sum(court_order_requests) c, sum(other_requests) o,
                          sum(items_requested) i
                   from requests_by_product_reason_historical_2023_03 group by all)
        select count(*),
               count(*) filter (where coalesce(s.court_orders_requests, 0) = d.c
                                  and coalesce(s.other_requests, 0) = d.o
                                  and (s.all_items_requested is null or s.all_items_requested = d.i))
        from requests_summary_historical_2023_03 s join d using (period_end, country_name)
        where not s.all_requests_is_censored
        """
    ).fetchone()
    assert total == equal > 0


def test_historical_product_reason_file_has_blank_reasons_only_before_2011(tables):
    periods = tables.execute(
        "select distinct period_end::varchar from requests_by_product_reason_historical_2023_03 "
        "where reason is null order by 1"
    ).fetchall()
    assert periods == [("2009-12-31",), ("2010-06-30",)]


def test_samples_cover_the_promised_countries_and_periods(tables):
    codes = {
        r[0]
        for r in tables.execute("select distinct country_code_raw from requests_granular_2026_03").fetchall()
    }
    assert codes == {"KZ", "RU", "TR", "DE", "US", "EUROPOL"}
    europol = tables.execute(
        "select distinct country_code from requests_by_product_reason_2026_03 where country_name = 'Europol'"
    ).fetchall()
    assert europol == [(None,)]
    span = tables.execute(
        "select min(period_end)::varchar, max(period_end)::varchar from requests_summary_historical_2023_03"
    ).fetchone()
    assert span == ("2009-12-31", "2019-06-30")
    span = tables.execute(
        "select min(period_raw), max(period_end)::varchar from requests_granular_2026_03"
    ).fetchone()
    assert span == ("January - June 2019", "2025-06-30")


def test_sample_zips_are_small():
    for vintage in VINTAGES:
        assert (SAMPLE_DIR / vintage / ARCHIVE_NAME).stat().st_size < 512 * 1024


def test_script_writes_the_zips_into_a_mirror_folder(tmp_path):
    load_script().main(["--out", str(tmp_path)])
    assert sorted(p.relative_to(tmp_path).as_posix() for p in Path(tmp_path).rglob("*.zip")) == [
        f"{vintage}/{ARCHIVE_NAME}" for vintage in VINTAGES
    ]

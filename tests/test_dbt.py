"""The dbt project on a hand-made lake (tests/lake_fixtures.py): real dbt, real DuckDB, real Parquet.

One build is shared by the tests that read marts (and by the docs test, which must leave it unchanged);
the failure test runs dbt on a copy of it. Figures asserted here are worked out by hand in lake_fixtures.py's docstring and rows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines import lake, warehouse
from pipelines.errors import WarehouseError
from pipelines.settings import load_settings
from tests.lake_fixtures import KZ, NEW, OLD, _pr, write_dataset, write_fixture_lake

pytestmark = pytest.mark.slow

MARTS = {
    "removal_requests_country_year",
    "removals_by_reason_platform_year",
    "removals_by_requester_platform_year",
    "source_vintages_used",
    "registry_entries",
    "blocking_by_authority_year",
    "registry_changes_by_authority_quarter",
    "testlist_urls",
    "ooni_blocking_by_domain_quarter",
    "blocked_news_domains",
    "blocking_vintages_used",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    settings = load_settings(data_dir=tmp_path_factory.mktemp("dbt") / "data")
    write_fixture_lake(settings.lake_dir)
    plant_leftovers(settings.lake_dir)
    warehouse.build(settings)
    return settings


def plant_leftovers(lake_dir: Path) -> None:
    """What a killed writer leaves in the lake: a temporary file and a replaced partition's old folder."""
    part = lake.partition_dir(lake_dir, "google_removals", "requests_by_product_reason", NEW) / lake.PART
    shutil.copyfile(part, part.with_name(".tmp-killed.parquet"))
    old = part.parent.with_name(f".old-{part.parent.name}")
    old.mkdir()
    shutil.copyfile(part, old / lake.PART)


@pytest.fixture(scope="module")
def con(built):
    with duckdb.connect(str(built.warehouse_path), read_only=True) as connection:
        yield connection


def country_year(con, code: str, year: int) -> dict:
    rel = con.execute(
        "select * from marts.removal_requests_country_year where country_code = ? and year = ?", [code, year]
    )
    columns = [d[0] for d in rel.description]
    rows = rel.fetchall()
    assert len(rows) == 1, rows
    return dict(zip(columns, rows[0]))


def requesters(con, code: str, year: int) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in con.execute(
            "select requester, requests, items_requested, items_removed, has_censored_values "
            "from marts.removals_by_requester_platform_year where country_code = ? and year = ?",
            [code, year],
        ).fetchall()
    }


def reasons(con, code: str, year: int) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in con.execute(
            "select reason, reason_label, requests, items_requested "
            "from marts.removals_by_reason_platform_year where country_code = ? and year = ?",
            [code, year],
        ).fetchall()
    }


def mart_contents(path: Path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {
            t: connection.execute(f"select * from marts.{t} order by all").fetchall() for t in sorted(MARTS)
        }


def copy_data_dir(settings, target: Path):
    """A copy of a built data dir (lake, warehouse and dbt's target folder, so dbt parses partially)."""
    shutil.copytree(settings.data_dir, target)
    return load_settings(data_dir=target)


def test_marts_are_tables_in_schema_marts(con):
    tables = con.execute(
        "select table_name, table_type from information_schema.tables where table_schema = 'marts'"
    ).fetchall()
    assert {name for name, _ in tables} == MARTS
    assert {kind for _, kind in tables} == {"BASE TABLE"}


def test_newest_vintage_wins_for_an_overlapping_half_year(con):
    # 2019 H1 from 2023-03 (25), 2019 H2 as revised by 2026-03 (33, not 2023-03's 30)
    row = country_year(con, "KZ", 2019)
    assert row["requests"] == 25 + 33
    assert row["source_vintages"] == f"{OLD}; {NEW}"


def test_older_vintage_fills_the_half_years_the_newer_lacks(con):
    row = country_year(con, "KZ", 2018)
    assert (row["requests"], row["items_requested"], row["periods_covered"]) == (10 + 12, 50 + 30, 2)
    assert row["source_vintages"] == OLD


def test_current_layout_beats_the_historical_one_within_a_vintage(con):
    # 2019 H1 is in both 2023-03 historical files (99 requests) and the current ones (25 requests)
    assert country_year(con, "KZ", 2019)["requests"] == 58
    assert requesters(con, "KZ", 2019)["police"][0] == 20 + 30


def test_leftover_temporary_files_in_the_lake_are_not_read(con):
    # both leftovers hold a copy of the 2026-03 detailed file: read, they would double 2025's 75 requests
    assert country_year(con, "KZ", 2025)["requests"] == 75


def test_granular_request_rows_are_not_summed(con):
    row = country_year(con, "KZ", 2025)
    assert row["requests"] == 75  # the detailed file, not 70 + 70 + 5 granular rows
    by_requester = requesters(con, "KZ", 2025)
    assert by_requester["government_officials"][:3] == (None, 100 + 50, 40 + 20 + 10)
    assert by_requester["police"][:3] == (None, 7, 7)


def test_items_removed_is_exact_from_granular_and_estimated_from_percentages_elsewhere(con):
    kz2019, kz2025 = country_year(con, "KZ", 2019), country_year(con, "KZ", 2025)
    # 2019 H1: summary layout, round(100 * 60%) + round(10 * 100%); 2019 H2: granular 120 + 60
    assert (kz2019["items_removed"], kz2019["is_items_removed_estimated"]) == (60 + 10 + 120 + 60, True)
    assert (kz2025["items_removed"], kz2025["is_items_removed_estimated"]) == (77, False)
    assert country_year(con, "KZ", 2018)["items_removed"] is None  # the historical files do not say


def test_removal_rate_is_items_removed_over_items_requested(con):
    assert country_year(con, "KZ", 2019)["removal_rate"] == pytest.approx(250 / 320)
    assert country_year(con, "KZ", 2025)["removal_rate"] == pytest.approx(77 / 157)
    assert country_year(con, "KZ", 2018)["removal_rate"] is None


def test_censored_values_stay_null_and_are_flagged(con):
    row = country_year(con, "AM", 2018)
    assert (row["requests"], row["items_requested"], row["has_censored_values"]) == (None, None, True)
    assert requesters(con, "AM", 2018) == {
        "court_orders": (None, None, None, True),
        "executive_police_other": (None, None, None, True),
    }
    assert country_year(con, "KZ", 2018)["has_censored_values"] is False


def test_requests_by_requester_come_from_the_summary_layouts(con):
    assert requesters(con, "KZ", 2018) == {
        "court_orders": (3 + 0, 10 + 0, None, False),  # blank groups count 0 when All Requests is known
        "executive_police_other": (7 + 12, 40 + 30, None, False),
    }
    # 2019 H2 items and removals come from the newer granular layout, requests from the summary layout
    assert requesters(con, "KZ", 2019)["police"] == (50, 100 + 150 + 60, 60 + 120 + 60, False)


def test_reason_labels_in_every_spelling_map_to_one_reason(con):
    by_reason = reasons(con, "KZ", 2025)
    # "National Security" (detailed) and "National security" (granular) are one reason
    assert by_reason["national_security"] == ("National Security", 70, 100)
    assert by_reason["government_criticism"] == ("Government Criticism", 5, 50 + 7)
    assert reasons(con, "KZ", 2018)["unspecified"][1:] == (4, None)  # blank historical reason


def test_requests_by_reason_add_up_to_the_country_total(con):
    totals = con.execute("""
        select c.year, c.requests, sum(r.requests)
        from marts.removal_requests_country_year c
        join marts.removals_by_reason_platform_year r using (platform, country_code, year)
        where c.country_code = 'KZ' group by all order by 1
    """).fetchall()
    assert totals == [(2018, 22, 22), (2019, 58, 58), (2025, 75, 75)]


def test_bodies_without_a_territory_code_get_pseudo_codes(con):
    row = country_year(con, "XE", 2019)
    assert (row["country_name"], row["requests"]) == ("Europol", 1)


def test_a_country_the_chosen_file_omits_counts_zero_in_a_half_year_it_holds(con):
    # 2019 H2 items come from the 2026-03 granular file, which lists no Europol row: 0, not the 4 items
    # of the older summary layout, and no removal rate for 0 items
    row = country_year(con, "XE", 2019)
    assert (row["items_requested"], row["items_removed"], row["removal_rate"]) == (0, 0, None)


def test_source_vintages_used_lists_the_datasets_and_half_years_feeding_the_marts(con):
    rows = con.execute("select * from marts.source_vintages_used order by dataset, vintage").fetchall()
    assert [r[1:4] for r in rows] == [
        ("requests_by_product_reason", OLD, 1),
        ("requests_by_product_reason", NEW, 2),
        ("requests_by_product_reason_historical", OLD, 2),
        ("requests_by_requester", OLD, 2),
        ("requests_granular", NEW, 2),
        ("requests_summary_historical", OLD, 2),
    ]


def test_dbt_writes_its_target_and_logs_under_the_data_dir(built):
    assert (built.data_dir / "dbt" / "target" / "run_results.json").exists()
    assert (built.data_dir / "dbt" / "logs" / "dbt.log").exists()
    assert not (built.data_dir / "warehouse.building.duckdb").exists()


def test_unmapped_reason_label_fails_the_build_and_keeps_the_published_warehouse(built, tmp_path):
    settings = copy_data_dir(built, tmp_path / "data")
    before_bytes = settings.warehouse_path.read_bytes()
    before = mart_contents(settings.warehouse_path)
    write_dataset(
        settings.lake_dir,
        "requests_by_product_reason",
        "2026-06",
        [_pr("2025-12-31", KZ, "YouTube", "Space Lasers", 3)],
    )
    with pytest.raises(WarehouseError) as failure:
        warehouse.build(settings)
    message = str(failure.value)
    assert "assert_google_reason_labels_mapped" in message and "\n" not in message
    assert settings.warehouse_path.read_bytes() == before_bytes
    assert mart_contents(settings.warehouse_path) == before
    assert not (settings.data_dir / "warehouse.building.duckdb").exists()


def test_build_on_an_empty_lake_gives_empty_marts(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data")
    warehouse.build(settings)
    contents = mart_contents(settings.warehouse_path)
    assert contents == {table: [] for table in sorted(MARTS)}
    assert (
        settings.lake_dir / "google_removals" / "requests_granular" / "_schema" / "part-0.parquet"
    ).exists()


def test_docs_generate_writes_the_catalog_of_the_marts_and_leaves_the_warehouse_alone(built):
    before = built.warehouse_path.read_bytes()
    target = warehouse.docs(built)
    catalog = (target / "catalog.json").read_text()
    assert '"model.transparency.removal_requests_country_year"' in catalog
    assert (target / "static_index.html").exists()
    assert built.warehouse_path.read_bytes() == before

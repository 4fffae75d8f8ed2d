"""The blocking marts (rkn_registry, citizenlab_testlists, ooni_aggregates) built by real dbt on real DuckDB.

Two builds: a hand-made lake (`built`, figures worked out below) and, when the real files are there, the 74
real registry snapshots plus the real KZ and global test lists (`built_real`). Lake files are written with
the sources' own schemas and lake.write_batches, as the gate would have published them.

Hand-made lake:
- rkn_registry: five snapshots in the lake, whose history the build derives: S1 2024-12-20, S2 2025-02-10,
  S3 2025-05-01, S4 2025-08-01, S5 2026-01-15: entry A (суд) in S1, S2, gone in S3, back in S4, S5 (two
  spells); B (Роскомнадзор) in all; C (Роскомнадзор) in S2, S3 (removed at S4); D (ФСКН) in S1 only
  (removed at S2).
- citizenlab: vintage 2025-01 and 2025-06; the newer KZ list drops dropped.example; legend names differ
  between the vintages (the mart takes the newest one's).
- ooni KZ: vintage 2025-05-01 (window April 2025) with the threshold cases; vintages 2025-06-30 (window
  06-24 .. 07-01) and 2025-07-02 (window 06-28 .. 07-03) overlapping on 06-28 .. 06-30, where the newer
  one revises kept.example and no longer lists gone.example. RU: one day of news.example (no RU list).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import lake, warehouse
from pipelines.errors import WarehouseError
from pipelines.registry import get_source
from pipelines.settings import Settings, load_settings
from pipelines.sources.citizenlab_testlists import parse as citizenlab_parse
from pipelines.sources.rkn_registry import parse as rkn_parse
from tests.conftest import require_real
from tests.rkn_fixtures import hexed

pytestmark = pytest.mark.slow

RKN, CITIZENLAB, OONI = "rkn_registry", "citizenlab_testlists", "ooni_aggregates"
BLOCKING_MARTS = {
    "registry_entries",
    "blocking_by_authority_year",
    "registry_changes_by_authority_quarter",
    "testlist_urls",
    "ooni_blocking_by_domain_quarter",
    "blocked_news_domains",
    "blocking_vintages_used",
}
COURT, RKN_AUTHORITY, FSKN = "суд", "Роскомнадзор", "ФСКН"
S1, S2, S3, S4, S5 = (
    dt.datetime(2024, 12, 20, 10),
    dt.datetime(2025, 2, 10, 10),
    dt.datetime(2025, 5, 1, 10),
    dt.datetime(2025, 8, 1, 10),
    dt.datetime(2026, 1, 15, 10),
)
OLD_LIST, NEW_LIST = "2025-01", "2025-06"
APRIL, REFETCH_OLD, REFETCH_NEW = "2025-05-01", "2025-06-30", "2025-07-02"


# --- writing lake files with the sources' schemas ------------------------------------------------------


def schema(source_id: str, dataset: str) -> pa.Schema:
    return get_source(source_id).schemas[dataset]


def write_partition(lake_dir: Path, source_id: str, dataset: str, vintage: str, rows: list[dict]) -> None:
    """One lake partition; lineage columns are filled in (source_row_number = position)."""
    target = schema(source_id, dataset)
    full = [
        {"source_id": source_id, "vintage": vintage, "source_file": f"{dataset}.file", **row}
        | {"source_row_number": number}
        for number, row in enumerate(rows, start=1)
    ]
    table = pa.Table.from_pylist(full, schema=target)
    lake.write_batches(
        lake.partition_dir(lake_dir, source_id, dataset, vintage) / lake.PART, target, table.to_batches()
    )


def build(settings: Settings) -> Settings:
    warehouse.build(settings)
    return settings


# --- hand-made rkn snapshots ----------------------------------------------------------------------------


def key(name: str) -> bytes:
    """An entry key as the lake stores it (an md5 digest's 16 bytes); the marts show key(name).hex()."""
    return hashlib.md5(name.encode()).digest()


ENTRIES = {  # name -> (authority, snapshots listing it, ips per snapshot)
    "A": (COURT, (S1, S2, S4, S5)),
    "B": (RKN_AUTHORITY, (S1, S2, S3, S4, S5)),
    "C": (RKN_AUTHORITY, (S2, S3)),
    "D": (FSKN, (S1,)),
}


def snapshot_rows(at: dt.datetime) -> list[dict]:
    """The registry_snapshot rows of the snapshot at `at` (write_partition adds the lineage)."""
    return [
        {
            "snapshot_at": at,
            "entry_key": key(name),
            "ips": f"10.0.0.{1 if at < S4 else 2}",  # re-resolved in S4: the latest spell's ips win
            "ip_count": 1,
            "domain": f"{name.lower()}.example",
            "is_wildcard": False,
            "url": None,
            "url_count": 0,
            "authority": authority,
            "decision_number": f"{name}-1",
            "decision_date": dt.date(2024, 12, 1),
            "is_duplicate": False,
            "is_repeat_key": False,
        }
        for name, (authority, listed) in ENTRIES.items()
        if at in listed
    ]


def snapshot_vintage(at: dt.datetime) -> str:
    return rkn_parse.vintage_of(at.replace(tzinfo=dt.UTC))


# --- hand-made test lists ------------------------------------------------------------------------------

LEGEND = {"NEWS": "News Media", "POLR": "Political Criticism", "HUMR": "Human Rights Issues"}
LEGEND |= {"CULTR": "Culture", "COMM": "E-commerce", "GRP": "Social Networking"}


def legend_rows(news_name: str) -> list[dict]:
    return [
        {
            "code": code,
            "category": news_name if code == "NEWS" else name,
            "description": None,
            "replaces_old_codes": code,
        }
        for code, name in LEGEND.items()
    ]


def url_row(country: str, url: str, code: str, added: str = "2020-01-01") -> dict:
    domain = citizenlab_parse.url_domain(url)
    return {
        "country_code": country,
        "url": url,
        "domain": domain,
        "category_code": code,
        "category_code_raw": code,
        "category_description": LEGEND[code],
        "date_added": dt.date.fromisoformat(added),
        "source": "test",
        "notes": None,
    }


KZ_LIST = [
    url_row("KZ", "http://news.example/", "NEWS"),
    url_row("KZ", "http://humr6.example/", "HUMR"),
    url_row("KZ", "http://humr049.example/", "HUMR"),
    url_row("KZ", "http://shop.example/", "COMM"),
    url_row("KZ", "http://multi.example/a", "NEWS", "2020-01-01"),
    url_row("KZ", "http://multi.example/b", "GRP", "2019-01-01"),  # earliest date_added wins
    url_row("KZ", "http://tie.example/a", "NEWS", "2019-05-05"),
    url_row("KZ", "http://tie.example/b", "HUMR", "2019-05-05"),  # same date: smallest code wins
]
GLOBAL_LIST = [
    url_row("GLOBAL", "http://news.example/", "CULTR"),  # the KZ list's NEWS wins for KZ
    url_row("GLOBAL", "https://polr.example/page", "POLR"),
    url_row("GLOBAL", "http://kept.example/", "CULTR"),
]


# --- hand-made OONI days -------------------------------------------------------------------------------


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def days(first: str, count: int) -> list[dt.date]:
    return [day(first) + dt.timedelta(days=i) for i in range(count)]


def ooni_row(
    country: str, when: dt.date, domain: str, measurements: int, anomalies: int = 0, confirmed: int = 0
) -> dict:
    return {
        "country_code": country,
        "measurement_day": when,
        "domain": domain,
        "measurements": measurements,
        "anomalies": anomalies,
        "confirmed": confirmed,
        "failures": 0,
        "ok": measurements - anomalies,
    }


def april_rows() -> list[dict]:
    rows = [
        ooni_row("KZ", d, "news.example", 10, 1, int(d == day("2025-04-02"))) for d in days("2025-04-01", 3)
    ]
    rows += [ooni_row("KZ", d, "polr.example", 10, 5) for d in days("2025-04-01", 7)]  # 0.5 on 7 days
    rows += [ooni_row("KZ", d, "humr6.example", 10, 10) for d in days("2025-04-01", 6)]  # only 6 days
    rows += [
        ooni_row("KZ", d, "humr049.example", 10, 5 if i else 4)  # 49 / 100 on 10 days
        for i, d in enumerate(days("2025-04-01", 10))
    ]
    rows += [ooni_row("KZ", day("2025-04-01"), "shop.example", 10, 10, 3)]  # blocked, but not news
    rows += [
        ooni_row("KZ", day("2025-04-01"), "multi.example", 1),
        ooni_row("KZ", day("2025-04-01"), "tie.example", 1),
    ]
    rows += [ooni_row("KZ", day("2025-04-01"), "unlisted.example", 4, 4, 1)]
    rows += [ooni_row("RU", day("2025-04-01"), "news.example", 2, 2, 1)]
    return rows


def window(country: str, since: str, until: str, rows: int) -> dict:
    return {
        "country_code": country,
        "window_since": day(since),
        "window_until": day(until),
        "result_rows": rows,
    }


def write_hand_made_lake(lake_dir: Path) -> None:
    for at in (S1, S2, S3, S4, S5):  # the build derives the history from them
        write_partition(lake_dir, RKN, "registry_snapshot", snapshot_vintage(at), snapshot_rows(at))

    write_partition(lake_dir, CITIZENLAB, "category_codes", OLD_LIST, legend_rows("News (old name)"))
    write_partition(
        lake_dir,
        CITIZENLAB,
        "testlist_urls",
        OLD_LIST,
        KZ_LIST + [url_row("KZ", "http://dropped.example/", "NEWS")] + GLOBAL_LIST,
    )
    write_partition(lake_dir, CITIZENLAB, "category_codes", NEW_LIST, legend_rows("News Media"))
    write_partition(lake_dir, CITIZENLAB, "testlist_urls", NEW_LIST, KZ_LIST + GLOBAL_LIST)

    april = april_rows()
    write_partition(lake_dir, OONI, "ooni_domain_days", APRIL, april)
    write_partition(
        lake_dir,
        OONI,
        "ooni_windows",
        APRIL,
        [
            window("KZ", "2025-04-01", "2025-05-01", sum(r["country_code"] == "KZ" for r in april)),
            window("RU", "2025-04-01", "2025-05-01", 1),
        ],
    )
    old = [ooni_row("KZ", d, "kept.example", 10) for d in days("2025-06-24", 7)]
    old += [ooni_row("KZ", day("2025-06-29"), "gone.example", 3, 3, 1)]
    write_partition(lake_dir, OONI, "ooni_domain_days", REFETCH_OLD, old)
    write_partition(
        lake_dir, OONI, "ooni_windows", REFETCH_OLD, [window("KZ", "2025-06-24", "2025-07-01", len(old))]
    )
    new = [ooni_row("KZ", d, "kept.example", 20, 2) for d in days("2025-06-28", 5)]
    write_partition(lake_dir, OONI, "ooni_domain_days", REFETCH_NEW, new)
    write_partition(
        lake_dir, OONI, "ooni_windows", REFETCH_NEW, [window("KZ", "2025-06-28", "2025-07-03", len(new))]
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    settings = load_settings(data_dir=tmp_path_factory.mktemp("dbt_blocking") / "data")
    write_hand_made_lake(settings.lake_dir)
    return build(settings)


@pytest.fixture(scope="module")
def con(built):
    with duckdb.connect(str(built.warehouse_path), read_only=True) as connection:
        yield connection


def rows(con, sql: str, params: Iterable = ()) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def one(con, sql: str, params: Iterable = ()) -> dict:
    rel = con.execute(sql, list(params))
    names = [d[0] for d in rel.description]
    found = rel.fetchall()
    assert len(found) == 1, found
    return dict(zip(names, found[0]))


# --- hand-made lake: registry ---------------------------------------------------------------------------


def test_blocking_marts_are_tables_in_schema_marts(con):
    tables = dict(
        rows(con, "select table_name, table_type from information_schema.tables where table_schema = 'marts'")
    )
    assert BLOCKING_MARTS <= set(tables)
    assert {tables[name] for name in BLOCKING_MARTS} == {"BASE TABLE"}


def test_an_entry_removed_and_listed_again_is_one_entry_with_two_spells(con):
    entry = one(con, "select * from marts.registry_entries where entry_key = ?", [key("A").hex()])
    assert (entry["spells"], entry["first_seen_at"], entry["last_seen_at"]) == (2, S1, S5)
    assert (entry["removed_at"], entry["is_active"], entry["ips"]) == (None, True, "10.0.0.2")
    assert (entry["registry"], entry["registry_country"], entry["authority"]) == (RKN, "RU", COURT)


def test_removed_entries_keep_their_removal_time_and_active_ones_match_the_newest_snapshot(con):
    removed = dict(rows(con, "select entry_key, removed_at from marts.registry_entries where not is_active"))
    assert removed == {key("C").hex(): S4, key("D").hex(): S2}
    assert rows(con, "select count(*) from marts.registry_entries where is_active") == [(2,)]  # A, B in S5


def test_yearly_changes_count_spells_added_removed_and_active_per_authority(con):
    found = rows(
        con,
        "select year, authority, entries_added, entries_removed, active_at_year_end "
        "from marts.blocking_by_authority_year order by year, authority",
    )
    assert found == sorted(
        [
            (2024, COURT, 1, 0, 1),
            (2024, RKN_AUTHORITY, 1, 0, 1),
            (2024, FSKN, 1, 0, 1),
            (2025, COURT, 1, 1, 1),
            (2025, RKN_AUTHORITY, 1, 1, 1),
            (2025, FSKN, 0, 1, 0),  # removed: kept
            (2026, COURT, 0, 0, 1),
            (2026, RKN_AUTHORITY, 0, 0, 1),  # ФСКН all zero in 2026: no row
        ]
    )


def test_quarterly_changes_follow_the_returning_entry_quarter_by_quarter(con):
    found = rows(
        con,
        "select quarter, entries_added, entries_removed, active_at_quarter_end "
        "from marts.registry_changes_by_authority_quarter where authority = ? order by quarter",
        [COURT],
    )
    assert found == [
        ("2024Q4", 1, 0, 1),
        ("2025Q1", 0, 0, 1),
        ("2025Q2", 0, 1, 0),
        ("2025Q3", 1, 0, 1),
        ("2025Q4", 0, 0, 1),
        ("2026Q1", 0, 0, 1),
    ]
    assert rows(
        con, "select distinct registry, registry_country from marts.registry_changes_by_authority_quarter"
    ) == [(RKN, "RU")]


# --- hand-made lake: test lists -------------------------------------------------------------------------


def test_testlist_urls_take_each_lists_newest_vintage_only(con):
    found = rows(
        con,
        "select country_code, count(*), min(vintage), max(vintage) from marts.testlist_urls group by 1 order by 1",
    )
    assert found == [
        ("GLOBAL", len(GLOBAL_LIST), NEW_LIST, NEW_LIST),
        ("KZ", len(KZ_LIST), NEW_LIST, NEW_LIST),
    ]
    assert rows(con, "select * from marts.testlist_urls where domain = 'dropped.example'") == []


def test_blocking_vintages_name_the_newest_lists_and_the_ooni_vintages_kept(con):
    found = rows(con, "select * from marts.blocking_vintages_used order by all")
    lists = [row for row in found if row[0] == "citizenlab_testlists"]
    assert lists == [("citizenlab_testlists", "testlist_urls", NEW_LIST, None, None)]
    ooni = {row[2]: (row[3], row[4]) for row in found if row[0] == "ooni_aggregates"}
    kept = rows(
        con,
        "select vintage, min(measurement_day), max(measurement_day) "
        "from intermediate.int_ooni_aggregates__domain_days_current group by 1",
    )
    assert ooni == {vintage: (first, last) for vintage, first, last in kept} and len(ooni) >= 2
    registry = [row for row in found if row[0] == "rkn_registry"]
    snapshots = [
        ("rkn_registry", "registry_snapshot", snapshot_vintage(at), at.date(), None)  # open-ended
        for at in (S1, S2, S3, S4, S5)
    ]
    assert registry == snapshots


def test_testlist_category_is_the_newest_legends_name(con):
    assert rows(con, "select distinct category from marts.testlist_urls where category_code = 'NEWS'") == [
        ("News Media",)
    ]
    assert rows(con, "select count(*) from marts.testlist_urls where category is null") == [(0,)]


# --- hand-made lake: OONI ------------------------------------------------------------------------------


def quarter_row(con, country: str, quarter: str, domain: str) -> dict:
    return one(
        con,
        "select * from marts.ooni_blocking_by_domain_quarter where country_code = ? and quarter = ? "
        "and domain = ?",
        [country, quarter, domain],
    )


def test_a_refetched_day_replaces_the_older_copy(con):
    # 06-24 .. 06-27 from 2025-06-30 (10 each), 06-28 .. 06-30 as revised by 2025-07-02 (20 each)
    kept = quarter_row(con, "KZ", "2025Q2", "kept.example")
    assert (kept["measurements"], kept["anomalies"], kept["days_measured"]) == (4 * 10 + 3 * 20, 3 * 2, 7)
    assert (kept["first_day"], kept["last_day"]) == (day("2025-06-24"), day("2025-06-30"))
    july = quarter_row(con, "KZ", "2025Q3", "kept.example")
    assert (july["measurements"], july["days_measured"], july["last_day"]) == (40, 2, day("2025-07-02"))


def test_a_domain_missing_from_the_refetch_disappears(con):
    assert (
        rows(con, "select * from marts.ooni_blocking_by_domain_quarter where domain = 'gone.example'") == []
    )


def test_no_day_is_counted_twice_after_the_choice_of_vintage(con):
    repeated = rows(
        con,
        "select country_code, measurement_day, domain from intermediate.int_ooni_aggregates__domain_days_current "
        "group by all having count(*) > 1",
    )
    assert repeated == []
    assert rows(
        con,
        "select count(*) from intermediate.int_ooni_aggregates__domain_days_current "
        "where domain = 'kept.example'",
    ) == [(9,)]


def test_category_comes_from_the_country_list_before_global(con):
    assert quarter_row(con, "KZ", "2025Q2", "news.example")["category_code"] == "NEWS"  # GLOBAL says CULTR
    assert quarter_row(con, "RU", "2025Q2", "news.example")["category_code"] == "CULTR"  # no RU list
    assert quarter_row(con, "KZ", "2025Q2", "polr.example")["category_code"] == "POLR"  # GLOBAL only
    assert quarter_row(con, "KZ", "2025Q2", "unlisted.example")["category_code"] is None


def test_a_domain_listed_twice_takes_the_earliest_date_then_the_smallest_code(con):
    assert quarter_row(con, "KZ", "2025Q2", "multi.example")["category_code"] == "GRP"
    assert quarter_row(con, "KZ", "2025Q2", "tie.example")["category_code"] == "HUMR"


def test_anomaly_rate_is_anomalies_over_measurements(con):
    row = quarter_row(con, "KZ", "2025Q2", "humr049.example")
    assert (row["measurements"], row["anomalies"], row["days_measured"]) == (100, 49, 10)
    assert row["anomaly_rate"] == pytest.approx(0.49)


def test_blocked_news_domains_are_the_confirmed_and_the_sustained_ones(con):
    found = rows(
        con,
        "select country_code, domain, category_code, evidence, days_covered, first_day, last_day "
        "from marts.blocked_news_domains order by all",
    )
    assert found == [
        ("KZ", "news.example", "NEWS", "confirmed", 3, day("2025-04-01"), day("2025-04-03")),
        ("KZ", "polr.example", "POLR", "sustained_anomalies", 7, day("2025-04-01"), day("2025-04-07")),
    ]  # not humr6 (6 days), humr049 (0.49), shop (E-commerce), unlisted, RU news.example (Culture)


def test_blocked_news_domains_carry_the_legend_category_name(con):
    row = one(con, "select * from marts.blocked_news_domains where domain = 'news.example'")
    assert (row["quarter"], row["category"], row["confirmed"], row["measurements"]) == (
        "2025Q2",
        "News Media",
        1,
        30,
    )


def test_an_unknown_category_and_a_repeated_ooni_row_fail_the_build_and_keep_the_warehouse(built, tmp_path):
    settings = copy_data_dir(built, tmp_path / "data")
    before = settings.warehouse_path.read_bytes()
    write_partition(settings.lake_dir, CITIZENLAB, "category_codes", "2025-07", legend_rows("News Media"))
    write_partition(
        settings.lake_dir,
        CITIZENLAB,
        "testlist_urls",
        "2025-07",
        [url_row("KZ", "http://news.example/", "NEWS") | {"category_code": "SPACE"}],
    )
    twice = [ooni_row("KZ", day("2025-07-03"), "kept.example", 5)] * 2
    write_partition(settings.lake_dir, OONI, "ooni_domain_days", "2025-07-04", twice)
    write_partition(
        settings.lake_dir, OONI, "ooni_windows", "2025-07-04", [window("KZ", "2025-07-03", "2025-07-04", 2)]
    )
    with pytest.raises(WarehouseError) as failure:
        build(settings)
    message = str(failure.value)
    assert "assert_testlist_categories_in_legend" in message
    assert "unique_key_stg_ooni_aggregates__domain_days" in message
    assert settings.warehouse_path.read_bytes() == before


def test_a_lake_keyed_in_hex_is_migrated_before_the_build(built, tmp_path):
    """A history and a snapshot written when entry_key held 32 hex characters, not the digest's 16 bytes:
    the build recomputes the history first, and the marts come out the same. Without that, dbt would read
    the hex text as bytes and show the hex of the hex."""
    with duckdb.connect(str(built.warehouse_path), read_only=True) as before_con:
        before = rows(before_con, "select * from marts.registry_entries order by all")
    settings = copy_data_dir(built, tmp_path / "data")
    history = lake.derived_path(settings.lake_dir, RKN, "registry_history")
    snapshot = (
        lake.partition_dir(settings.lake_dir, RKN, "registry_snapshot", snapshot_vintage(S1)) / lake.PART
    )
    for path in (history, snapshot):
        pq.write_table(hexed(pq.read_table(path)), path)
    build(settings)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as after_con:
        assert rows(after_con, "select * from marts.registry_entries order by all") == before
    assert pq.read_schema(history).field("entry_key").type == pa.binary(16)


def copy_data_dir(settings: Settings, target: Path) -> Settings:
    """A copy of a built data dir (lake, warehouse, dbt's target folder: dbt parses partially)."""
    shutil.copytree(settings.data_dir, target)
    return load_settings(data_dir=target)


# --- real files ---------------------------------------------------------------------------------------


def real_snapshots(folder: Path) -> list[pa.Table]:
    paths = sorted(folder.glob("dump-*.csv"))
    assert len(paths) == 74
    return [rkn_parse.parse_files([path], path.stem.removeprefix("dump-")).table for path in paths]


def write_real_lists(lake_dir: Path, folder: Path, vintage: str) -> None:
    legend_file = folder / citizenlab_parse.LEGEND_FILE
    parsed, legend = citizenlab_parse.parse_legend(legend_file.read_bytes(), legend_file.name, vintage)
    write_parsed(lake_dir, "category_codes", vintage, parsed.batches)
    lists = [
        citizenlab_parse.parse_list((folder / name).read_bytes(), name, vintage, legend)
        for name in ("kz.csv", "global.csv")
    ]
    write_parsed(lake_dir, "testlist_urls", vintage, (batch for parsed in lists for batch in parsed.batches))


def write_parsed(lake_dir: Path, dataset: str, vintage: str, batches) -> None:
    path = lake.partition_dir(lake_dir, CITIZENLAB, dataset, vintage) / lake.PART
    lake.write_batches(path, schema(CITIZENLAB, dataset), batches)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    rkn_folder, citizenlab_folder = require_real("rkn_zi"), require_real("citizenlab")
    settings = load_settings(data_dir=tmp_path_factory.mktemp("dbt_blocking_real") / "data")
    snapshots = real_snapshots(rkn_folder)
    for table in snapshots:  # as publish_to_lake leaves them; the build derives the history
        vintage = table.column("vintage")[0].as_py()
        path = lake.partition_dir(settings.lake_dir, RKN, "registry_snapshot", vintage) / lake.PART
        lake.write_batches(path, schema(RKN, "registry_snapshot"), table.to_batches())
    write_real_lists(settings.lake_dir, citizenlab_folder, "real")
    build(settings)
    keys = [{k.hex() for k in t.column("entry_key").to_pylist()} for t in snapshots]
    times = [t.column("snapshot_at")[0].as_py() for t in snapshots]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        yield connection, keys, times


def test_real_registry_entries_have_one_row_per_distinct_key(real):
    con, keys, _ = real
    assert len(set().union(*keys)) == 3608
    assert rows(con, "select count(*), count(distinct entry_key) from marts.registry_entries") == [
        (3608, 3608)
    ]


def test_real_registry_active_entries_are_the_last_snapshots_keys(real):
    con, keys, _ = real
    active = {k for (k,) in rows(con, "select entry_key from marts.registry_entries where is_active")}
    assert active == keys[-1]


def test_real_registry_active_at_2013_end_is_the_last_2013_snapshots_key_count(real):
    con, keys, times = real
    last_2013 = max(i for i, at in enumerate(times) if at.year == 2013)
    found = rows(
        con, "select sum(active_at_year_end) from marts.blocking_by_authority_year where year = 2013"
    )
    assert found == [(len(keys[last_2013]),)]
    assert rows(con, "select min(year), max(year) from marts.blocking_by_authority_year") == [(2012, 2014)]


def test_real_testlists_load_every_url_with_its_category(real):
    con, _, _ = real
    found = rows(
        con, "select country_code, count(*), count(category) from marts.testlist_urls group by 1 order by 1"
    )
    assert found == [("GLOBAL", 1722, 1722), ("KZ", 553, 553)]


def test_real_blocking_vintages_are_every_snapshot_and_each_lists_newest_vintage(real):
    con, _, times = real
    found = rows(con, "select source_id, first_day, last_day from marts.blocking_vintages_used order by all")
    registry = [(day, last) for source, day, last in found if source == "rkn_registry"]
    assert registry == [(at.date(), None) for at in sorted(times)]  # one per snapshot, open-ended
    assert [row for row in found if row[0] != "rkn_registry"] == [("citizenlab_testlists", None, None)]

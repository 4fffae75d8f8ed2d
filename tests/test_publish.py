"""publish_quarter on a small hand-built warehouse (plain SQL marts, real DuckDB, real xlsxwriter/openpyxl)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest

from pipelines.errors import PipelineError
from pipelines.publish import publish_quarter

MARTS_SQL = """
create schema marts;
create table marts.removal_requests_country_year (
    platform varchar, country_code varchar, country_name varchar, year integer, requests bigint,
    items_requested bigint, items_removed bigint, removal_rate double, periods_covered integer,
    latest_period_end date, is_items_removed_estimated boolean, has_censored_values boolean,
    source_vintages varchar[]
);
insert into marts.removal_requests_country_year values
    ('google', 'KZ', 'Kazakhstan', 2023, 40, 90, 60, 0.666666666, 2, '2023-12-31', false, true, ['2025-12']),
    ('google', 'KZ', 'Kazakhstan', 2024, 120, 300, 200, 0.666666666, 2, '2024-12-31', false, false,
        ['2026-03', '2025-12']),
    ('google', 'KZ', 'Kazakhstan', 2025, 75, 150, 90, 0.6, 1, '2025-06-30', true, false, ['2026-03']),
    ('google', 'RU', 'Russia', 2024, 9000, 50000, 40000, 0.8, 2, '2024-12-31', false, false, ['2026-03']),
    ('google', 'RU', 'Russia', 2025, 5000, 20000, null, null, 1, '2025-06-30', false, true, ['2026-03']),
    ('google', null, 'Europol', 2024, 3, 12, 10, 0.833333333, 1, '2024-06-30', false, false, ['2026-03']),
    ('acme', 'RU', 'Russia', 2024, 7, 8, 8, 1.0, 2, '2024-12-31', false, false, ['2025-01']);

create table marts.removals_by_reason_platform_year (
    platform varchar, country_code varchar, year integer, reason varchar, reason_label varchar,
    requests bigint, items_requested bigint
);
insert into marts.removals_by_reason_platform_year values
    ('google', 'KZ', 2023, 'defamation', 'Defamation', 40, 90),
    ('google', 'KZ', 2024, 'national_security', 'National security', 70, 200),
    ('google', 'KZ', 2024, 'defamation', 'Defamation', 50, 100),
    ('google', 'KZ', 2025, 'government_criticism', 'Government criticism', 75, 150),
    ('google', 'RU', 2024, 'national_security', 'National security', 9000, 50000),
    ('acme', 'RU', 2024, 'other', 'Other', 7, 8);

create table marts.removals_by_requester_platform_year (
    platform varchar, country_code varchar, year integer, requester varchar, requests bigint,
    items_requested bigint, items_removed bigint
);
insert into marts.removals_by_requester_platform_year values
    ('google', 'KZ', 2024, 'Court orders', 20, 50, 40),
    ('google', 'KZ', 2024, 'Executive, police, etc.', 100, 250, 160),
    ('google', 'KZ', 2025, 'Executive, police, etc.', 75, 150, 90),
    ('google', 'RU', 2024, 'Executive, police, etc.', 9000, 50000, 40000);

create table marts.source_vintages_used (
    source_id varchar, dataset varchar, vintage varchar, periods integer, first_period_end date,
    last_period_end date
);
insert into marts.source_vintages_used values
    ('google_removals', 'requests_by_requester', '2025-12', 4, '2023-06-30', '2024-12-31'),
    ('google_removals', 'requests_granular', '2026-03', 1, '2025-06-30', '2025-06-30');
"""

KZ_COUNTRY_YEAR_2025Q2 = (
    "platform,country_code,country_name,year,requests,items_requested,items_removed,removal_rate,"
    "periods_covered,latest_period_end,is_items_removed_estimated,has_censored_values,source_vintages\n"
    "google,KZ,Kazakhstan,2023,40,90,60,0.6667,2,2023-12-31,false,true,2025-12\n"
    "google,KZ,Kazakhstan,2024,120,300,200,0.6667,2,2024-12-31,false,false,2025-12; 2026-03\n"
    "google,KZ,Kazakhstan,2025,75,150,90,0.6,1,2025-06-30,true,false,2026-03\n"
)
KZ_REQUESTER_2025Q2 = (
    "platform,country_code,year,requester,requests,items_requested,items_removed\n"
    "google,KZ,2024,Court orders,20,50,40\n"
    'google,KZ,2024,"Executive, police, etc.",100,250,160\n'
    'google,KZ,2025,"Executive, police, etc.",75,150,90\n'
)
TABLE_STEMS = ("requests_by_country_year", "requests_by_reason_year", "requests_by_requester_year")


def build_warehouse(path: Path, *extra_sql: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(MARTS_SQL)
        for sql in extra_sql:
            con.execute(sql)
    finally:
        con.close()
    return path


@pytest.fixture
def warehouse(settings):
    return build_warehouse(settings.warehouse_path)


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_quarter_publication_has_tables_per_platform_workbook_markdown_and_manifest(settings, warehouse):
    out = publish_quarter(settings, "2025Q2")
    assert out == settings.publish_dir / "2025Q2"
    expected = {f"{p}_{s}.csv" for p in ("acme", "google") for s in TABLE_STEMS}
    expected |= {"transparency_2025Q2.xlsx", "transparency_2025Q2.md", "manifest.json"}
    assert {p.name for p in out.iterdir()} == expected
    assert not [p for p in settings.publish_dir.iterdir() if p.name.startswith(".")]


def test_country_publication_holds_exactly_that_countrys_rows(settings, warehouse):
    out = publish_quarter(settings, "2025Q2", country="KZ")
    assert out == settings.publish_dir / "2025Q2" / "KZ"
    assert {p.name for p in out.glob("*.csv")} == {f"google_{s}.csv" for s in TABLE_STEMS}
    assert (out / "google_requests_by_country_year.csv").read_text("utf-8") == KZ_COUNTRY_YEAR_2025Q2
    assert (out / "google_requests_by_requester_year.csv").read_text("utf-8") == KZ_REQUESTER_2025Q2
    reasons = read_csv(out / "google_requests_by_reason_year.csv")
    assert [(r["year"], r["reason"], r["requests"]) for r in reasons] == [
        ("2023", "defamation", "40"), ("2024", "defamation", "50"), ("2024", "national_security", "70"),
        ("2025", "government_criticism", "75"),
    ]


def test_lowercase_country_code_is_accepted(settings, warehouse):
    assert publish_quarter(settings, "2025Q2", country="kz") == settings.publish_dir / "2025Q2" / "KZ"


def test_2025q1_cut_off_excludes_the_2025_first_half(settings, warehouse):
    out = publish_quarter(settings, "2025Q1", country="KZ")
    for stem in TABLE_STEMS:
        years = {r["year"] for r in read_csv(out / f"google_{stem}.csv")}
        assert "2025" not in years and "2024" in years, stem
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert (manifest["cut_off"], manifest["data_through"]) == ("2024-12-31", "2024-12-31")
    markdown = (out / "transparency_2025Q1_KZ.md").read_text("utf-8")
    assert markdown.startswith("# Government requests to remove content: 2025Q1, KZ\n")
    assert "periods ending on or before 2024-12-31" in markdown


def test_a_year_with_periods_after_the_cut_off_is_left_out_for_every_country(settings):
    """Once the marts hold 2025 H2 (for any country), 2025 is no longer complete as of 2025Q2's cut-off."""
    build_warehouse(
        settings.warehouse_path,
        "update marts.removal_requests_country_year set latest_period_end = '2025-12-31', periods_covered = 2 "
        "where country_code = 'RU' and year = 2025",
    )
    out = publish_quarter(settings, "2025Q2", country="KZ")
    assert [r["year"] for r in read_csv(out / "google_requests_by_country_year.csv")] == ["2023", "2024"]
    assert "2025" not in {r["year"] for r in read_csv(out / "google_requests_by_reason_year.csv")}


def test_manifest_sha256s_and_sizes_match_the_files(settings, warehouse):
    out = publish_quarter(settings, "2025Q2")
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert (manifest["quarter"], manifest["country"], manifest["cut_off"]) == ("2025Q2", None, "2025-06-30")
    assert manifest["warehouse"] == str(settings.warehouse_path)
    datetime.fromisoformat(manifest["generated_at"])
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == {p.name for p in out.iterdir()} - {"manifest.json"}
    for name, entry in listed.items():
        content = (out / name).read_bytes()
        assert entry["bytes"] == len(content)
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()


def test_manifest_and_notes_list_the_source_vintages_up_to_the_cut_off(settings, warehouse):
    q2 = json.loads((publish_quarter(settings, "2025Q2") / "manifest.json").read_text("utf-8"))
    assert q2["source_vintages"] == [
        {"source_id": "google_removals", "dataset": "requests_by_requester", "vintage": "2025-12", "periods": 4,
         "first_period_end": "2023-06-30", "last_period_end": "2024-12-31"},
        {"source_id": "google_removals", "dataset": "requests_granular", "vintage": "2026-03", "periods": 1,
         "first_period_end": "2025-06-30", "last_period_end": "2025-06-30"},
    ]
    q1 = json.loads((publish_quarter(settings, "2025Q1") / "manifest.json").read_text("utf-8"))
    assert [v["vintage"] for v in q1["source_vintages"]] == ["2025-12"]
    markdown = (settings.publish_dir / "2025Q1" / "transparency_2025Q1.md").read_text("utf-8")
    assert "google_removals / requests_by_requester, vintage 2025-12" in markdown
    assert "vintage 2026-03" not in markdown


def test_workbook_reads_back_with_a_notes_sheet_and_one_sheet_per_table(settings, warehouse):
    out = publish_quarter(settings, "2025Q2", country="KZ")
    book = openpyxl.load_workbook(out / "transparency_2025Q2_KZ.xlsx")
    assert book.sheetnames == ["Notes", "google country-year", "google reason-year", "google requester-year"]
    assert book.properties.created == datetime(2025, 6, 30)
    rows = list(book["google country-year"].iter_rows(values_only=True))
    assert rows[0][:5] == ("platform", "country_code", "country_name", "year", "requests")
    assert [r[3:6] for r in rows[1:]] == [(2023, 40, 90), (2024, 120, 300), (2025, 75, 150)]
    assert rows[3][7] == 0.6 and rows[3][10] is True
    notes = {label: text for label, text in book["Notes"].iter_rows(values_only=True) if label}
    assert notes["Quarter"] == "2025Q2" and notes["Country"] == "KZ"
    assert "2025-06-30" in notes["Cut-off"]
    assert "<10" in notes["Censoring"]
    assert "Definition: removal_rate" in notes


def test_republishing_the_same_marts_is_byte_identical(settings, warehouse):
    first = snapshot(publish_quarter(settings, "2025Q2"))
    second = snapshot(publish_quarter(settings, "2025Q2"))
    assert first.keys() == second.keys()
    for name in first:
        if name != "manifest.json":
            assert first[name] == second[name], name
    files = [json.loads(s["manifest.json"])["files"] for s in (first, second)]
    assert files[0] == files[1]


def test_quarter_publication_keeps_country_folders_of_that_quarter(settings, warehouse):
    kz = snapshot(publish_quarter(settings, "2025Q2", country="KZ"))
    publish_quarter(settings, "2025Q2")
    assert snapshot(settings.publish_dir / "2025Q2" / "KZ") == kz


@pytest.fixture
def previous(settings, warehouse):
    """A publication already in place, to prove a failed run leaves it as it was."""
    publish_quarter(settings, "2025Q2")
    return snapshot(settings.publish_dir)


def assert_one_line_error(call, message: str) -> None:
    with pytest.raises(PipelineError) as caught:
        call()
    text = str(caught.value)
    assert "\n" not in text
    assert message in text, text


def test_bad_quarter_is_a_one_line_error_and_keeps_the_previous_publication(settings, previous):
    with pytest.raises(PipelineError) as caught:
        publish_quarter(settings, "2025-2")
    assert str(caught.value) == "invalid quarter '2025-2'; expected YYYYQn"
    assert snapshot(settings.publish_dir) == previous


def test_unknown_country_is_a_one_line_error_and_keeps_the_previous_publication(settings, previous):
    assert_one_line_error(lambda: publish_quarter(settings, "2025Q2", country="XX"), "unknown country 'XX'")
    assert snapshot(settings.publish_dir) == previous


def test_malformed_country_is_a_one_line_error(settings, warehouse):
    assert_one_line_error(lambda: publish_quarter(settings, "2025Q2", country="KAZ"), "invalid country 'KAZ'")


def test_missing_warehouse_is_a_one_line_error_and_keeps_the_previous_publication(settings, previous):
    settings.warehouse_path.unlink()
    expected = f"no warehouse at {settings.warehouse_path}; run `transparency run` first"
    assert_one_line_error(lambda: publish_quarter(settings, "2025Q2"), expected)
    assert snapshot(settings.publish_dir) == previous


def test_quarter_before_any_period_is_a_one_line_error(settings, warehouse):
    assert_one_line_error(lambda: publish_quarter(settings, "2023Q1"), "no data with periods ending on or before")
    assert not (settings.publish_dir / "2023Q1").exists()


def test_missing_mart_column_is_named_in_one_line(settings):
    build_warehouse(settings.warehouse_path, "alter table marts.removals_by_reason_platform_year drop reason_label")
    assert_one_line_error(
        lambda: publish_quarter(settings, "2025Q2"),
        "marts.removals_by_reason_platform_year has no column 'reason_label'",
    )


def test_publish_leaves_the_warehouse_closed_for_writers(settings, warehouse):
    publish_quarter(settings, "2025Q2")
    con = duckdb.connect(str(warehouse))  # would fail if publish still held the file
    con.close()

"""publish_quarter's blocking tables on a hand-built warehouse (the removal marts of test_publish plus the
blocking marts with their contract columns, plain SQL, real DuckDB and xlsxwriter/openpyxl; no dbt)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
import pytest

from pipelines.errors import PipelineError
from pipelines.publish import THRESHOLD_VARS, blocking_thresholds, publish_quarter
from tests.test_publish import build_warehouse, read_csv, snapshot

BLOCKING_SQL = """
create table marts.blocking_vintages_used (
    source_id varchar, dataset varchar, vintage varchar, first_day date, last_day date
);
insert into marts.blocking_vintages_used values
    ('rkn_registry', 'registry_snapshot', '2025-03-29T130000Z', '2025-03-29', null),
    ('rkn_registry', 'registry_snapshot', '2025-06-28T130000Z', '2025-06-28', null),
    ('rkn_registry', 'registry_snapshot', '2025-07-05T130000Z', '2025-07-05', null),
    ('citizenlab_testlists', 'testlist_urls', '2025-05-01', null, null),
    ('ooni_aggregates', 'ooni_domain_days', '2025-03-20T000000Z', '2025-03-01', '2025-03-19'),
    ('ooni_aggregates', 'ooni_domain_days', '2025-04-03T000000Z', '2025-03-20', '2025-04-02'),
    ('ooni_aggregates', 'ooni_domain_days', '2025-07-10T000000Z', '2025-07-01', '2025-07-09');

create table marts.registry_changes_by_authority_quarter (
    registry varchar, registry_country varchar, quarter varchar, authority varchar, entries_added bigint,
    entries_removed bigint, active_at_quarter_end bigint
);
insert into marts.registry_changes_by_authority_quarter values
    ('rkn_registry', 'RU', '2025Q1', 'Роскомнадзор', 7, 0, 3),
    ('rkn_registry', 'RU', '2025Q2', 'Роскомнадзор', 2, 0, 5),
    ('rkn_registry', 'RU', '2025Q2', 'Генпрокуратура', 3, 1, 10),
    ('by_registry', 'BY', '2025Q2', 'Mininform', 4, 0, 4);

create table marts.testlist_urls (
    country_code varchar, url varchar, domain varchar, category_code varchar, category varchar, date_added date
);
insert into marts.testlist_urls values
    ('KZ', 'https://news.example/', 'news.example', 'NEWS', 'News Media', '2019-01-01'),
    ('KZ', 'https://news.example/politics', 'news.example', 'NEWS', 'News Media', '2019-01-01'),
    ('KZ', 'https://unmeasured.example/', 'unmeasured.example', 'NEWS', 'News Media', '2020-01-01'),
    ('KZ', 'https://opp.example/', 'opp.example', 'POLR', 'Political Criticism', '2019-01-01'),
    ('KZ', 'https://edge.example/', 'edge.example', 'POLR', 'Political Criticism', '2019-01-01'),
    ('KZ', 'https://rights.example/', 'rights.example', 'HUMR', 'Human Rights Issues', '2019-01-01'),
    ('RU', 'https://meduza.example/', 'meduza.example', 'NEWS', 'News Media', '2019-01-01'),
    ('GLOBAL', 'https://www.wiki.example/', 'www.wiki.example', 'CULTR', 'Culture', '2017-01-01'),
    ('GLOBAL', 'https://News.Example/', 'News.Example', 'NEWS', 'News Media', '2017-01-01'),
    ('GLOBAL', 'https://ru-only.example/', 'ru-only.example', 'POLR', 'Political Criticism', '2017-01-01');

create table marts.ooni_blocking_by_domain_quarter (
    country_code varchar, quarter varchar, domain varchar, category_code varchar, measurements bigint,
    anomalies bigint, confirmed bigint, failures bigint, ok bigint, anomaly_rate double, days_measured integer,
    first_day date, last_day date
);
insert into marts.ooni_blocking_by_domain_quarter values
    ('KZ', '2025Q2', 'news.example', 'NEWS', 20, 15, 3, 0, 5, 0.75, 10, '2025-04-02', '2025-06-28'),
    ('KZ', '2025Q2', 'opp.example', 'POLR', 10, 6, 0, 0, 4, 0.6, 6, '2025-05-01', '2025-05-06'),
    ('KZ', '2025Q2', 'edge.example', 'POLR', 14, 7, 0, 0, 7, 0.5, 7, '2025-06-01', '2025-06-07'),
    ('KZ', '2025Q2', 'rights.example', 'HUMR', 14, 10, 0, 0, 4, 0.714285714, 8, '2025-06-20', '2025-06-30'),
    ('KZ', '2025Q2', 'www.wiki.example', 'CULTR', 60, 6, 0, 0, 54, 0.1, 30, '2025-04-01', '2025-06-30'),
    ('KZ', '2025Q2', 'unlisted.example', null, 9, 9, 9, 0, 0, 1.0, 9, '2025-04-01', '2025-06-30'),
    ('KZ', '2025Q1', 'unmeasured.example', 'NEWS', 5, 5, 1, 0, 0, 1.0, 9, '2025-01-01', '2025-03-01'),
    ('RU', '2025Q2', 'meduza.example', 'NEWS', 40, 36, 2, 0, 4, 0.9, 20, '2025-04-01', '2025-06-30'),
    ('RU', '2025Q2', 'ru-only.example', 'POLR', 18, 16, 0, 0, 2, 0.888888889, 9, '2025-04-01', '2025-06-30'),
    ('RU', '2025Q2', 'news.example', 'NEWS', 3, 0, 0, 0, 3, 0.0, 3, '2025-04-01', '2025-04-03');

create table marts.blocked_news_domains (
    country_code varchar, quarter varchar, domain varchar, category_code varchar, category varchar,
    measurements bigint, anomalies bigint, confirmed bigint, anomaly_rate double, days_covered integer,
    first_day date, last_day date, evidence varchar
);
insert into marts.blocked_news_domains values
    ('KZ', '2025Q2', 'rights.example', 'HUMR', 'Human Rights Issues', 14, 10, 0, 0.714285714, 8,
        '2025-06-20', '2025-06-30', 'sustained_anomalies'),
    ('KZ', '2025Q2', 'news.example', 'NEWS', 'News Media', 20, 15, 3, 0.75, 10, '2025-04-02', '2025-06-28',
        'confirmed'),
    ('KZ', '2025Q1', 'old.example', 'NEWS', 'News Media', 5, 5, 1, 1.0, 9, '2025-01-01', '2025-03-01',
        'confirmed'),
    ('RU', '2025Q2', 'meduza.example', 'NEWS', 'News Media', 40, 36, 2, 0.9, 20, '2025-04-01', '2025-06-30',
        'confirmed');
"""

REGISTRY_HEADER = "registry,registry_country,authority,entries_added,entries_removed,active_at_quarter_end\n"
NEWS_HEADER = (
    "country_code,domain,category_code,category,evidence,measurements,anomalies,confirmed,anomaly_rate,"
    "days_covered,first_day,last_day\n"
)
COVERAGE_COLUMNS = (
    "list",
    "category_code",
    "urls_listed",
    "domains_listed",
    "measured_in",
    "domains_measured",
    "domains_sustained_anomalies",
    "domains_confirmed_blocked",
)
BLOCKING_CSVS = {
    "blocking_registry_changes_by_authority.csv",
    "blocking_blocked_news_domains.csv",
    "blocking_testlist_coverage.csv",
}
BLOCKING_SHEETS = ["blocking registry changes", "blocking news domains", "blocking testlist coverage"]


@pytest.fixture
def warehouse(settings):
    return build_warehouse(settings.warehouse_path, BLOCKING_SQL)


def coverage(folder: Path) -> list[tuple]:
    rows = read_csv(folder / "blocking_testlist_coverage.csv")
    return [tuple(r[c] for c in COVERAGE_COLUMNS) for r in rows]


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text("utf-8"))


def markdown_of(folder: Path) -> str:
    return next(folder.glob("*.md")).read_text("utf-8")


def test_publication_adds_a_csv_a_sheet_and_manifest_entries_per_blocking_table(settings, warehouse):
    out = publish_quarter(settings, "2025Q2")
    assert BLOCKING_CSVS <= {p.name for p in out.iterdir()}
    book = openpyxl.load_workbook(out / "transparency_2025Q2.xlsx")
    assert book.sheetnames[-3:] == BLOCKING_SHEETS
    manifest = manifest_of(out)
    listed = {f["name"]: f for f in manifest["files"]}
    for name in BLOCKING_CSVS:
        content = (out / name).read_bytes()
        assert listed[name] == {
            "name": name,
            "bytes": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
    assert manifest["blocking"]["tables"] == [
        {
            "table": "registry_changes_by_authority",
            "file": "blocking_registry_changes_by_authority.csv",
            "rows": 3,
        },
        {"table": "blocked_news_domains", "file": "blocking_blocked_news_domains.csv", "rows": 3},
        {"table": "testlist_coverage", "file": "blocking_testlist_coverage.csv", "rows": 7},
    ]
    assert manifest["blocking"]["thresholds"] | {"origin": None} == {
        "min_anomaly_rate": 0.5,
        "min_days": 7,
        "min_confirmed": 1,
        "origin": None,
    }


def test_manifest_names_the_lake_vintages_behind_the_quarters_blocking_tables(settings, warehouse):
    vintages = manifest_of(publish_quarter(settings, "2025Q2"))["blocking"]["vintages"]
    assert [(v["source_id"], v["vintage"]) for v in vintages] == [
        ("citizenlab_testlists", "2025-05-01"),  # the lists' newest vintage: not tied to days
        ("ooni_aggregates", "2025-04-03T000000Z"),  # its days reach into the quarter; the others do not
        ("rkn_registry", "2025-03-29T130000Z"),  # every snapshot up to the quarter's end shapes the history
        ("rkn_registry", "2025-06-28T130000Z"),
    ]
    assert vintages[1] == {
        "source_id": "ooni_aggregates",
        "dataset": "ooni_domain_days",
        "vintage": "2025-04-03T000000Z",
        "first_day": "2025-03-20",
        "last_day": "2025-04-02",
    }


def test_registry_changes_hold_the_quarters_rows_of_every_registry(settings, warehouse):
    out = publish_quarter(settings, "2025Q2")
    assert (out / "blocking_registry_changes_by_authority.csv").read_text("utf-8") == REGISTRY_HEADER + (
        "by_registry,BY,Mininform,4,0,4\n"
        "rkn_registry,RU,Генпрокуратура,3,1,10\n"
        "rkn_registry,RU,Роскомнадзор,2,0,5\n"
    )


def test_registry_changes_with_a_country_keep_that_countrys_registries(settings, warehouse):
    out = publish_quarter(settings, "2025Q2", country="RU")
    rows = read_csv(out / "blocking_registry_changes_by_authority.csv")
    assert [(r["registry"], r["authority"], r["active_at_quarter_end"]) for r in rows] == [
        ("rkn_registry", "Генпрокуратура", "10"),
        ("rkn_registry", "Роскомнадзор", "5"),
    ]


def test_a_country_without_a_registry_gets_a_header_only_table_and_a_no_rows_line(settings, warehouse):
    out = publish_quarter(settings, "2025Q2", country="KZ")
    assert (out / "blocking_registry_changes_by_authority.csv").read_text("utf-8") == REGISTRY_HEADER
    markdown = markdown_of(out)
    section = markdown.split("## Blocking: Registry changes by authority\n", 1)[1].split("\n## ", 1)[0]
    assert "| registry | registry_country | authority |" in section
    assert section.rstrip().endswith("_No rows._")
    sheet = openpyxl.load_workbook(out / "transparency_2025Q2_KZ.xlsx")["blocking registry changes"]
    assert list(sheet.iter_rows(values_only=True)) == [tuple(REGISTRY_HEADER.strip().split(","))]
    assert manifest_of(out)["blocking"]["tables"][0]["rows"] == 0


def test_blocked_news_domains_hold_the_quarter_and_the_country(settings, warehouse):
    out = publish_quarter(settings, "2025Q2", country="KZ")
    assert (out / "blocking_blocked_news_domains.csv").read_text("utf-8") == NEWS_HEADER + (
        "KZ,rights.example,HUMR,Human Rights Issues,sustained_anomalies,14,10,0,0.7143,8,2025-06-20,2025-06-30\n"
        "KZ,news.example,NEWS,News Media,confirmed,20,15,3,0.75,10,2025-04-02,2025-06-28\n"
    )
    everywhere = read_csv(publish_quarter(settings, "2025Q2") / "blocking_blocked_news_domains.csv")
    assert [(r["country_code"], r["domain"]) for r in everywhere] == [
        ("KZ", "rights.example"),
        ("KZ", "news.example"),
        ("RU", "meduza.example"),
    ]


def test_coverage_counts_urls_domains_and_measured_domains_per_list_and_category(settings, warehouse):
    """Country lists are measured in their country, GLOBAL in every country with OONI data for the quarter;
    sustained = rate >= 0.5 over >= 7 days (edge.example sits on both limits), Q1 measurements do not count."""
    out = publish_quarter(settings, "2025Q2")
    assert coverage(out) == [
        ("KZ", "HUMR", "1", "1", "KZ", "1", "1", "0"),
        ("KZ", "NEWS", "3", "2", "KZ", "1", "1", "1"),
        ("KZ", "POLR", "2", "2", "KZ", "2", "1", "0"),
        ("RU", "NEWS", "1", "1", "RU", "1", "1", "1"),
        ("GLOBAL", "CULTR", "1", "1", "KZ; RU", "1", "0", "0"),
        ("GLOBAL", "NEWS", "1", "1", "KZ; RU", "1", "1", "1"),
        ("GLOBAL", "POLR", "1", "1", "KZ; RU", "1", "1", "0"),
    ]
    assert read_csv(out / "blocking_testlist_coverage.csv")[0]["category"] == "Human Rights Issues"


def test_coverage_with_a_country_holds_its_list_and_global_measured_in_that_country(settings, warehouse):
    out = publish_quarter(settings, "2025Q2", country="KZ")
    assert coverage(out) == [
        ("KZ", "HUMR", "1", "1", "KZ", "1", "1", "0"),
        ("KZ", "NEWS", "3", "2", "KZ", "1", "1", "1"),
        ("KZ", "POLR", "2", "2", "KZ", "2", "1", "0"),
        ("GLOBAL", "CULTR", "1", "1", "KZ", "1", "0", "0"),
        ("GLOBAL", "NEWS", "1", "1", "KZ", "1", "1", "1"),
        ("GLOBAL", "POLR", "1", "1", "KZ", "0", "0", "0"),
    ]
    assert "GLOBAL (global.csv) is measured in KZ" in markdown_of(out)


def test_coverage_of_a_quarter_without_measurements_counts_listed_urls_only(settings, warehouse):
    out = publish_quarter(settings, "2025Q3", country="KZ")
    assert coverage(out)[:2] == [
        ("KZ", "HUMR", "1", "1", "", "0", "0", "0"),
        ("KZ", "NEWS", "3", "2", "", "0", "0", "0"),
    ]
    assert (out / "blocking_blocked_news_domains.csv").read_text("utf-8") == NEWS_HEADER


def test_markdown_and_notes_sheet_state_what_each_table_counts_and_the_thresholds(settings, warehouse):
    out = publish_quarter(settings, "2025Q2")
    markdown = markdown_of(out)
    for title in (
        "Registry changes by authority",
        "Blocked news, political and human-rights domains",
        "Test-list coverage by OONI",
    ):
        assert f"## Blocking: {title}\n" in markdown
    assert "confirmed >= 1 in the quarter, or anomaly_rate >= 0.5 over >= 7 days measured" in markdown
    assert "every country with OONI data for the quarter: KZ, RU" in markdown
    book = openpyxl.load_workbook(out / "transparency_2025Q2.xlsx")
    notes = [(label, text) for label, text in book["Notes"].iter_rows(values_only=True) if label]
    coverage_notes = [text for label, text in notes if label == "Blocking: Test-list coverage by OONI"]
    assert "domains_measured" in coverage_notes[0]
    assert coverage_notes[1] == "sheet 'blocking testlist coverage', blocking_testlist_coverage.csv: 7 rows"


def test_thresholds_come_from_the_dbt_vars(settings, warehouse, tmp_path):
    project = tmp_path / "project"
    (project / "dbt_project").mkdir(parents=True)
    (project / "dbt_project" / "dbt_project.yml").write_text(
        "name: transparency\nvars:\n  blocked_min_anomaly_rate: 0.7\n  blocked_min_days: 9\n", "utf-8"
    )
    out = publish_quarter(settings.with_(project_dir=project), "2025Q2", country="KZ")
    # rights.example (0.71 over 8 days) and edge.example (0.5 over 7) are no longer sustained
    assert [(r[0], r[1], r[6]) for r in coverage(out)[:3]] == [
        ("KZ", "HUMR", "0"),
        ("KZ", "NEWS", "1"),
        ("KZ", "POLR", "0"),
    ]
    assert manifest_of(out)["blocking"]["thresholds"] == {
        "min_anomaly_rate": 0.7,
        "min_days": 9,
        "min_confirmed": 1,
        "origin": "dbt vars blocked_min_anomaly_rate / blocked_min_days",
    }


def test_project_scoped_dbt_vars_are_read_too(tmp_path):
    path = tmp_path / "dbt_project.yml"
    path.write_text("name: transparency\nvars:\n  transparency:\n    blocked_min_days: 14\n", "utf-8")
    thresholds = blocking_thresholds(path)
    assert (thresholds.min_anomaly_rate, thresholds.min_days) == (0.5, 14)
    assert thresholds.origin == "dbt var blocked_min_days; contract values for the others"


def test_without_dbt_vars_the_contract_thresholds_apply(tmp_path):
    thresholds = blocking_thresholds(tmp_path / "absent.yml")
    assert (thresholds.min_anomaly_rate, thresholds.min_days) == tuple(THRESHOLD_VARS.values())
    assert "contract values" in thresholds.origin


def test_a_dbt_var_that_is_not_a_number_is_a_one_line_error(tmp_path):
    path = tmp_path / "dbt_project.yml"
    path.write_text("vars:\n  blocked_min_days: a week\n", "utf-8")
    with pytest.raises(PipelineError) as caught:
        blocking_thresholds(path)
    assert str(caught.value) == f"dbt var blocked_min_days in {path} is not a number: 'a week'"


def test_a_warehouse_without_blocking_marts_publishes_removals_and_marks_blocking_unavailable(settings):
    build_warehouse(settings.warehouse_path)
    out = publish_quarter(settings, "2025Q2", country="KZ")
    assert not BLOCKING_CSVS & {p.name for p in out.iterdir()}
    assert (out / "google_requests_by_country_year.csv").is_file()
    tables = manifest_of(out)["blocking"]["tables"]
    assert [t["table"] for t in tables] == [
        "registry_changes_by_authority",
        "blocked_news_domains",
        "testlist_coverage",
    ]
    assert all(t["unavailable"].startswith("unavailable: the warehouse has no marts.") for t in tables)
    assert manifest_of(out)["blocking"]["vintages"].startswith("unavailable: the warehouse has no marts.")
    assert "_unavailable: the warehouse has no marts.registry_changes_by_authority_quarter" in markdown_of(
        out
    )
    book = openpyxl.load_workbook(out / "transparency_2025Q2_KZ.xlsx")
    assert not set(BLOCKING_SHEETS) & set(book.sheetnames)


def test_a_table_whose_mart_is_missing_is_unavailable_while_the_others_publish(settings):
    build_warehouse(settings.warehouse_path, BLOCKING_SQL, "drop table marts.ooni_blocking_by_domain_quarter")
    out = publish_quarter(settings, "2025Q2")
    assert {p.name for p in out.glob("blocking_*.csv")} == BLOCKING_CSVS - {"blocking_testlist_coverage.csv"}
    assert manifest_of(out)["blocking"]["tables"][2] == {
        "table": "testlist_coverage",
        "unavailable": "unavailable: the warehouse has no marts.ooni_blocking_by_domain_quarter "
        "(built before the blocking sources; run `transparency run`)",
    }


def test_a_blocking_mart_missing_a_contract_column_is_a_one_line_error(settings):
    build_warehouse(
        settings.warehouse_path, BLOCKING_SQL, "alter table marts.blocked_news_domains drop evidence"
    )
    with pytest.raises(PipelineError) as caught:
        publish_quarter(settings, "2025Q2")
    assert str(caught.value) == "marts.blocked_news_domains has no column 'evidence' (publish needs evidence)"
    assert not (settings.publish_dir / "2025Q2").exists()


def test_republishing_the_blocking_tables_is_byte_identical(settings, warehouse):
    first = snapshot(publish_quarter(settings, "2025Q2"))
    second = snapshot(publish_quarter(settings, "2025Q2"))
    for name in first.keys() - {"manifest.json"}:
        assert first[name] == second[name], name

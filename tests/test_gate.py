"""The Great Expectations gate: suites as code, validation of staged Parquet, quarantine, Data Docs.

Every test writes small staging batches with pyarrow (tests/gate_fixtures.py) and runs the real gate
(Great Expectations 1.x: SQL engine over DuckDB, pandas engine for value sets and key uniqueness); nothing
is mocked.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pyarrow as pa
import pytest

from expectations.common import CLDR_EXTRA_TERRITORY_CODES, ISO_3166_1_ALPHA2, TERRITORY_CODES
from expectations.google_removals import REQUESTERS, build_suite
from pipelines import gate
from pipelines.errors import PipelineError
from pipelines.lake import PART, partition_dir
from pipelines.sources.google_removals.schema import KEYS, SCHEMAS
from tests.conftest import GOOGLE_REAL_VINTAGES, require_real
from tests.gate_fixtures import SOURCE_ID, valid_table, with_values, write_staged

VINTAGE = "2026-03"


def run_gate(
    settings, dataset: str, table: pa.Table, previous_rows: int | None = None, vintage: str = VINTAGE
):
    path = write_staged(settings.staging_dir, dataset, table, vintage=vintage)
    return gate.validate_batch(settings, SOURCE_ID, dataset, vintage, path, previous_rows=previous_rows)


def failed_expectations(result) -> list[str]:
    """The expectation names of the failure lines (the text before the first parenthesis)."""
    return [line.split("(", 1)[0] for line in result.failed]


def failed_line(result, expectation: str, column: str) -> str:
    lines = [line for line in result.failed if line.startswith(f"{expectation}({column}")]
    assert lines, f"no failure of {expectation} on {column}: {result.failed}"
    return lines[0]


# ---- suites ----------------------------------------------------------------------------------------


def test_iso_list_holds_the_249_official_codes_plus_cldr_eu_and_xk():
    assert len(ISO_3166_1_ALPHA2) == 249
    assert {"KZ", "RU", "DE", "US", "GB", "SS", "BQ", "AX"} <= ISO_3166_1_ALPHA2
    assert not {"XK", "EU", "UK", "QQ"} & ISO_3166_1_ALPHA2
    assert (
        TERRITORY_CODES == ISO_3166_1_ALPHA2 | CLDR_EXTRA_TERRITORY_CODES == ISO_3166_1_ALPHA2 | {"EU", "XK"}
    )


@pytest.mark.parametrize("dataset", sorted(SCHEMAS))
def test_suite_checks_exact_columns_key_and_vocabularies(dataset):
    suite = build_suite(dataset, previous_rows=1000)
    by_type: dict[str, list[dict]] = {}
    for expectation in suite.expectations:
        by_type.setdefault(expectation.expectation_type, []).append(expectation.configuration.kwargs)
    assert by_type["expect_table_columns_to_match_ordered_list"][0]["column_list"] == SCHEMAS[dataset].names
    assert {k["column"] for k in by_type["expect_column_values_to_be_of_type"]} == set(SCHEMAS[dataset].names)
    assert by_type["expect_compound_columns_to_be_unique"][0]["column_list"] == list(KEYS[dataset])
    not_null = {k["column"] for k in by_type["expect_column_values_to_not_be_null"]}
    assert {"source_id", "vintage", "period_end", "country_name"} <= not_null
    sets = {k["column"]: set(k["value_set"]) for k in by_type["expect_column_values_to_be_in_set"]}
    assert sets["country_code"] == TERRITORY_CODES
    if "requester" in SCHEMAS[dataset].names:
        assert sets["requester"] == REQUESTERS
    row_counts = sorted(k["min_value"] for k in by_type["expect_table_row_count_to_be_between"])
    assert row_counts == [1, 500]  # at least one row; at least 50 % of the previous vintage


def test_unknown_dataset_has_no_suite():
    with pytest.raises(ValueError, match="unknown google_removals dataset"):
        build_suite("requests_everything")


# ---- validation: valid batches ----------------------------------------------------------------------


@pytest.mark.parametrize("dataset", sorted(SCHEMAS))
def test_valid_batch_of_each_dataset_passes(settings, dataset):
    result = run_gate(settings, dataset, valid_table(dataset), previous_rows=150)
    assert result.passed, result.failed
    assert result.rows == 120
    assert result.failed == []
    assert result.result_path == settings.gate_dir / SOURCE_ID / VINTAGE / f"{dataset}.json"


def test_result_files_hold_the_full_validation_result_and_a_summary(settings):
    table = with_values(valid_table("requests_granular"), "items_requested", {3: -5})
    result = run_gate(settings, "requests_granular", table)
    data = json.loads(result.result_path.read_text())
    assert data["suite_name"] == "google_removals.requests_granular"
    assert data["success"] is False
    suite = build_suite("requests_granular")
    assert [r["expectation_config"]["type"] for r in data["results"]] == [
        e.expectation_type for e in suite.expectations
    ]  # in suite order, whichever engine checked each
    assert data["statistics"]["unsuccessful_expectations"] == 1
    assert data["meta"]["gate"]["rows"] == 120
    summary = result.result_path.with_suffix(".txt").read_text()
    assert "FAILED" in summary and "expect_column_values_to_be_between(items_requested" in summary
    assert summary == result.summary


# ---- validation: one test per bad input -------------------------------------------------------------


def test_negative_count_fails_the_range_check(settings):
    table = with_values(valid_table("requests_granular"), "items_requested", {3: -5, 8: -7})
    result = run_gate(settings, "requests_granular", table)
    assert not result.passed
    assert failed_expectations(result) == ["expect_column_values_to_be_between"]
    line = failed_line(result, "expect_column_values_to_be_between", "items_requested")
    assert line == "expect_column_values_to_be_between(items_requested, min=0): 2 of 120 rows, e.g. [-5, -7]"


def test_unknown_country_code_fails_the_iso_set(settings):
    table = with_values(valid_table("requests_by_requester"), "country_code", {4: "QQ"})
    result = run_gate(settings, "requests_by_requester", table)
    assert not result.passed
    assert failed_expectations(result) == ["expect_column_values_to_be_in_set"]
    assert "1 of 120 rows, e.g. ['QQ']" in failed_line(
        result, "expect_column_values_to_be_in_set", "country_code"
    )


def test_kosovo_and_european_union_codes_pass(settings):
    table = with_values(valid_table("requests_by_product_reason"), "country_code", {0: "XK", 1: "EU"})
    assert run_gate(settings, "requests_by_product_reason", table).passed


def test_unknown_requester_label_fails(settings):
    table = with_values(valid_table("requests_by_requester"), "requester", {5: "Ministry of Truth"})
    result = run_gate(settings, "requests_by_requester", table)
    assert failed_expectations(result) == ["expect_column_values_to_be_in_set"]
    assert "Ministry of Truth" in failed_line(result, "expect_column_values_to_be_in_set", "requester")


def test_duplicate_key_fails_compound_uniqueness(settings):
    table = valid_table("requests_granular")
    copy = {c: table.column(c)[10].as_py() for c in KEYS["requests_granular"]}
    for column, value in copy.items():
        table = with_values(table, column, {11: value})
    result = run_gate(settings, "requests_granular", table)
    assert not result.passed
    assert failed_expectations(result) == ["expect_compound_columns_to_be_unique"]
    line = failed_line(result, "expect_compound_columns_to_be_unique", "period_end")
    assert "2 of 120 rows" in line and "Country 10" in line and "2024-12-31" in line


def test_percentage_above_100_fails(settings):
    table = with_values(valid_table("requests_by_requester"), "pct_removed_legal", {2: 120.0})
    result = run_gate(settings, "requests_by_requester", table)
    assert failed_expectations(result) == ["expect_column_values_to_be_between"]
    line = failed_line(result, "expect_column_values_to_be_between", "pct_removed_legal")
    assert line.endswith("min=0, max=100): 1 of 120 rows, e.g. [120]")


def test_null_key_fails_not_null(settings):
    table = with_values(valid_table("requests_by_requester"), "requester", {7: None})
    result = run_gate(settings, "requests_by_requester", table)
    assert failed_expectations(result) == ["expect_column_values_to_not_be_null"]
    assert "1 of 120 rows" in failed_line(result, "expect_column_values_to_not_be_null", "requester")


def test_null_vintage_fails_not_null(settings):
    table = with_values(valid_table("requests_by_product_reason"), "vintage", {0: None})
    result = run_gate(settings, "requests_by_product_reason", table)
    assert failed_expectations(result) == ["expect_column_values_to_not_be_null"]


def test_row_count_collapse_against_previous_vintage_fails(settings):
    result = run_gate(
        settings, "requests_by_requester", valid_table("requests_by_requester"), previous_rows=241
    )
    assert not result.passed
    assert result.failed == ["expect_table_row_count_to_be_between(min=121): observed 120 rows"]


def test_row_count_at_half_the_previous_vintage_passes(settings):
    assert run_gate(
        settings, "requests_by_requester", valid_table("requests_by_requester"), previous_rows=240
    ).passed


def test_empty_batch_fails_row_count(settings):
    result = run_gate(
        settings, "requests_by_product_reason", valid_table("requests_by_product_reason", rows=0)
    )
    assert "expect_table_row_count_to_be_between(min=1): observed 0 rows" in result.failed


def test_wrong_column_type_fails_type_check(settings):
    table = valid_table("requests_granular")
    index = table.schema.get_field_index("items_requested")
    as_text = pa.array([None if v is None else str(v) for v in table.column(index).to_pylist()], pa.string())
    table = table.set_column(index, pa.field("items_requested", pa.string()), as_text)
    result = run_gate(settings, "requests_granular", table)
    assert not result.passed
    line = failed_line(result, "expect_column_values_to_be_of_type", "items_requested")
    assert line == "expect_column_values_to_be_of_type(items_requested, type=BIGINT): observed 'VARCHAR'"


def test_extra_column_fails_exact_column_list(settings):
    table = valid_table("requests_by_product_reason")
    table = table.append_column("surprise", pa.array(["x"] * table.num_rows))
    result = run_gate(settings, "requests_by_product_reason", table)
    assert failed_expectations(result) == ["expect_table_columns_to_match_ordered_list"]
    assert "unexpected ['surprise']" in result.failed[0]


def test_missing_column_fails_its_expectations(settings):
    table = valid_table("requests_by_product_reason").drop_columns(["requests"])
    result = run_gate(settings, "requests_by_product_reason", table)
    assert not result.passed
    assert "missing ['requests']" in failed_line(result, "expect_table_columns_to_match_ordered_list", "")
    assert "expect_column_values_to_be_between" in failed_expectations(result)


def test_missing_parquet_file_raises_pipeline_error(settings):
    with pytest.raises(PipelineError, match="staged file not found"):
        gate.validate_batch(
            settings, SOURCE_ID, "requests_granular", VINTAGE, settings.staging_dir / "nope.parquet"
        )


def test_source_without_suite_raises_pipeline_error(settings):
    path = write_staged(settings.staging_dir, "requests_granular", valid_table("requests_granular", rows=3))
    with pytest.raises(PipelineError, match="no expectation suite for source 'nowhere'"):
        gate.validate_batch(settings, "nowhere", "requests_granular", VINTAGE, path)


def test_every_row_of_every_duplicate_key_is_counted(settings):
    table = valid_table("requests_granular", rows=600)
    for source_row, target_row in ((10, 11), (300, 599), (42, 43)):
        for column in KEYS["requests_granular"]:
            table = with_values(table, column, {target_row: table.column(column)[source_row].as_py()})
    result = run_gate(settings, "requests_granular", table, previous_rows=600)
    assert failed_expectations(result) == ["expect_compound_columns_to_be_unique"]
    assert "6 of 600 rows" in failed_line(result, "expect_compound_columns_to_be_unique", "period_end")
    unique = next(
        r
        for r in json.loads(result.result_path.read_text())["results"]
        if r["expectation_config"]["type"] == "expect_compound_columns_to_be_unique"
    )
    names = sorted(row["country_name"] for row in unique["result"]["partial_unexpected_list"])
    assert names == ["Country 10", "Country 10", "Country 300", "Country 300", "Country 42", "Country 42"]


# ---- quarantine, Data Docs, status ------------------------------------------------------------------


def test_quarantine_moves_the_vintage_out_of_staging_with_a_summary(settings):
    good = run_gate(settings, "requests_by_product_reason", valid_table("requests_by_product_reason"))
    bad_table = with_values(valid_table("requests_granular"), "items_removed_policy", {0: -1})
    bad = run_gate(settings, "requests_granular", bad_table)
    staged = {
        r.dataset: partition_dir(settings.staging_dir, SOURCE_ID, r.dataset, VINTAGE) / PART
        for r in (good, bad)
    }

    folder = gate.quarantine_batch(settings, SOURCE_ID, VINTAGE, staged, [good, bad])

    assert folder == settings.quarantine_dir / SOURCE_ID / VINTAGE
    assert not list(settings.staging_dir.glob(f"{SOURCE_ID}/*/vintage={VINTAGE}"))
    for dataset in staged:
        assert (folder / dataset / PART).is_file()
        assert (folder / dataset / f"validation-{dataset}.json").is_file()
    summary = (folder / "SUMMARY.txt").read_text()
    assert f"{SOURCE_ID} vintage {VINTAGE}" in summary
    assert "requests_granular: FAILED, 120 rows" in summary
    assert "expect_column_values_to_be_between(items_removed_policy, min=0): 1 of 120 rows" in summary
    assert "requests_by_product_reason: passed, 120 rows" in summary


def test_data_docs_render_every_stored_result(settings):
    result = run_gate(settings, "requests_by_requester", valid_table("requests_by_requester"))
    index = gate.build_data_docs(settings)
    assert index == settings.docs_dir / "index.html"
    assert "requests_by_requester" in index.read_text()
    pages = list((settings.docs_dir / "validations").rglob("*.html"))
    assert len(pages) == 1 and "requests_by_requester" in pages[0].name
    assert result.passed


def test_last_results_gives_the_newest_result_per_dataset(settings):
    run_gate(settings, "requests_by_requester", valid_table("requests_by_requester"), vintage="2025-12")
    bad = with_values(valid_table("requests_by_requester"), "requests", {0: -3})
    run_gate(settings, "requests_by_requester", bad, vintage="2026-03")
    run_gate(settings, "requests_by_product_reason", valid_table("requests_by_product_reason"))

    results = gate.last_results(settings, SOURCE_ID)

    assert [(r["dataset"], r["vintage"], r["passed"]) for r in results] == [
        ("requests_by_product_reason", VINTAGE, True),
        ("requests_by_requester", "2026-03", False),
    ]
    assert results[1]["failed"][0].startswith("expect_column_values_to_be_between(requests, min=0)")
    assert gate.last_results(settings, "nowhere") == []


# ---- the real files only use codes and labels the suites know ----------------------------------------


@pytest.mark.real
@pytest.mark.parametrize("vintage", GOOGLE_REAL_VINTAGES)
def test_real_files_use_only_known_territory_codes_and_requesters(vintage):
    archive = require_real("google", vintage, "google-government-removals.zip")
    with zipfile.ZipFile(archive) as zf:
        for name in (n for n in zf.namelist() if n.endswith(".csv")):
            rows = list(csv.DictReader(io.TextIOWrapper(zf.open(name), encoding="utf-8-sig")))
            codes = {r.get("CLDR Territory Code") or r.get("cldr_territory") or "" for r in rows}
            two_letter = {c for c in codes if len(c) == 2 and c.isalpha()}  # others become NULL when parsed
            assert two_letter <= TERRITORY_CODES, (name, two_letter - TERRITORY_CODES)
            labels = {r.get("Requester") or r.get("Requestor") or r.get("requestor") for r in rows} - {None}
            assert labels <= REQUESTERS, (name, labels - REQUESTERS)

"""The citizenlab_testlists suites, run by the real gate (Great Expectations on the pandas engine)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from expectations.citizenlab_testlists import KNOWN_CATEGORY_CODES, LIST_CODES, build_suite
from pipelines import gate
from pipelines.lake import PART, partition_dir, write_batches
from pipelines.sources.citizenlab_testlists.schema import KEYS, SCHEMAS

SOURCE_ID = "citizenlab_testlists"
CODES = sorted(KNOWN_CATEGORY_CODES)


def urls(rows: int = 20) -> list[dict]:
    return [
        {
            "country_code": "KZ",
            "url": f"https://site{i}.example/",
            "domain": f"site{i}.example",
            "category_code": CODES[i % len(CODES)],
            "category_code_raw": CODES[i % len(CODES)],
            "category_description": "x",
            "date_added": dt.date(2014, 4, 15),
            "source": "citizenlab",
            "notes": None,
            "source_id": SOURCE_ID,
            "vintage": "v1",
            "source_file": "kz.csv",
            "source_row_number": i + 1,
        }
        for i in range(rows)
    ]


def validate(settings, rows: list[dict], dataset: str = "testlist_urls", previous_rows: int | None = None):
    schema = SCHEMAS[dataset]
    loose = pa.schema(
        [f.with_nullable(True) for f in schema]
    )  # lets a test write a NULL the parser never would
    table = pa.Table.from_pylist(rows, schema=loose)
    path = partition_dir(settings.staging_dir, SOURCE_ID, dataset, "v1") / PART
    write_batches(path, table.schema, table.to_batches())
    return gate.validate_batch(settings, SOURCE_ID, dataset, "v1", path, previous_rows=previous_rows)


def failed_names(result) -> list[str]:
    return [line.split("(", 1)[0] for line in result.failed]


@pytest.mark.parametrize("dataset", sorted(SCHEMAS))
def test_suite_checks_columns_key_and_category_codes(dataset):
    by_type: dict[str, list[dict]] = {}
    for expectation in build_suite(dataset, previous_rows=100).expectations:
        by_type.setdefault(expectation.expectation_type, []).append(expectation.configuration.kwargs)
    assert by_type["expect_table_columns_to_match_ordered_list"][0]["column_list"] == SCHEMAS[dataset].names
    if len(KEYS[dataset]) > 1:
        assert by_type["expect_compound_columns_to_be_unique"][0]["column_list"] == list(KEYS[dataset])
    else:  # a one-column key: GX's compound expectation needs two columns
        assert [k["column"] for k in by_type["expect_column_values_to_be_unique"]] == list(KEYS[dataset])
    sets = {k["column"]: set(k["value_set"]) for k in by_type["expect_column_values_to_be_in_set"]}
    code_column = "category_code" if dataset == "testlist_urls" else "code"
    assert sets[code_column] == KNOWN_CATEGORY_CODES
    if dataset == "testlist_urls":
        assert sets["country_code"] == LIST_CODES
    assert sorted(k["min_value"] for k in by_type["expect_table_row_count_to_be_between"]) == [1, 50]


def test_unknown_dataset_has_no_suite():
    with pytest.raises(ValueError, match="unknown citizenlab_testlists dataset"):
        build_suite("urls")


def test_valid_urls_pass(settings):
    assert validate(settings, urls()).passed


def test_unknown_category_code_fails_the_gate(settings):
    rows = urls()
    rows[3]["category_code"] = "BOGUS"
    result = validate(settings, rows)
    assert failed_names(result) == ["expect_column_values_to_be_in_set"]
    assert "category_code" in result.failed[0]


def test_repeated_url_fails_the_gate(settings):
    rows = urls()
    rows[5]["url"] = rows[4]["url"]
    assert failed_names(validate(settings, rows)) == ["expect_compound_columns_to_be_unique"]


def test_repeated_legend_code_fails_the_gate(settings):
    legend = [
        {
            "code": code,
            "category": f"Category {code}",
            "description": None,
            "replaces_old_codes": code,
            "source_id": SOURCE_ID,
            "vintage": "v1",
            "source_file": "00-LEGEND-new_category_codes.csv",
            "source_row_number": i + 1,
        }
        for i, code in enumerate(CODES + ["NEWS"])
    ]
    assert validate(settings, legend[:-1], "category_codes").passed
    assert failed_names(validate(settings, legend, "category_codes")) == ["expect_column_values_to_be_unique"]


def test_null_domain_fails_the_gate(settings):
    rows = urls()
    rows[0]["domain"] = None
    assert failed_names(validate(settings, rows)) == ["expect_column_values_to_not_be_null"]


def test_unknown_country_code_fails_the_gate(settings):
    rows = urls()
    rows[0]["country_code"] = "XX"
    assert failed_names(validate(settings, rows)) == ["expect_column_values_to_be_in_set"]


def test_list_that_lost_most_of_its_urls_fails_the_gate(settings):
    assert failed_names(validate(settings, urls(), previous_rows=100)) == [
        "expect_table_row_count_to_be_between"
    ]

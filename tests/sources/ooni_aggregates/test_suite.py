"""The ooni_aggregates suite, run by the real gate (Great Expectations on the pandas engine)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from expectations.ooni_aggregates import SUBSET_COUNTS, build_suite
from pipelines import gate
from pipelines.lake import PART, partition_dir, write_batches
from pipelines.sources.ooni_aggregates.schema import KEYS, SCHEMAS

SOURCE_ID = "ooni_aggregates"
DATASET = "ooni_domain_days"


def days(rows: int = 20) -> list[dict]:
    return [
        {
            "country_code": "KZ",
            "measurement_day": dt.date(2026, 6, 1) + dt.timedelta(days=i % 5),
            "domain": f"site{i}.example",
            "measurements": 10 + i,
            "anomalies": i % 4,
            "confirmed": i % 2,
            "failures": 1,
            "ok": 10 + i - i % 4 - 1,
            "source_id": SOURCE_ID,
            "vintage": "v1",
            "source_file": "aggregation_KZ_2026-06-01_2026-06-06.json",
            "source_row_number": i + 1,
        }
        for i in range(rows)
    ]


def validate(settings, rows: list[dict]):
    loose = pa.schema([f.with_nullable(True) for f in SCHEMAS[DATASET]])  # lets a test write a NULL
    table = pa.Table.from_pylist(rows, schema=loose)
    path = partition_dir(settings.staging_dir, SOURCE_ID, DATASET, "v1") / PART
    write_batches(path, table.schema, table.to_batches())
    return gate.validate_batch(settings, SOURCE_ID, DATASET, "v1", path)


def failed_names(result) -> list[str]:
    return [line.split("(", 1)[0] for line in result.failed]


def test_suite_checks_columns_key_counts_and_subsets():
    by_type: dict[str, list[dict]] = {}
    for expectation in build_suite(DATASET, previous_rows=1000).expectations:
        by_type.setdefault(expectation.expectation_type, []).append(expectation.configuration.kwargs)
    assert by_type["expect_table_columns_to_match_ordered_list"][0]["column_list"] == SCHEMAS[DATASET].names
    assert by_type["expect_compound_columns_to_be_unique"][0]["column_list"] == list(KEYS[DATASET])
    non_negative = {
        k["column"] for k in by_type["expect_column_values_to_be_between"] if k.get("min_value") == 0
    }
    assert non_negative == {"measurements", "anomalies", "confirmed", "failures", "ok"}
    pairs = {
        (k["column_A"], k["column_B"]) for k in by_type["expect_column_pair_values_a_to_be_greater_than_b"]
    }
    assert pairs == {("measurements", c) for c in SUBSET_COUNTS}
    # a vintage is a re-fetch window, not a full copy: no collapse check against the previous one
    assert [k["min_value"] for k in by_type["expect_table_row_count_to_be_between"]] == [1]


def test_unknown_dataset_has_no_suite():
    with pytest.raises(ValueError, match="unknown ooni_aggregates dataset"):
        build_suite("measurements")


def test_valid_domain_days_pass(settings):
    assert validate(settings, days()).passed


def test_anomalies_above_measurements_fail_the_gate(settings):
    rows = days()
    rows[2]["anomalies"] = rows[2]["measurements"] + 1
    result = validate(settings, rows)
    assert failed_names(result) == ["expect_column_pair_values_a_to_be_greater_than_b"]


def test_negative_count_fails_the_gate(settings):
    rows = days()
    rows[0]["failures"] = -1
    assert failed_names(validate(settings, rows)) == ["expect_column_values_to_be_between"]


def test_repeated_day_and_domain_fails_the_gate(settings):
    rows = days()
    rows[6]["domain"], rows[6]["measurement_day"] = rows[1]["domain"], rows[1]["measurement_day"]
    assert failed_names(validate(settings, rows)) == ["expect_compound_columns_to_be_unique"]


def test_null_domain_fails_the_gate(settings):
    rows = days()
    rows[3]["domain"] = None
    assert failed_names(validate(settings, rows)) == ["expect_column_values_to_not_be_null"]


def test_empty_window_fails_the_gate(settings):
    assert failed_names(validate(settings, [])) == ["expect_table_row_count_to_be_between"]


# ---- ooni_windows ---------------------------------------------------------------------------------
def windows(*items: tuple[str, dt.date, dt.date, int]) -> list[dict]:
    return [
        {
            "country_code": cc,
            "window_since": since,
            "window_until": until,
            "result_rows": rows,
            "source_id": SOURCE_ID,
            "vintage": "v1",
            "source_file": f"aggregation_{cc}_{since}_{until}.json",
            "source_row_number": 1,
        }
        for cc, since, until, rows in items
    ]


def validate_windows(settings, rows: list[dict]):
    table = pa.Table.from_pylist(rows, schema=SCHEMAS["ooni_windows"])
    path = partition_dir(settings.staging_dir, SOURCE_ID, "ooni_windows", "v1") / PART
    write_batches(path, table.schema, table.to_batches())
    return gate.validate_batch(settings, SOURCE_ID, "ooni_windows", "v1", path)


JUNE_28, JULY_1 = dt.date(2026, 6, 28), dt.date(2026, 7, 1)


def test_windows_suite_checks_key_and_window_order():
    by_type: dict[str, list[dict]] = {}
    for expectation in build_suite("ooni_windows").expectations:
        by_type.setdefault(expectation.expectation_type, []).append(expectation.configuration.kwargs)
    assert by_type["expect_compound_columns_to_be_unique"][0]["column_list"] == list(KEYS["ooni_windows"])
    [pair] = by_type["expect_column_pair_values_a_to_be_greater_than_b"]
    assert (pair["column_A"], pair["column_B"], pair["or_equal"]) == ("window_until", "window_since", False)


def test_valid_windows_pass_even_with_an_empty_response(settings):
    rows = windows(("KZ", JUNE_28, JULY_1, 12), ("RU", JUNE_28, JULY_1, 0))
    assert validate_windows(settings, rows).passed


def test_window_ending_before_it_starts_fails_the_gate(settings):
    result = validate_windows(settings, windows(("KZ", JULY_1, JUNE_28, 3)))
    assert failed_names(result) == ["expect_column_pair_values_a_to_be_greater_than_b"]


def test_repeated_window_fails_the_gate(settings):
    result = validate_windows(settings, windows(("KZ", JUNE_28, JULY_1, 3), ("KZ", JUNE_28, JULY_1, 4)))
    assert failed_names(result) == ["expect_compound_columns_to_be_unique"]

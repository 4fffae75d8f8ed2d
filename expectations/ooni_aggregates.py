"""Great Expectations suite of ooni_aggregates (see sources/ooni_aggregates/schema.py).

The standard suite of expectations/common.py (exact columns in order and their types, every column NOT
NULL, (country_code, measurement_day, domain) unique, the five counts >= 0, country_code an ISO 3166-1
alpha-2 code, at least one row), plus what OONI's counts imply: anomalies, confirmed, failures and ok
are each a subset of the measurements of the day and domain, so none exceeds `measurements`.

`ooni_windows` (one row per response file): the standard suite (key country_code, window_since,
window_until; result_rows >= 0; at least one row) plus window_until > window_since (an empty window asks
nothing and would make dbt drop the days of no vintage).

No collapse check against the previous vintage: a vintage here is one re-fetch window (a few days), not
a full copy of the data, so its size says nothing about the previous one's (previous_rows is ignored).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import (
    ISO_3166_1_ALPHA2,
    dataset_schema,
    standard_suite,
    suite_name,
)
from pipelines.sources.ooni_aggregates.schema import KEYS, SCHEMAS

if TYPE_CHECKING:
    import great_expectations as gx

SOURCE_ID = "ooni_aggregates"
SUBSET_COUNTS: tuple[str, ...] = ("anomalies", "confirmed", "failures", "ok")


def build_suite(dataset: str, previous_rows: int | None = None) -> gx.ExpectationSuite:
    """The suite of one dataset (previous_rows is accepted for the gate's interface and not used)."""
    import great_expectations as gx

    schema = dataset_schema(SOURCE_ID, SCHEMAS, dataset)
    base = standard_suite(
        suite_name(SOURCE_ID, dataset),
        schema,
        KEYS[dataset],
        value_sets={"country_code": ISO_3166_1_ALPHA2},
    )
    if dataset == "ooni_windows":
        extra = [
            gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="window_until", column_B="window_since", or_equal=False
            )
        ]
    else:
        extra = [
            gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="measurements", column_B=column, or_equal=True
            )
            for column in SUBSET_COUNTS
        ]
    return gx.ExpectationSuite(name=base.name, expectations=list(base.expectations) + extra)

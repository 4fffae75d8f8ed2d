"""Great Expectations suites of citizenlab_testlists (see sources/citizenlab_testlists/schema.py).

Both datasets get the standard suite of expectations/common.py (exact columns in order and their types,
NOT NULL where the schema says so, the natural key unique, at least one row and no collapse below 50 %
of the previous vintage's rows). On top of it:
- `testlist_urls.country_code` is an ISO 3166-1 alpha-2 code or `GLOBAL`;
- `testlist_urls.category_code` and `category_codes.code` are within KNOWN_CATEGORY_CODES, the current
  codes of Citizen Lab's legend. The parser already rejects a list code absent from the legend of the
  same retrieval; this second net quarantines a legend that gained or renamed a category, because the
  marts select news, political-criticism and human-rights categories by code and a person must decide
  where a new one belongs (then add it here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import (
    ISO_3166_1_ALPHA2,
    dataset_schema,
    standard_suite,
    suite_name,
)
from pipelines.sources.citizenlab_testlists.schema import GLOBAL, KEYS, SCHEMAS

if TYPE_CHECKING:
    import great_expectations as gx

SOURCE_ID = "citizenlab_testlists"


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The 31 current codes of 00-LEGEND-new_category_codes.csv (snapshot of 2026-06-30).
KNOWN_CATEGORY_CODES: frozenset[str] = _codes(
    """
    ALDR REL PORN PROV POLR HUMR ENV MILX HATE NEWS XED PUBH GMB ANON DATE GRP LGBT FILE HACK COMT
    MMED HOST SRCH GAME CULTR ECON GOVT COMM CTRL IGO MISC
    """
)

LIST_CODES: frozenset[str] = ISO_3166_1_ALPHA2 | {GLOBAL}


def build_suite(dataset: str, previous_rows: int | None = None) -> gx.ExpectationSuite:
    """The suite of one dataset; previous_rows is the row count of the latest vintage already in the lake."""
    schema = dataset_schema(SOURCE_ID, SCHEMAS, dataset)
    value_sets = {
        "country_code": LIST_CODES,
        "category_code": KNOWN_CATEGORY_CODES,
        "code": KNOWN_CATEGORY_CODES,
    }
    return standard_suite(
        suite_name(SOURCE_ID, dataset),
        schema,
        KEYS[dataset],
        value_sets=value_sets,
        previous_rows=previous_rows,
    )

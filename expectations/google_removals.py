"""Great Expectations suites of google_removals, one per staging dataset (see sources/google_removals/schema.py).

Every dataset gets the standard suite of expectations/common.py: exact columns in order and their types,
NOT NULL where the schema says so (key parts, flags, lineage: source_id, vintage…), the natural key unique,
country_code within the ISO 3166-1 alpha-2 codes (plus the CLDR codes EU and XK that Google uses; NULL
stands for Europol/Interpol/UNKNOWN), requester within the labels Google has published, counts >= 0,
percentages within 0..100, at least one row and, given the row count of the previous vintage in the lake,
at least ROW_COUNT_COLLAPSE_FLOOR (50 %) of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import (
    TERRITORY_CODES,
    dataset_schema,
    standard_suite,
    suite_name,
)
from pipelines.sources.google_removals.schema import KEYS, PERCENT_COLUMNS, SCHEMAS

if TYPE_CHECKING:
    import great_expectations as gx

SOURCE_ID = "google_removals"

# Every requester label seen in the published files; spellings changed between vintages (2026-03 writes
# "Court Order directed at Google" and keeps the publisher's typo "Supression Orders").
REQUESTERS: frozenset[str] = frozenset(
    {
        "Court Order Directed at 3rd Party",
        "Court Order directed at 3rd party",
        "Court Order Directed at Google",
        "Court Order directed at Google",
        "Consumer Protection Authority",
        "Data Protection Authority",
        "Government Officials",
        "Information and Communications Authority",
        "Information and Communications Authority Under Federal Law 276-FZ",
        "Military",
        "Other",
        "Police",
        "Suppression Orders",
        "Supression Orders",
    }
)


def build_suite(dataset: str, previous_rows: int | None = None) -> gx.ExpectationSuite:
    """The suite of one dataset; previous_rows is the row count of the latest vintage already in the lake."""
    schema = dataset_schema(SOURCE_ID, SCHEMAS, dataset)
    return standard_suite(
        suite_name(SOURCE_ID, dataset),
        schema,
        KEYS[dataset],
        percent_columns=PERCENT_COLUMNS,
        value_sets={"country_code": TERRITORY_CODES, "requester": REQUESTERS},
        previous_rows=previous_rows,
    )

"""Typed staging schemas of google_removals: one pyarrow schema per dataset.

Conventions (shared by the parser, the gate and dbt):
- every measure `m` comes as three columns: `m` (int64 or float64, NULL when not a plain number),
  `m_raw` (string: the published text, kept only when it was not a plain number, e.g. `<10` or `?`;
  NULL when the text was a plain number or empty) and `m_is_censored` (bool, true for `<N` values);
- `country_code` is the published CLDR territory code when it is two letters, else NULL (Europol,
  Interpol, UNKNOWN); `country_code_raw` keeps the published code text;
- lineage columns close every schema: source_id, vintage, source_file (member path inside the
  archive), source_row_number (1-based index of the data record in that file, header excluded).
"""

from __future__ import annotations

import pyarrow as pa

LINEAGE = [
    pa.field("source_id", pa.string(), nullable=False),
    pa.field("vintage", pa.string(), nullable=False),
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("source_row_number", pa.int64(), nullable=False),
]

PLACE = [
    pa.field("period_end", pa.date32(), nullable=False),
    pa.field("country_name", pa.string(), nullable=False),
    pa.field("country_code", pa.string()),
    pa.field("country_code_raw", pa.string()),
]


COUNT = pa.int64()
PERCENT = pa.float64()


def measure(name: str, kind: pa.DataType = COUNT) -> list[pa.Field]:
    return [
        pa.field(name, kind),
        pa.field(f"{name}_raw", pa.string()),
        pa.field(f"{name}_is_censored", pa.bool_(), nullable=False),
    ]


def _schema(*groups: list[pa.Field]) -> pa.Schema:
    return pa.schema([f for group in groups for f in group] + LINEAGE)


def _measures(*names: str, kind: pa.DataType = COUNT) -> list[pa.Field]:
    return [f for n in names for f in measure(n, kind)]


HISTORICAL_GROUPS = ("all", "court_orders", "other")  # All Requests / Court Orders / Other (Executive, Police…)
PCT_OUTCOMES = (
    "pct_removed_legal",
    "pct_removed_policy",
    "pct_content_not_found",
    "pct_not_enough_info",
    "pct_no_action_taken",
    "pct_content_already_removed",
)
ITEM_OUTCOMES = (
    "items_removed_legal",
    "items_removed_policy",
    "items_content_not_found",
    "items_not_enough_info",
    "items_no_action_taken",
    "items_content_already_removed",
)

SCHEMAS: dict[str, pa.Schema] = {
    # google-government-removal-requests-historical.csv (2009H2 … 2019H1)
    "requests_summary_historical": _schema(
        PLACE,
        *[
            measure(f"{g}_requests")
            + measure(f"{g}_pct_complied", PERCENT)
            + measure(f"{g}_items_requested")
            for g in HISTORICAL_GROUPS
        ],
    ),
    # google-government-removal-requests.csv, summary layout (Requester / Requestor, % Removed-… columns)
    "requests_by_requester": _schema(
        PLACE,
        [pa.field("requester", pa.string(), nullable=False)],
        _measures("requests", "items_requested"),
        _measures(*PCT_OUTCOMES, kind=PERCENT),
    ),
    # google-government-removal-requests.csv, granular layout (time_period, requestor, product, reason, items_…)
    "requests_granular": _schema(
        PLACE,
        [
            pa.field("period_raw", pa.string(), nullable=False),  # e.g. "January - June 2025"
            pa.field("requester", pa.string(), nullable=False),
            pa.field("product", pa.string(), nullable=False),
            pa.field("reason", pa.string(), nullable=False),
        ],
        _measures("requests", "items_requested", *ITEM_OUTCOMES),
    ),
    # google-government-detailed-removal-requests.csv (product x reason, Total = number of requests)
    "requests_by_product_reason": _schema(
        PLACE,
        [pa.field("product", pa.string(), nullable=False), pa.field("reason", pa.string(), nullable=False)],
        _measures("requests"),
    ),
    # google-government-detailed-removal-requests-historical.csv (Court Orders / Executive, Police, etc.)
    "requests_by_product_reason_historical": _schema(
        PLACE,
        [pa.field("product", pa.string(), nullable=False), pa.field("reason", pa.string())],
        _measures("court_order_requests", "other_requests", "items_requested"),
    ),
}

# Natural keys: unique within one batch (file) and never NULL (reason may be NULL in the historical
# product x reason file, where Google left it blank).
KEYS: dict[str, tuple[str, ...]] = {
    "requests_summary_historical": ("period_end", "country_name"),
    "requests_by_requester": ("period_end", "country_name", "requester"),
    "requests_granular": ("period_end", "country_name", "requester", "product", "reason"),
    "requests_by_product_reason": ("period_end", "country_name", "product", "reason"),
    "requests_by_product_reason_historical": ("period_end", "country_name", "product", "reason"),
}

# Measures whose values are percentages (0..100); every other measure is a count (>= 0).
PERCENT_COLUMNS = frozenset(
    f.name for schema in SCHEMAS.values() for f in schema if pa.types.is_floating(f.type)
)

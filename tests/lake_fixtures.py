"""Small hand-made lake for the dbt tests: two vintages of google_removals with overlapping half-years.

Rows are written with the real contract (SCHEMAS + lake.write_batches), so dbt reads exactly what the
gate would have let through. A measure is given as an int (a plain number), `"<10"` (censored), `"?"`
(unknown) or None (blank); `measure()` turns it into the three columns `m`, `m_raw`, `m_is_censored`.

What the fixture holds (KZ = Kazakhstan, AM = Armenia):
- vintage 2023-03: the historical summary and historical product x reason files (2018 H1, 2018 H2,
  2019 H1; AM 2018 H2 only in the summary, censored `<10`), the current product x reason file and the
  summary layout per requester (2019 H1, 2019 H2);
- vintage 2026-03: the current product x reason file, revising 2019 H2 (30 -> 33 requests) and adding
  2025 H1, and the granular layout (2019 H2, 2025 H1) where one 2025 request (70) appears on two rows.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa

from pipelines import lake
from pipelines.sources.google_removals.schema import SCHEMAS

SOURCE_ID = "google_removals"
OLD, NEW = "2023-03", "2026-03"
FILES = {
    "requests_summary_historical": "google-government-removals/google-government-removal-requests-historical.csv",
    "requests_by_requester": "google-government-removals/google-government-removal-requests.csv",
    "requests_granular": "google-government-removals/google-government-removal-requests.csv",
    "requests_by_product_reason": "google-government-removals/google-government-detailed-removal-requests.csv",
    "requests_by_product_reason_historical": "google-government-removals/google-government-detailed-removal-requests-historical.csv",
}
KZ = {"country_name": "Kazakhstan", "country_code": "KZ", "country_code_raw": "KZ"}
AM = {"country_name": "Armenia", "country_code": "AM", "country_code_raw": "AM"}
EUROPOL = {"country_name": "Europol", "country_code": None, "country_code_raw": None}


def measure(name: str, value) -> dict:
    """The three columns of one measure from a shorthand value (int, float, '<10', '?', None)."""
    if value is None or isinstance(value, (int, float)):
        return {name: value, f"{name}_raw": None, f"{name}_is_censored": False}
    return {name: None, f"{name}_raw": value, f"{name}_is_censored": value.startswith("<")}


def _row(dataset: str, vintage: str, number: int, spec: dict) -> dict:
    schema = SCHEMAS[dataset]
    row: dict = {}
    for key, value in spec.items():
        if f"{key}_is_censored" in schema.names:
            row.update(measure(key, value))
        else:
            row[key] = date.fromisoformat(value) if key == "period_end" else value
    for field in schema:  # unnamed measures are blank, lineage is filled in
        if field.name.endswith("_is_censored"):
            row.setdefault(field.name, False)
        row.setdefault(field.name, None)
    row.update(source_id=SOURCE_ID, vintage=vintage, source_file=FILES[dataset], source_row_number=number)
    return row


def table(dataset: str, vintage: str, rows: list[dict]) -> pa.Table:
    built = [_row(dataset, vintage, i, spec) for i, spec in enumerate(rows, start=1)]
    return pa.Table.from_pylist(built, schema=SCHEMAS[dataset])


def write_dataset(lake_dir: Path, dataset: str, vintage: str, rows: list[dict]) -> Path:
    """Write one batch into the lake the way the gate does (atomic write of the partition file)."""
    path = lake.partition_dir(lake_dir, SOURCE_ID, dataset, vintage) / lake.PART
    lake.write_batches(path, SCHEMAS[dataset], table(dataset, vintage, rows).to_batches())
    return path


def _hist(period: str, place: dict, all_: tuple, court: tuple, other: tuple) -> dict:
    """Historical summary row; each group is (requests, items_requested)."""
    row = {"period_end": period, **place}
    for group, (requests, items) in (("all", all_), ("court_orders", court), ("other", other)):
        row[f"{group}_requests"] = requests
        row[f"{group}_items_requested"] = items
    return row


def _hd(period: str, place: dict, product: str, reason, court: int, other: int, items) -> dict:
    return {
        "period_end": period,
        **place,
        "product": product,
        "reason": reason,
        "court_order_requests": court,
        "other_requests": other,
        "items_requested": items,
    }


def _pr(period: str, place: dict, product: str, reason: str, requests) -> dict:
    return {"period_end": period, **place, "product": product, "reason": reason, "requests": requests}


def _summary(
    period: str, place: dict, requester: str, requests, items, legal=None, policy=None, not_found=None
) -> dict:
    return {
        "period_end": period,
        **place,
        "requester": requester,
        "requests": requests,
        "items_requested": items,
        "pct_removed_legal": legal,
        "pct_removed_policy": policy,
        "pct_content_not_found": not_found,
    }


def _granular(
    period: str,
    period_raw: str,
    place: dict,
    requester: str,
    product: str,
    reason: str,
    requests,
    items,
    legal,
    policy,
) -> dict:
    return {
        "period_end": period,
        "period_raw": period_raw,
        **place,
        "requester": requester,
        "product": product,
        "reason": reason,
        "requests": requests,
        "items_requested": items,
        "items_removed_legal": legal,
        "items_removed_policy": policy,
    }


H2_2019, H1_2025 = "July - December 2019", "January - June 2025"

FIXTURE: dict[tuple[str, str], list[dict]] = {
    ("requests_summary_historical", OLD): [
        _hist("2018-06-30", KZ, (10, 50), (3, 10), (7, 40)),
        _hist("2018-12-31", KZ, (12, 30), (None, None), (12, 30)),  # blank court orders: 0 requests
        _hist("2018-12-31", AM, ("<10", "<10"), (None, None), (None, None)),  # censored, no detail rows
        _hist("2019-06-30", KZ, (99, 999), (50, 500), (49, 499)),  # loses to the current layouts
    ],
    ("requests_by_product_reason_historical", OLD): [
        _hd("2018-06-30", KZ, "Web Search", "National Security", 2, 5, 30),
        _hd("2018-06-30", KZ, "YouTube", "Defamation", 1, 2, 20),
        _hd("2018-12-31", KZ, "Web Search", "National Security", 0, 8, 20),
        _hd("2018-12-31", KZ, "Blogger", None, 0, 4, 10),  # blank reason -> unspecified
        _hd("2019-06-30", KZ, "Web Search", "National Security", 50, 49, 999),
    ],
    ("requests_by_product_reason", OLD): [
        _pr("2019-06-30", KZ, "Web Search", "National Security", 20),
        _pr("2019-06-30", KZ, "YouTube", "Defamation", 5),
        _pr("2019-12-31", KZ, "Web Search", "National Security", 30),  # revised by 2026-03
    ],
    ("requests_by_requester", OLD): [
        _summary("2019-06-30", KZ, "Police", 20, 100, legal=50, policy=10, not_found=40),
        _summary("2019-06-30", KZ, "Court Order Directed at 3rd Party", 5, 10, legal=100),
        _summary("2019-12-31", KZ, "Police", 30, 200, legal=25, policy=25, not_found=50),
        _summary("2019-12-31", EUROPOL, "Police", 1, 4, legal=None, policy=100),
    ],
    ("requests_by_product_reason", NEW): [
        _pr("2019-12-31", KZ, "Web Search", "National Security", 31),
        _pr("2019-12-31", KZ, "Google Play Apps", "Fraud", 2),
        _pr("2019-12-31", EUROPOL, "YouTube", "Violence", 1),
        _pr("2025-06-30", KZ, "Web Search", "National Security", 70),
        _pr("2025-06-30", KZ, "YouTube", "Government Criticism", 5),
    ],
    ("requests_granular", NEW): [
        _granular("2019-12-31", H2_2019, KZ, "Police", "Web Search", "National security", 31, 150, 100, 20),
        _granular("2019-12-31", H2_2019, KZ, "Police", "Google Play", "Fraud", 2, 60, 0, 60),
        _granular(
            "2025-06-30",
            H1_2025,
            KZ,
            "Government Officials",
            "Web Search",
            "National security",
            70,
            100,
            40,
            20,
        ),
        # the same 70 requests again, for their second reason: requests must not be summed over rows
        _granular(
            "2025-06-30",
            H1_2025,
            KZ,
            "Government Officials",
            "YouTube",
            "Government criticism",
            70,
            50,
            10,
            0,
        ),
        _granular("2025-06-30", H1_2025, KZ, "Police", "YouTube", "Government criticism", 5, 7, 7, 0),
    ],
}


def write_fixture_lake(lake_dir: Path, fixture: dict[tuple[str, str], list[dict]] | None = None) -> None:
    for (dataset, vintage), rows in (FIXTURE if fixture is None else fixture).items():
        write_dataset(lake_dir, dataset, vintage, rows)

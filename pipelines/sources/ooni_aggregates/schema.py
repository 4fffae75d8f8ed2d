"""Typed staging schemas of ooni_aggregates.

- `ooni_domain_days`: one row per country, measurement day and domain (one element of a response).
- `ooni_windows`: one row per response file: the country and window asked (`window_until` EXCLUSIVE, as
  OONI's `until`) and how many result rows came back. dbt picks, for each (country_code, day), the newest
  vintage whose window covers the day and keeps that vintage's rows for the day, so a re-fetched day
  replaces the older copy completely (a domain absent from the re-fetch disappears, even a day that came
  back empty) and no day is duplicated. `source_row_number` is 1.

Conventions (shared with google_removals/schema.py):
- `country_code` is the `probe_cc` the response was requested for (the response itself does not repeat
  it: its axes are day and domain);
- `domain` is the host OONI reports (lower case, `www.` kept: `www.theregister.co.uk`), the same form as
  citizenlab_testlists' `testlist_urls.domain`;
- counts are the API's, renamed: measurement_count -> measurements, anomaly_count -> anomalies,
  confirmed_count -> confirmed, failure_count -> failures, ok_count -> ok;
- lineage columns close the schema: source_id, vintage, source_file (raw file name),
  source_row_number (1-based index of the element in the response's `result` list).
"""

from __future__ import annotations

import pyarrow as pa

LINEAGE = [
    pa.field("source_id", pa.string(), nullable=False),
    pa.field("vintage", pa.string(), nullable=False),
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("source_row_number", pa.int64(), nullable=False),
]

# API key -> column
COUNTS: dict[str, str] = {
    "measurement_count": "measurements",
    "anomaly_count": "anomalies",
    "confirmed_count": "confirmed",
    "failure_count": "failures",
    "ok_count": "ok",
}

SCHEMAS: dict[str, pa.Schema] = {
    "ooni_domain_days": pa.schema(
        [
            pa.field("country_code", pa.string(), nullable=False),
            pa.field("measurement_day", pa.date32(), nullable=False),
            pa.field("domain", pa.string(), nullable=False),
        ]
        + [pa.field(column, pa.int64(), nullable=False) for column in COUNTS.values()]
        + LINEAGE
    ),
    "ooni_windows": pa.schema(
        [
            pa.field("country_code", pa.string(), nullable=False),
            pa.field("window_since", pa.date32(), nullable=False),
            pa.field("window_until", pa.date32(), nullable=False),
            pa.field("result_rows", pa.int64(), nullable=False),
        ]
        + LINEAGE
    ),
}

KEYS: dict[str, tuple[str, ...]] = {
    "ooni_domain_days": ("country_code", "measurement_day", "domain"),
    "ooni_windows": ("country_code", "window_since", "window_until"),
}

"""Small staging batches for the gate tests: a valid batch of any google_removals dataset, and ways to spoil it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from expectations.common import ISO_3166_1_ALPHA2
from expectations.google_removals import REQUESTERS
from pipelines.lake import PART, partition_dir, write_batches
from pipelines.sources.google_removals.schema import PERCENT_COLUMNS, SCHEMAS

SOURCE_ID = "google_removals"
CODES = sorted(ISO_3166_1_ALPHA2)
LABELS = sorted(REQUESTERS)


def _value(field: pa.Field, i: int, vintage: str):
    """A valid value of one column for row i (every row has its own country_name, so keys are unique)."""
    name = field.name
    fixed = {
        "period_end": dt.date(2024, 12, 31),
        "country_name": f"Country {i}",
        "country_code": None if i % 10 == 9 else CODES[i % len(CODES)],  # NULL: Europol / Interpol
        "period_raw": "July - December 2024",
        "requester": LABELS[i % len(LABELS)],
        "product": "YouTube",
        "reason": "Defamation",
        "source_id": SOURCE_ID,
        "vintage": vintage,
        "source_file": "google-government-removals/google-government-removal-requests.csv",
        "source_row_number": i + 1,
    }
    if name in fixed:
        return fixed[name]
    if name == "country_code_raw":
        return None if i % 10 == 9 else CODES[i % len(CODES)]
    if name.endswith("_raw"):
        return "<10" if i % 7 == 0 else None
    if name.endswith("_is_censored"):
        return i % 7 == 0
    if name in PERCENT_COLUMNS:
        return float(i % 101)
    if pa.types.is_integer(field.type):
        return None if i % 7 == 0 else i % 50
    raise AssertionError(f"no test value for column {name}")


def valid_table(dataset: str, rows: int = 120, vintage: str = "2026-03") -> pa.Table:
    schema = SCHEMAS[dataset]
    columns = {f.name: pa.array([_value(f, i, vintage) for i in range(rows)], f.type) for f in schema}
    return pa.table(columns, schema=schema)


def with_values(table: pa.Table, column: str, changes: dict[int, object]) -> pa.Table:
    """A copy of the table with some values of one column replaced (row index -> value)."""
    index = table.schema.get_field_index(column)
    values = table.column(column).to_pylist()
    for row, value in changes.items():
        values[row] = value
    field = table.schema.field(index)
    return table.set_column(index, field.with_nullable(True), pa.array(values, field.type))


def write_staged(data_dir_staging: Path, dataset: str, table: pa.Table, vintage: str = "2026-03") -> Path:
    """Write a batch where the parser puts it: staging/<source>/<dataset>/vintage=<v>/part-0.parquet."""
    path = partition_dir(data_dir_staging, SOURCE_ID, dataset, vintage) / PART
    write_batches(path, table.schema, table.to_batches())
    return path

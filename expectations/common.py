"""Shared pieces of the Great Expectations suites, so that every source builds its suite the same way.

A suite is plain code: `build_suite(dataset, previous_rows=None)` in expectations/<source_id>.py returns a
`gx.ExpectationSuite`. The helpers here turn a staging pyarrow schema plus its natural key into the
standard expectations (exact columns in order, column types, NOT NULL columns, unique key, counts >= 0,
percentages within 0..100, row count >= 1 and no collapse against the previous vintage).

Column types are named as the gate's execution engine reports them: the gate validates with Great
Expectations' SQL engine over DuckDB, so an Arrow int64 column is `BIGINT`, a double `DOUBLE`, a bool
`BOOLEAN`, a string `VARCHAR`, a date32 `DATE` and binary values (fixed-size or not) `BLOB`.

Great Expectations is imported inside the functions: importing it costs seconds, and this module is
imported wherever a suite is built.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.expectations import Expectation


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ISO 3166-1 alpha-2: the 249 officially assigned codes (ISO 3166 Maintenance Agency list), by first letter.
ISO_3166_1_ALPHA2: frozenset[str] = _codes(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
    BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET
    FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
    HK HM HN HR HT HU
    ID IE IL IM IN IO IQ IR IS IT
    JE JM JO JP
    KE KG KH KI KM KN KP KR KW KY KZ
    LA LB LC LI LK LR LS LT LU LV LY
    MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
    NA NC NE NF NG NI NL NO NP NR NU NZ
    OM
    PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA
    RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
    TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
    UA UG UM US UY UZ
    VA VC VE VG VI VN VU
    WF WS
    YE YT
    ZA ZM ZW
    """
)

# Codes outside the official list that CLDR (and so Google's "CLDR Territory Code") uses for a territory:
# EU is exceptionally reserved in ISO 3166-1 (European Union; Google's historical files list it), XK is the
# user-assigned code CLDR gives Kosovo (present in Google's detailed files since 2012).
CLDR_EXTRA_TERRITORY_CODES: frozenset[str] = frozenset({"EU", "XK"})

TERRITORY_CODES: frozenset[str] = ISO_3166_1_ALPHA2 | CLDR_EXTRA_TERRITORY_CODES

# A new vintage of a dataset must keep at least this share of the rows of the previous vintage in the
# lake. Publishers revise and occasionally drop rows, but a file that lost half its rows is far more
# likely a truncated download or a changed layout than a real revision; the batch is quarantined for a
# person to look at.
ROW_COUNT_COLLAPSE_FLOOR = 0.5

# The type expect_column_values_to_be_of_type checks for each Arrow type: the gate validates with the SQL
# engine over DuckDB, so a column's type is DuckDB's name for the Parquet column (as DESCRIBE reports it;
# the gate reads every timestamp type, with or without a time zone, as TIMESTAMP).
_TYPE_NAMES: dict[pa.DataType, str] = {
    pa.int16(): "SMALLINT",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.date32(): "DATE",
}


def type_name(arrow_type: pa.DataType) -> str:
    """DuckDB's name for a column of this Arrow type (what expect_column_values_to_be_of_type checks)."""
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    if pa.types.is_binary(arrow_type) or pa.types.is_fixed_size_binary(arrow_type):
        return "BLOB"
    try:
        return _TYPE_NAMES[arrow_type]
    except KeyError:
        raise ValueError(f"no gate type name for Arrow type {arrow_type}") from None


def is_count(field: pa.Field, percent_columns: Iterable[str]) -> bool:
    """A measure that counts something: numeric, not a percentage, not lineage."""
    numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
    return numeric and field.name not in set(percent_columns) and field.name != "source_row_number"


def schema_expectations(schema: pa.Schema) -> list[Expectation]:
    """Exact column list in order, one type check per column, NOT NULL for every non-nullable field."""
    import great_expectations as gx

    expectations: list[Expectation] = [
        gx.expectations.ExpectTableColumnsToMatchOrderedList(column_list=list(schema.names))
    ]
    for field in schema:
        expectations.append(
            gx.expectations.ExpectColumnValuesToBeOfType(column=field.name, type_=type_name(field.type))
        )
    for field in schema:
        if not field.nullable:
            expectations.append(gx.expectations.ExpectColumnValuesToNotBeNull(column=field.name))
    return expectations


def suite_name(source_id: str, dataset: str) -> str:
    return f"{source_id}.{dataset}"


def dataset_schema(source_id: str, schemas: Mapping[str, pa.Schema], dataset: str) -> pa.Schema:
    """The dataset's schema; an unknown dataset is a ValueError naming the known ones."""
    if dataset not in schemas:
        raise ValueError(f"unknown {source_id} dataset {dataset!r} (known: {', '.join(schemas)})")
    return schemas[dataset]


def key_expectations(schema: pa.Schema, keys: Iterable[str]) -> list[Expectation]:
    """The natural key is unique within the batch.

    Key columns are NOT NULL through `schema_expectations` (the schemas declare them non-nullable, except
    where the publisher leaves a key part blank, e.g. `reason` in the historical product x reason file).
    """
    import great_expectations as gx

    keys = list(keys)
    missing = [k for k in keys if k not in schema.names]
    if missing:
        raise ValueError(f"key columns not in schema: {missing}")
    if len(keys) == 1:  # ExpectCompoundColumnsToBeUnique needs two columns or more
        return [gx.expectations.ExpectColumnValuesToBeUnique(column=keys[0])]
    # ignore_row_if="never": every row takes part (a row whose key parts are all NULL fails NOT NULL
    # anyway), which spares the pandas engine a filtered copy of the key columns for each metric.
    return [gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=keys, ignore_row_if="never")]


def measure_expectations(schema: pa.Schema, percent_columns: Iterable[str]) -> list[Expectation]:
    """Counts are >= 0; percentages are within 0..100 (NULLs pass: they mean 'not a plain number')."""
    import great_expectations as gx

    percent = set(percent_columns)
    expectations: list[Expectation] = []
    for field in schema:
        if field.name in percent:
            expectations.append(
                gx.expectations.ExpectColumnValuesToBeBetween(column=field.name, min_value=0, max_value=100)
            )
        elif is_count(field, percent):
            expectations.append(gx.expectations.ExpectColumnValuesToBeBetween(column=field.name, min_value=0))
    return expectations


def in_set_expectations(schema: pa.Schema, value_sets: Mapping[str, Iterable[str]]) -> list[Expectation]:
    """Columns restricted to a known vocabulary (NULLs pass; NOT NULL is a schema expectation)."""
    import great_expectations as gx

    return [
        gx.expectations.ExpectColumnValuesToBeInSet(column=column, value_set=sorted(values))
        for column, values in value_sets.items()
        if column in schema.names
    ]


def row_count_expectations(previous_rows: int | None) -> list[Expectation]:
    """At least one row; and, when the lake holds an earlier vintage, no collapse below the floor."""
    import great_expectations as gx

    expectations: list[Expectation] = [gx.expectations.ExpectTableRowCountToBeBetween(min_value=1)]
    if previous_rows:
        floor = max(1, math.ceil(previous_rows * ROW_COUNT_COLLAPSE_FLOOR))
        expectations.append(
            gx.expectations.ExpectTableRowCountToBeBetween(
                min_value=floor,
                meta={"previous_rows": previous_rows, "floor_share": ROW_COUNT_COLLAPSE_FLOOR},
            )
        )
    return expectations


def standard_suite(
    name: str,
    schema: pa.Schema,
    keys: Iterable[str],
    *,
    percent_columns: Iterable[str] = (),
    value_sets: Mapping[str, Iterable[str]] | None = None,
    previous_rows: int | None = None,
) -> gx.ExpectationSuite:
    """The standard suite of one staging dataset; sources add their own expectations to the result."""
    import great_expectations as gx

    # Built in one go: add_expectation() on a suite needs an active data context, the constructor does not.
    return gx.ExpectationSuite(
        name=name,
        expectations=schema_expectations(schema)
        + key_expectations(schema, keys)
        + in_set_expectations(schema, value_sets or {})
        + measure_expectations(schema, percent_columns)
        + row_count_expectations(previous_rows),
    )

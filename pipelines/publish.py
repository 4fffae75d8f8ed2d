"""Quarterly publication: the marts as CSV, XLSX and Markdown tables for human-rights and press-freedom groups.

A quarter's tables hold what was complete at the end of that quarter. Google reports by half-year, so the
cut-off is the last half-year end on or before the quarter's end (2025Q2 -> 2025-06-30, 2025Q1 ->
2024-12-31). A year is published only when every period the marts hold for it (on that platform, over all
countries) ended on or before the cut-off: a later publication of the same quarter, made after more data
arrived, therefore never shows a year total that includes periods after the cut-off.

Blocking tables (issue 3) cover the quarter itself, not a cut-off: OONI and the registries are dated by day.
Three tables, each with its CSV (`blocking_<stem>.csv`), its XLSX sheet and a note in the Markdown and on the
Notes sheet: registry changes by authority (marts.registry_changes_by_authority_quarter), blocked news domains
(marts.blocked_news_domains) and test-list coverage (computed here in SQL from marts.testlist_urls and
marts.ooni_blocking_by_domain_quarter). With a country, each holds only that country's rows (its registries,
its OONI measurements, its test list plus GLOBAL). The anomaly thresholds are the dbt vars
`blocked_min_anomaly_rate` / `blocked_min_days` of dbt_project.yml (the contract values 0.5 / 7 when the
project does not set them), so the coverage counts use the same rule as the blocked-news mart.

A warehouse built before the blocking marts existed still publishes: a table whose marts are absent is
marked unavailable (no CSV, no sheet; one line in the Markdown, on the Notes sheet and in the manifest's
`blocking` entry), the removal tables are published as before. A blocking mart that exists but lacks a
contract column is a one-line error, like the removal marts. A table with no rows for the quarter (e.g.
registry changes for KZ: no KZ registry) is published with its header only, and "No rows" in the Markdown.

Output: <publish_dir>/<quarter>[/<country>]/, written in a temporary folder and renamed into place, so a
failure leaves the previous publication as it was. CSV and Markdown are byte-identical for the same marts;
the XLSX is too (fixed creation date, xlsxwriter's fixed member timestamps). manifest.json adds what
varies (generated_at) plus sizes and sha256 of every file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import xlsxwriter
import yaml

from pipelines.errors import PipelineError
from pipelines.lake import replace_dir
from pipelines.settings import Settings

QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
FLOAT_DIGITS = 4  # rates are rounded for readers; the marts keep full precision

COUNTRY_YEAR = "removal_requests_country_year"
REASON_YEAR = "removals_by_reason_platform_year"
REQUESTER_YEAR = "removals_by_requester_platform_year"
VINTAGES = "source_vintages_used"

# Columns publish reads from each mart, in output order.
MART_COLUMNS: dict[str, tuple[str, ...]] = {
    COUNTRY_YEAR: (
        "platform",
        "country_code",
        "country_name",
        "year",
        "requests",
        "items_requested",
        "items_removed",
        "removal_rate",
        "periods_covered",
        "latest_period_end",
        "is_items_removed_estimated",
        "has_censored_values",
        "source_vintages",
    ),
    REASON_YEAR: (
        "platform",
        "country_code",
        "year",
        "reason",
        "reason_label",
        "requests",
        "items_requested",
    ),
    REQUESTER_YEAR: (
        "platform",
        "country_code",
        "year",
        "requester",
        "requests",
        "items_requested",
        "items_removed",
    ),
    VINTAGES: ("source_id", "dataset", "vintage", "periods", "first_period_end", "last_period_end"),
}


@dataclass(frozen=True)
class TableSpec:
    mart: str
    stem: str  # file name after "<platform>_"
    title: str
    sheet: str  # sheet name after "<platform> "
    order: tuple[str, ...]


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        COUNTRY_YEAR,
        "requests_by_country_year",
        "Requests by country and year",
        "country-year",
        ("country_name", "country_code", "year"),
    ),
    TableSpec(
        REASON_YEAR,
        "requests_by_reason_year",
        "Requests by reason and year",
        "reason-year",
        ("country_code", "year", "reason"),
    ),
    TableSpec(
        REQUESTER_YEAR,
        "requests_by_requester_year",
        "Requests by requester and year",
        "requester-year",
        ("country_code", "year", "requester"),
    ),
)

DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("platform", "Company whose transparency report the figures come from."),
    (
        "country_code",
        (
            "ISO 3166-1 alpha-2 code of the requesting country; user-assigned XE for Europol, XI for Interpol, "
            "ZZ for requests attributed to no country."
        ),
    ),
    ("country_name", "Country or body as the platform names it."),
    ("year", "Calendar year; the sum of the platform's reporting periods ending in that year."),
    ("requests", "Number of government requests to remove content."),
    ("items_requested", "Number of items (URLs, videos, posts...) the requests asked to remove."),
    ("items_removed", "Items removed (for legal or policy reasons)."),
    ("removal_rate", f"items_removed / items_requested (rounded to {FLOAT_DIGITS} decimals here)."),
    ("periods_covered", "Number of reporting periods (half-years for Google) summed into the year."),
    ("latest_period_end", "End date of the latest reporting period in the year."),
    ("is_items_removed_estimated", "true when items_removed was derived from published percentages."),
    ("has_censored_values", "true when a value in the year was published only as a range such as '<10'."),
    ("source_vintages", "Vintages (retrieval dates) of the upstream files the row comes from."),
    ("reason / reason_label", "Reason given for the request (code and readable label)."),
    ("requester", "Branch of government that made the request (e.g. court orders, executive/police)."),
)

YEARS_NOTE = (
    "a year is shown only when all of the platform's periods in it ended by the cut-off; "
    "later periods are left out, not estimated"
)
CENSORING_NOTE = (
    "Platforms publish small counts as ranges (Google: '<10') and some values as unknown ('?'). Such values "
    "are never counted as numbers: a yearly figure that would include one is left empty, and "
    "has_censored_values = true marks the row."
)

# ---- blocking (issue 3): marts read, in the columns the contract fixes
REGISTRY_QUARTER = "registry_changes_by_authority_quarter"
BLOCKED_NEWS = "blocked_news_domains"
TESTLIST_URLS = "testlist_urls"
OONI_QUARTER = "ooni_blocking_by_domain_quarter"
BLOCKING_VINTAGES = "blocking_vintages_used"

BLOCKING_MART_COLUMNS: dict[str, tuple[str, ...]] = {
    REGISTRY_QUARTER: (
        "registry",
        "registry_country",
        "quarter",
        "authority",
        "entries_added",
        "entries_removed",
        "active_at_quarter_end",
    ),
    BLOCKED_NEWS: (
        "country_code",
        "quarter",
        "domain",
        "category_code",
        "category",
        "evidence",
        "measurements",
        "anomalies",
        "confirmed",
        "anomaly_rate",
        "days_covered",
        "first_day",
        "last_day",
    ),
    TESTLIST_URLS: ("country_code", "url", "domain", "category_code", "category"),
    OONI_QUARTER: ("country_code", "quarter", "domain", "confirmed", "anomaly_rate", "days_measured"),
    BLOCKING_VINTAGES: ("source_id", "dataset", "vintage", "first_day", "last_day"),
}

# dbt vars holding the "blocked" thresholds, with the contract values used when dbt_project.yml lacks them.
THRESHOLD_VARS = {"blocked_min_anomaly_rate": 0.5, "blocked_min_days": 7}
MIN_CONFIRMED = 1  # one confirmed measurement (a known blocking page) is evidence enough: not a dbt var


@dataclass(frozen=True)
class BlockingSpec:
    stem: str  # file blocking_<stem>.csv
    title: str
    sheet: str
    marts: tuple[str, ...]  # all must exist, else the table is unavailable
    columns: tuple[str, ...]  # output columns, in order


def _without_quarter(mart: str) -> tuple[str, ...]:
    """A mart's contract columns as published for one quarter (the quarter is the publication's)."""
    return tuple(column for column in BLOCKING_MART_COLUMNS[mart] if column != "quarter")


REGISTRY_CHANGES = BlockingSpec(
    "registry_changes_by_authority",
    "Registry changes by authority",
    "blocking registry changes",
    (REGISTRY_QUARTER,),
    _without_quarter(REGISTRY_QUARTER),
)
NEWS_DOMAINS = BlockingSpec(
    "blocked_news_domains",
    "Blocked news, political and human-rights domains",
    "blocking news domains",
    (BLOCKED_NEWS,),
    _without_quarter(BLOCKED_NEWS),
)
TESTLIST_COVERAGE = BlockingSpec(
    "testlist_coverage",
    "Test-list coverage by OONI",
    "blocking testlist coverage",
    (TESTLIST_URLS, OONI_QUARTER),
    (
        "list",
        "category_code",
        "category",
        "urls_listed",
        "domains_listed",
        "measured_in",
        "domains_measured",
        "domains_sustained_anomalies",
        "domains_confirmed_blocked",
    ),
)
BLOCKING_TABLES: tuple[BlockingSpec, ...] = (REGISTRY_CHANGES, NEWS_DOMAINS, TESTLIST_COVERAGE)


def publish_quarter(settings: Settings, quarter: str, country: str | None = None) -> Path:
    """Write the quarter's tables (optionally one country's) and return the publication folder."""
    quarter_end = parse_quarter(quarter)
    cut_off = cut_off_for(quarter_end)
    country = normalise_country(country)
    thresholds = blocking_thresholds(settings.dbt_dir / "dbt_project.yml")
    data = read_marts(settings.warehouse_path, cut_off, country, quarter=quarter, thresholds=thresholds)
    target = settings.publish_dir / quarter / country if country else settings.publish_dir / quarter

    def write(folder: Path) -> None:
        write_publication(
            folder,
            quarter=quarter,
            country=country,
            cut_off=cut_off,
            data=data,
            warehouse=settings.warehouse_path,
        )

    _write_atomically(target, write, keep_countries=not country)
    return target


# ---------------------------------------------------------------- quarter and cut-off


def parse_quarter(quarter: str) -> date:
    """Last day of the quarter "YYYYQn"."""
    match = QUARTER_RE.match(quarter or "")
    if not match:
        raise PipelineError(f"invalid quarter {quarter!r}; expected YYYYQn")
    year, q = int(match[1]), int(match[2])
    return date(year, 3 * q, 30 if q in (2, 3) else 31)


def cut_off_for(quarter_end: date) -> date:
    """Last half-year end (Google's reporting period) on or before the quarter's end."""
    if quarter_end.month == 12:
        return date(quarter_end.year, 12, 31)
    if quarter_end.month >= 6:
        return date(quarter_end.year, 6, 30)
    return date(quarter_end.year - 1, 12, 31)


def normalise_country(country: str | None) -> str | None:
    if country is None:
        return None
    code = country.strip().upper()
    if not COUNTRY_RE.match(code):
        raise PipelineError(f"invalid country {country!r}; expected an ISO 3166 alpha-2 code such as KZ")
    return code


# ---------------------------------------------------------------- reading the marts


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[tuple]


@dataclass(frozen=True)
class Thresholds:
    """When a domain counts as blocked (the same rule as marts.blocked_news_domains)."""

    min_anomaly_rate: float
    min_days: int
    origin: str  # where the values come from, for the notes

    def describe(self) -> str:
        return (
            f"confirmed >= {MIN_CONFIRMED} in the quarter, or anomaly_rate >= {self.min_anomaly_rate:g} over "
            f">= {self.min_days} days measured ({self.origin})"
        )


@dataclass(frozen=True)
class BlockingTable:
    spec: BlockingSpec
    note: str  # what the table counts, shown above it
    table: Table | None  # None: unavailable
    unavailable: str | None = None  # why (one line)


@dataclass(frozen=True)
class MartData:
    tables: dict[str, dict[str, Table]]  # platform -> table stem -> rows
    vintages: Table
    data_through: date  # latest period end actually published
    blocking: tuple[BlockingTable, ...] = ()
    thresholds: Thresholds | None = None
    blocking_vintages: Table | None = None  # None: the warehouse has no marts.blocking_vintages_used


def blocking_thresholds(dbt_project: Path) -> Thresholds:
    """The dbt vars of the blocked-domain rule, so the coverage table counts as the dbt mart does.

    Read from `vars:` (top level or under the project's name); the contract values when absent."""
    try:
        config = yaml.safe_load(dbt_project.read_text("utf-8")) if dbt_project.is_file() else {}
    except yaml.YAMLError as error:
        raise PipelineError(f"cannot read {dbt_project}: {_one_line(error)}") from None
    config = config if isinstance(config, dict) else {}
    variables = config.get("vars") or {}
    scoped = variables.get(config.get("name")) if isinstance(variables, dict) else None
    values, found = {}, []
    for name, default in THRESHOLD_VARS.items():
        value = default
        for scope in (variables, scoped):
            if isinstance(scope, dict) and name in scope:
                value = scope[name]
                found.append(name)
                break
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PipelineError(f"dbt var {name} in {dbt_project} is not a number: {value!r}")
        values[name] = value
    if len(found) == len(THRESHOLD_VARS):
        origin = "dbt vars blocked_min_anomaly_rate / blocked_min_days"
    elif found:
        origin = f"dbt var {', '.join(found)}; contract values for the others"
    else:
        origin = "contract values; dbt_project.yml does not set them"
    return Thresholds(float(values["blocked_min_anomaly_rate"]), int(values["blocked_min_days"]), origin)


def read_marts(
    warehouse: Path,
    cut_off: date,
    country: str | None,
    *,
    quarter: str | None = None,
    thresholds: Thresholds | None = None,
) -> MartData:
    """Read everything the publication needs in one read-only session, then close it.

    The blocking tables are read only when `quarter` is given."""
    if not warehouse.is_file():
        raise PipelineError(f"no warehouse at {warehouse}; run `transparency run` first")
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as error:
        raise PipelineError(f"cannot open warehouse {warehouse}: {_one_line(error)}") from None
    try:
        found = _check_columns(con, warehouse)
        if country:
            _check_country(con, country)
        data = _query(con, cut_off, country)
        if quarter is None:
            return data
        thresholds = thresholds or Thresholds(
            THRESHOLD_VARS["blocked_min_anomaly_rate"], THRESHOLD_VARS["blocked_min_days"], "contract values"
        )
        blocking = read_blocking(con, found, quarter, country, thresholds)
        vintages = _blocking_vintages(con, quarter) if BLOCKING_VINTAGES in found else None
        return MartData(data.tables, data.vintages, data.data_through, blocking, thresholds, vintages)
    finally:
        con.close()


def _check_columns(con: duckdb.DuckDBPyConnection, warehouse: Path) -> dict[str, set[str]]:
    """Fail with one line naming the first missing table or column (the marts are another step's output).

    Returns the marts' columns by table. Blocking marts may be absent (older warehouse), but one that
    exists must have every contract column."""
    found: dict[str, set[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
    ).fetchall():
        found.setdefault(table, set()).add(column)
    for table, columns in MART_COLUMNS.items():
        if table not in found:
            raise PipelineError(
                f"warehouse {warehouse} has no table marts.{table}; run `transparency run` first"
            )
        missing = [c for c in columns if c not in found[table]]
        if missing:
            raise PipelineError(
                f"marts.{table} has no column {missing[0]!r} (publish needs {', '.join(missing)})"
            )
    for table, columns in BLOCKING_MART_COLUMNS.items():
        missing = [c for c in columns if table in found and c not in found[table]]
        if missing:
            raise PipelineError(
                f"marts.{table} has no column {missing[0]!r} (publish needs {', '.join(missing)})"
            )
    return found


def _check_country(con: duckdb.DuckDBPyConnection, country: str) -> None:
    hit = con.execute(
        f"select 1 from marts.{COUNTRY_YEAR} where country_code = ? limit 1", [country]
    ).fetchone()
    if hit is None:
        raise PipelineError(f"unknown country {country!r}: no rows in marts.{COUNTRY_YEAR}")


# Years whose every period (platform-wide, all countries) ended on or before the cut-off.
CLOSED_YEARS = f"""
    select platform, year from marts.{COUNTRY_YEAR}
    group by platform, year having max(latest_period_end) <= ?
"""


def _query(con: duckdb.DuckDBPyConnection, cut_off: date, country: str | None) -> MartData:
    tables: dict[str, dict[str, Table]] = {}
    for spec in TABLES:
        for platform, table in _select(con, spec, cut_off, country).items():
            tables.setdefault(platform, {})[spec.stem] = table
    if not any(TABLES[0].stem in by_stem for by_stem in tables.values()):
        where = f" for {country}" if country else ""
        raise PipelineError(
            f"no data{where} with periods ending on or before the cut-off {cut_off.isoformat()}"
        )
    for platform, by_stem in tables.items():  # a platform with country rows but no reason rows: header only
        for spec in TABLES:
            by_stem.setdefault(spec.stem, Table(MART_COLUMNS[spec.mart], []))
    through = con.execute(
        f"select max(latest_period_end) from marts.{COUNTRY_YEAR} m join ({CLOSED_YEARS}) c using (platform, year)"
        + (" where m.country_code = ?" if country else ""),
        [cut_off, country] if country else [cut_off],
    ).fetchone()[0]
    vintage_cols = MART_COLUMNS[VINTAGES]
    vintages = con.execute(
        f"select {', '.join(vintage_cols)} from marts.{VINTAGES} "
        "where first_period_end is null or first_period_end <= ? "
        "order by source_id, dataset, vintage",
        [cut_off],
    ).fetchall()
    return MartData(tables=tables, vintages=Table(vintage_cols, vintages), data_through=through)


def _select(con: duckdb.DuckDBPyConnection, spec: TableSpec, cut_off: date, country: str | None) -> dict:
    columns = MART_COLUMNS[spec.mart]
    sql = (
        f"select {', '.join('m.' + c for c in columns)} from marts.{spec.mart} m "
        f"join ({CLOSED_YEARS}) c using (platform, year)"
        + (" where m.country_code = ?" if country else "")
        + f" order by m.platform, {', '.join(f'm.{c} nulls last' for c in spec.order)}"
    )
    rows = con.execute(sql, [cut_off, country] if country else [cut_off]).fetchall()
    by_platform: dict[str, list[tuple]] = {}
    for row in rows:
        by_platform.setdefault(row[0], []).append(tuple(_plain(v) for v in row))
    return {p: Table(columns, r) for p, r in by_platform.items()}


def _plain(value):
    """One value as None, bool, int, float, or str, so every output format renders it the same way."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return round(value, FLOAT_DIGITS)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else round(float(value), FLOAT_DIGITS)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "; ".join(sorted(str(_plain(v)) for v in value))
    return str(value)


# ---------------------------------------------------------------- reading the blocking marts


def read_blocking(
    con: duckdb.DuckDBPyConnection,
    found: dict[str, set[str]],
    quarter: str,
    country: str | None,
    thresholds: Thresholds,
) -> tuple[BlockingTable, ...]:
    """The quarter's blocking tables; a table whose marts the warehouse lacks is marked unavailable."""
    measured_in = _ooni_countries(con, quarter, country) if OONI_QUARTER in found else []
    out = []
    for spec in BLOCKING_TABLES:
        note = _blocking_note(spec, thresholds, country, measured_in)
        absent = [m for m in spec.marts if m not in found]
        if absent:
            reason = (
                f"unavailable: the warehouse has no {', '.join('marts.' + m for m in absent)} "
                "(built before the blocking sources; run `transparency run`)"
            )
            out.append(BlockingTable(spec, note, None, reason))
            continue
        rows = BLOCKING_QUERIES[spec.stem](con, quarter, country, thresholds)
        out.append(
            BlockingTable(spec, note, Table(spec.columns, [tuple(_plain(v) for v in r) for r in rows]))
        )
    return tuple(out)


def _blocking_vintages(con: duckdb.DuckDBPyConnection, quarter: str) -> Table:
    """The lake vintages behind the quarter's blocking tables: those whose days overlap the quarter (NULL
    days are open: every registry snapshot up to the quarter's end, the test lists' newest vintages)."""
    end = parse_quarter(quarter)
    start = date(end.year, end.month - 2, 1)
    columns = BLOCKING_MART_COLUMNS[BLOCKING_VINTAGES]
    rows = con.execute(
        f"select {', '.join(columns)} from marts.{BLOCKING_VINTAGES} "
        "where (first_day is null or first_day <= ?) and (last_day is null or last_day >= ?) "
        "order by source_id, dataset, vintage",
        [end, start],
    ).fetchall()
    return Table(columns, [tuple(_plain(v) for v in row) for row in rows])


def _ooni_countries(con: duckdb.DuckDBPyConnection, quarter: str, country: str | None) -> list[str]:
    """Countries with OONI data in the quarter: those the GLOBAL list is measured in."""
    sql = f"select distinct country_code from marts.{OONI_QUARTER} where cast(quarter as varchar) = ?"
    params = [quarter]
    if country:
        sql, params = sql + " and country_code = ?", [quarter, country]
    return [r[0] for r in con.execute(sql + " order by 1", params).fetchall()]


def _registry_rows(con: duckdb.DuckDBPyConnection, quarter: str, country: str | None, _t: Thresholds) -> list:
    sql = (
        f"select {', '.join(REGISTRY_CHANGES.columns)} from marts.{REGISTRY_QUARTER} "
        "where cast(quarter as varchar) = ?"
        + (" and registry_country = ?" if country else "")
        + " order by registry, registry_country, authority nulls last"
    )
    return con.execute(sql, [quarter, country] if country else [quarter]).fetchall()


def _news_rows(con: duckdb.DuckDBPyConnection, quarter: str, country: str | None, _t: Thresholds) -> list:
    sql = (
        f"select {', '.join(NEWS_DOMAINS.columns)} from marts.{BLOCKED_NEWS} "
        "where cast(quarter as varchar) = ?"
        + (" and country_code = ?" if country else "")
        + " order by country_code, category_code nulls last, domain"
    )
    return con.execute(sql, [quarter, country] if country else [quarter]).fetchall()


# Per test list and category. A country's list is measured in that country, GLOBAL in every country with
# OONI data for the quarter (with a country filter: that country only). Domains compare case-insensitively;
# a domain counts once per list and category however many of its URLs are listed.
COVERAGE_SQL = f"""
with lists as (
    select country_code as list, category_code, category, url, lower(domain) as domain
    from marts.{TESTLIST_URLS}
    where $country is null or country_code in ($country, 'GLOBAL')
),
ooni as (
    select country_code, lower(domain) as domain, confirmed, anomaly_rate, days_measured
    from marts.{OONI_QUARTER}
    where cast(quarter as varchar) = $quarter and ($country is null or country_code = $country)
),
measuring as (
    select distinct l.list, o.country_code as probe_cc
    from (select distinct list from lists) l join (select distinct country_code from ooni) o
        on l.list = 'GLOBAL' or l.list = o.country_code
),
measured as (
    select m.list, o.domain,
        bool_or(o.anomaly_rate >= $min_rate and o.days_measured >= $min_days) as sustained,
        bool_or(o.confirmed >= $min_confirmed) as confirmed
    from measuring m join ooni o on o.country_code = m.probe_cc
    group by m.list, o.domain
),
measured_in as (
    select list, string_agg(probe_cc, '; ' order by probe_cc) as countries from measuring group by list
)
select l.list, l.category_code, l.category, count(*) as urls_listed, count(distinct l.domain) as domains_listed,
    any_value(i.countries) as measured_in,
    count(distinct d.domain) as domains_measured,
    count(distinct case when d.sustained then d.domain end) as domains_sustained_anomalies,
    count(distinct case when d.confirmed then d.domain end) as domains_confirmed_blocked
from lists l
left join measured d on d.list = l.list and d.domain = l.domain
left join measured_in i on i.list = l.list
group by l.list, l.category_code, l.category
order by l.list = 'GLOBAL', l.list, l.category_code nulls last, l.category nulls last
"""


def _coverage_rows(con: duckdb.DuckDBPyConnection, quarter: str, country: str | None, t: Thresholds) -> list:
    params = {
        "quarter": quarter,
        "country": country,
        "min_rate": t.min_anomaly_rate,
        "min_days": t.min_days,
        "min_confirmed": MIN_CONFIRMED,
    }
    return con.execute(COVERAGE_SQL, params).fetchall()


BLOCKING_QUERIES = {
    REGISTRY_CHANGES.stem: _registry_rows,
    NEWS_DOMAINS.stem: _news_rows,
    TESTLIST_COVERAGE.stem: _coverage_rows,
}


def _blocking_note(spec: BlockingSpec, t: Thresholds, country: str | None, measured_in: list[str]) -> str:
    """What the table counts, in the words a reader needs (shown above the table and on the Notes sheet)."""
    if spec is REGISTRY_CHANGES:
        scope = f"registries of {country} only" if country else "every registry in the warehouse"
        return (
            "Entries of blocking registries (rkn_registry: Roskomnadzor's registry as mirrored by zapret-info) "
            "by deciding authority: entries_added = entries that entered the registry in the quarter, "
            "entries_removed = entries that left it in the quarter, active_at_quarter_end = entries listed at "
            "the quarter's end. Dates are those of the registry snapshots that first and last showed an entry. "
            f"Scope: {scope}."
        )
    if spec is NEWS_DOMAINS:
        scope = f"measurements in {country}" if country else "every country measured"
        return (
            "Domains in the Citizen Lab categories NEWS (news media), POLR (political criticism) and HUMR "
            "(human rights) that OONI web_connectivity measurements show blocked in the quarter: "
            f"{t.describe()}. evidence says which rule matched ('confirmed' first); days_covered = days with "
            "measurements; first_day / last_day = first and last day measured. An anomaly is not proof of "
            f"blocking on its own; the thresholds make it a sustained pattern. Scope: {scope}."
        )
    global_in = ", ".join(measured_in) or "no country"
    global_rule = (
        f"GLOBAL (global.csv) is measured in {country}"
        if country
        else f"GLOBAL (global.csv) is measured in every country with OONI data for the quarter: {global_in}"
    )
    lists = f"{country}'s list and GLOBAL" if country else "every list"
    return (
        f"Per Citizen Lab test list ({lists}) and category: urls_listed = URLs on the list (newest version), "
        "domains_listed = their distinct domains, domains_measured = listed domains OONI measured "
        "(web_connectivity) in the quarter in the countries of measured_in: a country's list in that country, "
        f"{global_rule}. domains_sustained_anomalies / domains_confirmed_blocked = measured domains with "
        f"anomaly_rate >= {t.min_anomaly_rate:g} over >= {t.min_days} days measured / with confirmed >= "
        f"{MIN_CONFIRMED} in one of those countries ({t.origin}). URLs add up over categories; domains need not "
        "(a domain can be listed in several categories)."
    )


# ---------------------------------------------------------------- writing


def write_publication(
    folder: Path, *, quarter: str, country: str | None, cut_off: date, data: MartData, warehouse: Path
) -> None:
    """Write CSVs, the workbook, the Markdown file and the manifest into `folder`."""
    base = f"transparency_{quarter}" + (f"_{country}" if country else "")
    header = _header_lines(quarter, country, cut_off, data)
    for platform, by_stem in sorted(data.tables.items()):
        for spec in TABLES:
            (folder / f"{_slug(platform)}_{spec.stem}.csv").write_bytes(_csv_bytes(by_stem[spec.stem]))
    for item in data.blocking:
        if item.table is not None:
            (folder / blocking_file(item.spec)).write_bytes(_csv_bytes(item.table))
    _write_xlsx(folder / f"{base}.xlsx", header, data, cut_off)
    (folder / f"{base}.md").write_bytes(_markdown(header, data).encode("utf-8"))
    manifest = {
        "quarter": quarter,
        "country": country,
        "cut_off": cut_off.isoformat(),
        "data_through": data.data_through.isoformat() if data.data_through else None,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "warehouse": str(warehouse),
        "files": [_file_entry(p) for p in sorted(folder.iterdir()) if p.is_file()],
        "source_vintages": [dict(zip(data.vintages.columns, map(_plain, r))) for r in data.vintages.rows],
        "blocking": _blocking_manifest(data),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")


def blocking_file(spec: BlockingSpec) -> str:
    return f"blocking_{spec.stem}.csv"


def _blocking_manifest(data: MartData) -> dict:
    """Thresholds; per blocking table, its file and row count or why it is unavailable; the lake vintages
    the quarter's blocking tables come from (marts.blocking_vintages_used)."""
    t = data.thresholds
    tables = []
    for item in data.blocking:
        entry: dict = {"table": item.spec.stem}
        if item.table is None:
            entry["unavailable"] = item.unavailable
        else:
            entry |= {"file": blocking_file(item.spec), "rows": len(item.table.rows)}
        tables.append(entry)
    thresholds = (
        None
        if t is None
        else {
            "min_anomaly_rate": t.min_anomaly_rate,
            "min_days": t.min_days,
            "min_confirmed": MIN_CONFIRMED,
            "origin": t.origin,
        }
    )
    vintages = (
        "unavailable: the warehouse has no marts.blocking_vintages_used"
        if data.blocking_vintages is None
        else [dict(zip(data.blocking_vintages.columns, row)) for row in data.blocking_vintages.rows]
    )
    return {"thresholds": thresholds, "tables": tables, "vintages": vintages}


def _file_entry(path: Path) -> dict:
    content = path.read_bytes()
    return {"name": path.name, "bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_") or "platform"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _csv_bytes(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows([_cell(v) for v in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8")


def _vintage_line(row: dict) -> str:
    periods = row["periods"]
    if isinstance(periods, int):
        count = f"{periods} period" + ("" if periods == 1 else "s")
    else:
        count = f"periods {periods}"
    span = f"{row['first_period_end'] or '?'} to {row['last_period_end'] or '?'}"
    return f"{row['source_id']} / {row['dataset']}, vintage {row['vintage']}: {count}, {span}"


def _header_lines(quarter: str, country: str | None, cut_off: date, data: MartData) -> list[tuple[str, str]]:
    """(label, text) pairs shared by the Markdown header and the Notes sheet."""
    through = data.data_through.isoformat() if data.data_through else "-"
    lines = [
        ("Quarter", quarter),
        ("Country", country or "all"),
        (
            "Cut-off",
            f"periods ending on or before {cut_off.isoformat()} (latest period published: {through})",
        ),
        ("Years", YEARS_NOTE),
        ("Censoring", CENSORING_NOTE),
    ]
    vintages = [dict(zip(data.vintages.columns, map(_plain, r))) for r in data.vintages.rows]
    lines += [("Source", _vintage_line(v)) for v in vintages] or [("Source", "none listed")]
    return lines


def _md_cell(value) -> str:
    return _cell(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> list[str]:
    """A Markdown table; an empty one keeps its header, then says so (a blank line ends the table)."""
    out = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    if not table.rows:
        return out + ["", "_No rows._"]
    out += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in table.rows]
    return out


def _md_blocking(data: MartData) -> list[str]:
    lines: list[str] = []
    if data.thresholds is not None and data.blocking:
        lines += ["", "## Blocking", "", f"- **Blocked**: {data.thresholds.describe()}."]
    for item in data.blocking:
        lines += ["", f"## Blocking: {item.spec.title}", "", item.note, ""]
        lines += _md_table(item.table) if item.table is not None else [f"_{item.unavailable}._"]
    return lines


def _markdown(header: list[tuple[str, str]], data: MartData) -> str:
    quarter = header[0][1]
    country = header[1][1]
    title = f"# Government requests to remove content: {quarter}" + (
        "" if country == "all" else f", {country}"
    )
    lines = [title, ""]
    lines += [f"- **{label}**: {text}" for label, text in header[2:]]
    lines += ["", "## Definitions", ""] + [f"- `{name}`: {text}" for name, text in DEFINITIONS]
    for platform, by_stem in sorted(data.tables.items()):
        for spec in TABLES:
            lines += ["", f"## {platform}: {spec.title}", ""] + _md_table(by_stem[spec.stem])
    lines += _md_blocking(data)
    return "\n".join(lines) + "\n"


def _sheet_name(platform: str, spec: TableSpec, used: set[str]) -> str:
    name = f"{_slug(platform)[: 31 - len(spec.sheet) - 1]} {spec.sheet}"
    candidate, n = name, 2
    while candidate.lower() in used:
        candidate = f"{name[:28]}~{n}"
        n += 1
    used.add(candidate.lower())
    return candidate


def _write_xlsx(path: Path, header: list[tuple[str, str]], data: MartData, cut_off: date) -> None:
    """One sheet per table plus Notes. The creation date is the cut-off (fixed), so the bytes are stable."""
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(str(path), options)
    workbook.set_properties(
        {
            "title": f"Government requests to remove content {header[0][1]}",
            "created": datetime(cut_off.year, cut_off.month, cut_off.day, tzinfo=UTC),
        }
    )
    bold = workbook.add_format({"bold": True})
    notes = workbook.add_worksheet("Notes")
    used = {"notes"}
    rows = header + [("", "")] + [(f"Definition: {n}", t) for n, t in DEFINITIONS] + _notes_blocking(data)
    for r, (label, text) in enumerate(rows):
        notes.write_string(r, 0, label, bold)
        notes.write_string(r, 1, text)
    notes.set_column(0, 0, 36)
    notes.set_column(1, 1, 120)
    for platform, by_stem in sorted(data.tables.items()):
        for spec in TABLES:
            _write_sheet(workbook.add_worksheet(_sheet_name(platform, spec, used)), by_stem[spec.stem], bold)
    for item in data.blocking:
        if item.table is not None:
            used.add(item.spec.sheet.lower())
            _write_sheet(workbook.add_worksheet(item.spec.sheet), item.table, bold)
    workbook.close()


def _notes_blocking(data: MartData) -> list[tuple[str, str]]:
    """Notes-sheet rows of the blocking tables: the rule, then each table's note and state."""
    if data.thresholds is None or not data.blocking:
        return []
    rows = [("", ""), ("Blocking: blocked", data.thresholds.describe())]
    for item in data.blocking:
        label = f"Blocking: {item.spec.title}"
        if item.table is None:
            state = item.unavailable
        else:
            count = len(item.table.rows)
            state = f"sheet '{item.spec.sheet}', {blocking_file(item.spec)}: " + (
                f"{count} row" + ("" if count == 1 else "s") if count else "no rows"
            )
        rows += [(label, item.note), (label, state)]
    return rows


def _write_sheet(sheet, table: Table, bold) -> None:
    sheet.write_row(0, 0, table.columns, bold)
    for r, row in enumerate(table.rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, value)
    sheet.freeze_panes(1, 0)
    sheet.autofit()


def _write_atomically(target: Path, write, keep_countries: bool) -> None:
    """Write into a temporary sibling folder, then rename it over `target`.

    A quarter-wide publication keeps the country folders already published under the same quarter
    (copied into the new folder before the swap)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{target.name}-{uuid.uuid4().hex}"
    tmp.mkdir()  # unlike mkdtemp, honours the umask: the renamed folder gets ordinary permissions
    try:
        write(tmp)
        if keep_countries and target.is_dir():
            for sub in sorted(target.iterdir()):
                if sub.is_dir() and COUNTRY_RE.match(sub.name):
                    shutil.copytree(sub, tmp / sub.name)
        replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())

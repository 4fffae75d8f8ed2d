"""Quarterly publication: the marts as CSV, XLSX and Markdown tables for human-rights and press-freedom groups.

A quarter's tables hold what was complete at the end of that quarter. Google reports by half-year, so the
cut-off is the last half-year end on or before the quarter's end (2025Q2 -> 2025-06-30, 2025Q1 ->
2024-12-31). A year is published only when every period the marts hold for it (on that platform, over all
countries) ended on or before the cut-off: a later publication of the same quarter, made after more data
arrived, therefore never shows a year total that includes periods after the cut-off.

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
        "platform", "country_code", "country_name", "year", "requests", "items_requested", "items_removed",
        "removal_rate", "periods_covered", "latest_period_end", "is_items_removed_estimated",
        "has_censored_values", "source_vintages",
    ),
    REASON_YEAR: ("platform", "country_code", "year", "reason", "reason_label", "requests", "items_requested"),
    REQUESTER_YEAR: (
        "platform", "country_code", "year", "requester", "requests", "items_requested", "items_removed",
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
    TableSpec(COUNTRY_YEAR, "requests_by_country_year", "Requests by country and year", "country-year",
              ("country_name", "country_code", "year")),
    TableSpec(REASON_YEAR, "requests_by_reason_year", "Requests by reason and year", "reason-year",
              ("country_code", "year", "reason")),
    TableSpec(REQUESTER_YEAR, "requests_by_requester_year", "Requests by requester and year", "requester-year",
              ("country_code", "year", "requester")),
)

DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("platform", "Company whose transparency report the figures come from."),
    (
        "country_code",
        ("ISO 3166-1 alpha-2 code of the requesting country; user-assigned XE for Europol, XI for Interpol, "
        "ZZ for requests attributed to no country."),
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


def publish_quarter(settings: Settings, quarter: str, country: str | None = None) -> Path:
    """Write the quarter's tables (optionally one country's) and return the publication folder."""
    quarter_end = parse_quarter(quarter)
    cut_off = cut_off_for(quarter_end)
    country = normalise_country(country)
    data = read_marts(settings.warehouse_path, cut_off, country)
    target = settings.publish_dir / quarter / country if country else settings.publish_dir / quarter

    def write(folder: Path) -> None:
        write_publication(
            folder, quarter=quarter, country=country, cut_off=cut_off, data=data, warehouse=settings.warehouse_path
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
class MartData:
    tables: dict[str, dict[str, Table]]  # platform -> table stem -> rows
    vintages: Table
    data_through: date  # latest period end actually published


def read_marts(warehouse: Path, cut_off: date, country: str | None) -> MartData:
    """Read everything the publication needs in one read-only session, then close it."""
    if not warehouse.is_file():
        raise PipelineError(f"no warehouse at {warehouse}; run `transparency run` first")
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as error:
        raise PipelineError(f"cannot open warehouse {warehouse}: {_one_line(error)}") from None
    try:
        _check_columns(con, warehouse)
        if country:
            _check_country(con, country)
        return _query(con, cut_off, country)
    finally:
        con.close()


def _check_columns(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    """Fail with one line naming the first missing table or column (the marts are another step's output)."""
    found: dict[str, set[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
    ).fetchall():
        found.setdefault(table, set()).add(column)
    for table, columns in MART_COLUMNS.items():
        if table not in found:
            raise PipelineError(f"warehouse {warehouse} has no table marts.{table}; run `transparency run` first")
        missing = [c for c in columns if c not in found[table]]
        if missing:
            raise PipelineError(f"marts.{table} has no column {missing[0]!r} (publish needs {', '.join(missing)})")


def _check_country(con: duckdb.DuckDBPyConnection, country: str) -> None:
    hit = con.execute(f"select 1 from marts.{COUNTRY_YEAR} where country_code = ? limit 1", [country]).fetchone()
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
        raise PipelineError(f"no data{where} with periods ending on or before the cut-off {cut_off.isoformat()}")
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
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")


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
        ("Cut-off", f"periods ending on or before {cut_off.isoformat()} (latest period published: {through})"),
        ("Years", YEARS_NOTE),
        ("Censoring", CENSORING_NOTE),
    ]
    vintages = [dict(zip(data.vintages.columns, map(_plain, r))) for r in data.vintages.rows]
    lines += [("Source", _vintage_line(v)) for v in vintages] or [("Source", "none listed")]
    return lines


def _md_cell(value) -> str:
    return _cell(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> list[str]:
    if not table.rows:
        return ["_No rows._"]
    out = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    out += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in table.rows]
    return out


def _markdown(header: list[tuple[str, str]], data: MartData) -> str:
    quarter = header[0][1]
    country = header[1][1]
    title = f"# Government requests to remove content: {quarter}" + ("" if country == "all" else f", {country}")
    lines = [title, ""]
    lines += [f"- **{label}**: {text}" for label, text in header[2:]]
    lines += ["", "## Definitions", ""] + [f"- `{name}`: {text}" for name, text in DEFINITIONS]
    for platform, by_stem in sorted(data.tables.items()):
        for spec in TABLES:
            lines += ["", f"## {platform}: {spec.title}", ""] + _md_table(by_stem[spec.stem])
    return "\n".join(lines) + "\n"


def _sheet_name(platform: str, spec: TableSpec, used: set[str]) -> str:
    name = f"{_slug(platform)[:31 - len(spec.sheet) - 1]} {spec.sheet}"
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
    workbook.set_properties({
        "title": f"Government requests to remove content {header[0][1]}",
        "created": datetime(cut_off.year, cut_off.month, cut_off.day, tzinfo=UTC),
    })
    bold = workbook.add_format({"bold": True})
    notes = workbook.add_worksheet("Notes")
    used = {"notes"}
    rows = header + [("", "")] + [(f"Definition: {n}", t) for n, t in DEFINITIONS]
    for r, (label, text) in enumerate(rows):
        notes.write_string(r, 0, label, bold)
        notes.write_string(r, 1, text)
    notes.set_column(0, 0, 36)
    notes.set_column(1, 1, 120)
    for platform, by_stem in sorted(data.tables.items()):
        for spec in TABLES:
            _write_sheet(workbook.add_worksheet(_sheet_name(platform, spec, used)), by_stem[spec.stem], bold)
    workbook.close()


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

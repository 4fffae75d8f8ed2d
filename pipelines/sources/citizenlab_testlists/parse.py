"""Parse Citizen Lab's test lists and their category legend into typed record batches (see schema.py).

The files are small (the largest, global.csv, holds under 2,000 URLs), so each is read whole with the csv
module into one batch; what matters is that nothing is lost or guessed:
- every CSV record becomes exactly one row (a record with the wrong number of fields, a quote left open
  by a truncated download, a blank line or bytes that are not UTF-8 is a ParseError naming file and row);
- headers must be exactly the published ones (LayoutError naming unexpected and missing columns);
- every category code of a list must be in the legend of the same retrieval, either as a current code or
  as an old code the legend maps to a current one; anything else is a ParseError naming file, row and
  code (a list and a legend that disagree are an upstream inconsistency a person has to look at, and the
  marts cannot put such a URL in a category);
- a URL must be absolute http(s) with a host name; `domain` is that host (see schema.py).

Pure functions: bytes in, batches out. `parse_vintage` reads a raw folder holding the legend and the
lists (`<cc>.csv`, `global.csv`) and yields one ParsedFile per dataset; other legend files (e.g. `00-LEGEND-country_codes.csv`) and non-CSV
files (manifest.json) are ignored.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa

from pipelines.errors import LayoutError, ParseError
from pipelines.sources import ParsedFile
from pipelines.sources.citizenlab_testlists.schema import GLOBAL, SCHEMAS

SOURCE_ID = "citizenlab_testlists"
LEGEND_FILE = "00-LEGEND-new_category_codes.csv"
LEGEND_HEADER = ("Category Description", "New Code", "Replaces old code(s)", "Description")
LIST_HEADER = ("url", "category_code", "category_description", "date_added", "source", "notes")
NO_OLD_CODES = "N/A"  # the legend's "Replaces old code(s)" for a category without predecessors

_LIST_NAME_RE = re.compile(r"([a-z]{2}|global)\.csv")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CODE_RE = re.compile(r"[A-Z][A-Z0-9_-]*")
_LABEL = r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?"
_HOST_RE = re.compile(rf"{_LABEL}(\.{_LABEL})*")


# ---- reading CSV text --------------------------------------------------------------------------
def _records(data: bytes, source_file: str, header: tuple[str, ...]) -> list[list[str]]:
    """The data records of a CSV file whose header must be exactly `header` (order included)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ParseError(
            f"{source_file}: not UTF-8 (byte {error.start}: {data[error.start : error.start + 1]!r})"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = list(reader)
    except csv.Error as error:
        raise ParseError(f"{source_file}: cannot read CSV near line {reader.line_num} ({error})") from None
    if not rows:
        raise ParseError(f"{source_file}: empty file (no header row)")
    found = tuple(rows[0])
    if found != header:
        unexpected = [h for h in found if h not in header]
        missing = [h for h in header if h not in found]
        raise LayoutError(
            f"{source_file}: header is not the published one: unexpected columns {unexpected}, "
            f"missing columns {missing}, expected {list(header)}"
        )
    records = rows[1:]
    if not records:
        raise ParseError(f"{source_file}: no data rows")
    for number, record in enumerate(records, start=1):
        if len(record) != len(header):
            raise ParseError(
                f"{source_file}: data row {number} has {len(record)} fields, expected {len(header)}: "
                f"{','.join(record)[:200]!r}"
            )
    return records


def _fail(source_file: str, row: int, column: str, problem: str, value: object) -> ParseError:
    return ParseError(f"{source_file}: data row {row}, column {column!r}: {problem}: {value!r}")


def _optional(text: str) -> str | None:
    text = text.strip()
    return text or None


def _required(text: str, source_file: str, row: int, column: str) -> str:
    value = text.strip()
    if not value:
        raise _fail(source_file, row, column, "blank value in a required column", text)
    return value


def _lineage(n: int, source_file: str, vintage: str) -> dict[str, pa.Array]:
    return {
        "source_id": pa.array([SOURCE_ID] * n, pa.string()),
        "vintage": pa.array([vintage] * n, pa.string()),
        "source_file": pa.array([source_file] * n, pa.string()),
        "source_row_number": pa.array(range(1, n + 1), pa.int64()),
    }


def _batch(dataset: str, columns: dict[str, list], source_file: str, vintage: str) -> pa.RecordBatch:
    schema = SCHEMAS[dataset]
    n = len(next(iter(columns.values())))
    arrays = {name: pa.array(values, schema.field(name).type) for name, values in columns.items()}
    arrays.update(_lineage(n, source_file, vintage))
    return pa.RecordBatch.from_arrays([arrays[f.name] for f in schema], schema=schema)


# ---- legend ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Legend:
    """The category legend: current codes and, for any published code (old or current), its current code."""

    codes: frozenset[str]
    current: dict[str, str]

    def resolve(self, code: str) -> str | None:
        return self.current.get(code)


def _old_codes(text: str) -> list[str]:
    words = text.split()
    return [] if words in ([], [NO_OLD_CODES]) else words


def _legend_mapping(rows: list[tuple[int, str, list[str]]], source_file: str) -> dict[str, str]:
    """old or current code -> current code; an old code claimed by two categories is an error."""
    current = {code: code for _, code, _ in rows}
    for row, code, olds in rows:
        for old in olds:
            if current.get(old, code) != code:
                raise _fail(
                    source_file, row, "Replaces old code(s)", f"code also maps to {current[old]}", old
                )
            current[old] = code
    return current


def parse_legend(data: bytes, source_file: str, vintage: str) -> tuple[ParsedFile, Legend]:
    """The legend as dataset `category_codes`, and the Legend that list parsing checks codes against."""
    records = _records(data, source_file, LEGEND_HEADER)
    columns: dict[str, list] = {"code": [], "category": [], "description": [], "replaces_old_codes": []}
    mapping_rows = []
    for row, (category, code, old, description) in enumerate(records, start=1):
        code = _required(code, source_file, row, "New Code")
        if not _CODE_RE.fullmatch(code):
            raise _fail(source_file, row, "New Code", "not a category code", code)
        if code in columns["code"]:
            raise _fail(source_file, row, "New Code", "code listed twice", code)
        olds = _old_codes(old)
        columns["code"].append(code)
        columns["category"].append(_required(category, source_file, row, "Category Description"))
        columns["description"].append(_optional(description))
        columns["replaces_old_codes"].append(" ".join(olds) or None)
        mapping_rows.append((row, code, olds))
    legend = Legend(frozenset(columns["code"]), _legend_mapping(mapping_rows, source_file))
    batch = _batch("category_codes", columns, source_file, vintage)
    return ParsedFile("category_codes", source_file, iter([batch])), legend


# ---- lists -------------------------------------------------------------------------------------
def list_country_code(file_name: str) -> str:
    """`kz.csv` -> `KZ`, `global.csv` -> `GLOBAL`; any other name is not a test list."""
    match = _LIST_NAME_RE.fullmatch(file_name)
    if not match:
        raise LayoutError(f"{file_name}: not a test list file name (expected <cc>.csv or global.csv)")
    code = match.group(1)
    return GLOBAL if code == "global" else code.upper()


def url_domain(url: str) -> str | None:
    """The host of an absolute http(s) URL, lower-cased, without port or trailing dot; None if malformed."""
    if any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    host = host.rstrip(".")
    return host if _HOST_RE.fullmatch(host) else None


def _date(text: str, source_file: str, row: int) -> dt.date:
    text = text.strip()
    try:
        if not _DATE_RE.fullmatch(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _fail(source_file, row, "date_added", "not a date (YYYY-MM-DD)", text) from None


def parse_list(data: bytes, source_file: str, vintage: str, legend: Legend) -> ParsedFile:
    """One test list (`<cc>.csv` or `global.csv`) as dataset `testlist_urls`, one row per CSV record."""
    country = list_country_code(Path(source_file).name)
    records = _records(data, source_file, LIST_HEADER)
    names = ("url", "domain", "category_code", "category_code_raw", "category_description")
    columns: dict[str, list] = {"country_code": [country] * len(records)}
    columns |= {name: [] for name in names + ("date_added", "source", "notes")}
    for row, (url, code, description, added, source, notes) in enumerate(records, start=1):
        url = _required(url, source_file, row, "url")
        domain = url_domain(url)
        if domain is None:
            raise _fail(source_file, row, "url", "not an absolute http(s) URL with a host name", url)
        code = _required(code, source_file, row, "category_code")
        current = legend.resolve(code)
        if current is None:
            raise _fail(
                source_file, row, "category_code", f"unknown category code (not in {LEGEND_FILE})", code
            )
        for name, value in zip(names, (url, domain, current, code, _optional(description)), strict=True):
            columns[name].append(value)
        columns["date_added"].append(_date(added, source_file, row))
        columns["source"].append(_optional(source))
        columns["notes"].append(_optional(notes))
    batch = _batch("testlist_urls", columns, source_file, vintage)
    return ParsedFile("testlist_urls", source_file, iter([batch]))


def parse_vintage(raw_dir: Path, vintage: str, settings=None) -> Iterator[ParsedFile]:
    """`category_codes` (the legend), then `testlist_urls`: ONE ParsedFile whose batches hold every list
    of the folder in file-name order (a vintage is one lake partition per dataset).

    Every file is parsed before the first is yielded (they are small), so a bad list fails the vintage
    before anything is staged.
    """
    raw_dir = Path(raw_dir)
    legend_path = raw_dir / LEGEND_FILE
    if not legend_path.is_file():
        raise LayoutError(f"{raw_dir}: category legend {LEGEND_FILE} missing")
    parsed, legend = parse_legend(legend_path.read_bytes(), LEGEND_FILE, vintage)
    paths = sorted(p for p in raw_dir.glob("*.csv") if not p.name.startswith("00-LEGEND-"))
    if not paths:
        raise LayoutError(f"{raw_dir}: no test list (<cc>.csv or global.csv)")
    batches = [
        batch for path in paths for batch in parse_list(path.read_bytes(), path.name, vintage, legend).batches
    ]
    yield parsed
    yield ParsedFile("testlist_urls", ", ".join(p.name for p in paths), iter(batches))

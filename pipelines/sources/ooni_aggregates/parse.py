"""Parse responses of OONI's aggregation API (axis_x=measurement_start_day, axis_y=domain) into batches.

The documented response (api.ooni.io/api/v1/aggregation, format=JSON) is
    {"v": 0, "dimension_count": 2, "db_stats": {...},
     "result": [{"anomaly_count": 3, "confirmed_count": 0, "failure_count": 1, "ok_count": 20,
                 "measurement_count": 24, "measurement_start_day": "2026-06-28", "domain": "www.bbc.com"}, ...]}
Required: a JSON object with `dimension_count` == 2 and a `result` list whose elements carry the day, the
domain and the five counts as non-negative integers. `v` and `db_stats` are not required (the API's
newer implementation drops `v`), and extra keys in an element are ignored (it adds observation and
LoNI fields). The API reports some errors with status 200 and a body `{"error": "...", "v": 0}`: that
is an error too. Anything else (an HTML error page, truncated JSON, missing keys, a count that is
negative, fractional or not a number, a day outside the requested window) is a one-line ParseError
naming the file and the element.

`measurement_start_day` is `YYYY-MM-DD`; a midnight timestamp (`2026-06-28T00:00:00Z`, what a
start-of-day grouping may serialise to) is accepted as that day, any other time is an error.

Incremental loading: `refetch_window(last_loaded_day, today, days=3)` gives the (since, until) to request
(plan.py): the last `days` days already loaded are fetched again because late uploads still change them,
plus every day after them up to today; `until` is exclusive, as the API's. Each vintage stays its own lake
partition; with dataset `ooni_windows` (one row per response: country, window, rows) dbt keeps, for each
country and day, the rows of the newest vintage whose window covers the day, so a day is never duplicated
and a domain that vanished from a re-fetched day vanishes from the marts too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from pipelines.errors import LayoutError, ParseError
from pipelines.landing import MANIFEST
from pipelines.sources import ParsedFile
from pipelines.sources.ooni_aggregates.schema import COUNTS, SCHEMAS

SOURCE_ID = "ooni_aggregates"
DATASET = "ooni_domain_days"
WINDOWS = "ooni_windows"
API_URL = "https://api.ooni.io/api/v1/aggregation"
TEST_NAME = "web_connectivity"
REFETCH_DAYS = 3

_DAY_RE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ]00:00:00(?:\.0+)?(?:Z|\+00:00)?)?")
_RAW_NAME_RE = re.compile(r"aggregation_([A-Z]{2})_(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})\.json")
_CC_RE = re.compile(r"[A-Z]{2}")


# ---- requests and raw file names ----------------------------------------------------------------
def request_params(country_code: str, since: dt.date, until: dt.date) -> dict[str, str]:
    """Query parameters of one aggregation request (until exclusive)."""
    return {
        "probe_cc": country_code,
        "test_name": TEST_NAME,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "axis_x": "measurement_start_day",
        "axis_y": "domain",
        "format": "JSON",
    }


def raw_file_name(country_code: str, since: dt.date, until: dt.date) -> str:
    """Name of the raw file holding one response: it records what was asked, which the body does not."""
    if not _CC_RE.fullmatch(country_code):
        raise ValueError(f"not a two-letter country code: {country_code!r}")
    return f"aggregation_{country_code}_{since.isoformat()}_{until.isoformat()}.json"


def parse_raw_name(name: str) -> tuple[str, dt.date, dt.date]:
    """(country_code, since, until) from a raw file name written by raw_file_name."""
    match = _RAW_NAME_RE.fullmatch(name)
    if not match:
        raise LayoutError(f"{name}: not an aggregation response file (aggregation_<CC>_<since>_<until>.json)")
    try:
        since, until = dt.date.fromisoformat(match.group(2)), dt.date.fromisoformat(match.group(3))
    except ValueError:
        raise LayoutError(f"{name}: window dates are not valid dates") from None
    if since >= until:
        raise LayoutError(f"{name}: empty window (since {since} is not before until {until})")
    return match.group(1), since, until


# ---- incremental window ---------------------------------------------------------------------------
def refetch_window(
    last_loaded_day: dt.date | None,
    today: dt.date,
    days: int = REFETCH_DAYS,
    *,
    first_day: dt.date | None = None,
) -> tuple[dt.date, dt.date]:
    """(since, until exclusive) of the next request.

    since = last_loaded_day - (days - 1): the last `days` loaded days are fetched again and replaced.
    With nothing loaded yet, since = first_day (default: the last `days` days up to today).
    until = today + 1: today's partial data is loaded too and is replaced by the next runs.
    """
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    until = today + dt.timedelta(days=1)
    if last_loaded_day is None:
        since = first_day if first_day is not None else today - dt.timedelta(days=days - 1)
    else:
        if last_loaded_day > today:
            raise ValueError(f"last loaded day {last_loaded_day} is after today {today}")
        since = last_loaded_day - dt.timedelta(days=days - 1)
    if since >= until:
        raise ValueError(f"empty window: since {since} is not before until {until}")
    return since, until


# ---- response parsing -------------------------------------------------------------------------
def _load(body: bytes, source_file: str) -> dict:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ParseError(f"{source_file}: response is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        start = " ".join(text[:60].split())
        raise ParseError(
            f"{source_file}: response is not JSON ({error.msg} at line {error.lineno} column {error.colno}); "
            f"it starts with {start!r}"
        ) from None
    if not isinstance(document, dict):
        raise ParseError(f"{source_file}: response is JSON but not an object: {type(document).__name__}")
    if "error" in document:
        raise ParseError(f"{source_file}: the API answered an error: {str(document['error'])[:200]!r}")
    missing = [key for key in ("dimension_count", "result") if key not in document]
    if missing:
        raise ParseError(f"{source_file}: response lacks keys {missing} (has {sorted(document)[:10]})")
    if document["dimension_count"] != 2:
        raise ParseError(
            f"{source_file}: dimension_count is {document['dimension_count']!r}, expected 2 "
            "(axis_x=measurement_start_day, axis_y=domain)"
        )
    if not isinstance(document["result"], list):
        raise ParseError(f"{source_file}: 'result' is {type(document['result']).__name__}, expected a list")
    return document


def _fail(source_file: str, number: int, key: str, problem: str, value: object) -> ParseError:
    return ParseError(f"{source_file}: result element {number}, key {key!r}: {problem}: {value!r}")


def _day(value: object, source_file: str, number: int) -> dt.date:
    match = _DAY_RE.fullmatch(value) if isinstance(value, str) else None
    try:
        if not match:
            raise ValueError
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        raise _fail(source_file, number, "measurement_start_day", "not a day (YYYY-MM-DD)", value) from None


def _count(value: object, source_file: str, number: int, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(source_file, number, key, "not an integer count", value)
    if value < 0:
        raise _fail(source_file, number, key, "negative count", value)
    return value


def _domain(value: object, source_file: str, number: int) -> str:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value.strip()):
        raise _fail(source_file, number, "domain", "not a host name", value)
    return value.strip().lower()


def parse_response(
    body: bytes,
    source_file: str,
    vintage: str,
    country_code: str,
    window: tuple[dt.date, dt.date] | None = None,
) -> ParsedFile:
    """One response as dataset `ooni_domain_days`; with `window` (since, until exclusive) days must lie in it."""
    if not _CC_RE.fullmatch(country_code):
        raise ParseError(f"{source_file}: not a two-letter country code: {country_code!r}")
    result = _load(body, source_file)["result"]
    required = ("measurement_start_day", "domain", *COUNTS)
    columns: dict[str, list] = {"measurement_day": [], "domain": []} | {c: [] for c in COUNTS.values()}
    for number, element in enumerate(result, start=1):
        if not isinstance(element, dict):
            raise ParseError(f"{source_file}: result element {number} is not an object: {element!r:.100}")
        missing = [key for key in required if key not in element]
        if missing:
            raise ParseError(f"{source_file}: result element {number} lacks keys {missing}")
        day = _day(element["measurement_start_day"], source_file, number)
        if window is not None and not window[0] <= day < window[1]:
            raise _fail(
                source_file,
                number,
                "measurement_start_day",
                f"outside the window {window[0]} .. {window[1]}",
                day.isoformat(),
            )
        columns["measurement_day"].append(day)
        columns["domain"].append(_domain(element["domain"], source_file, number))
        for key, column in COUNTS.items():
            columns[column].append(_count(element[key], source_file, number, key))
    return ParsedFile(DATASET, source_file, iter([_batch(columns, country_code, source_file, vintage)]))


def _batch(columns: dict[str, list], country_code: str, source_file: str, vintage: str) -> pa.RecordBatch:
    schema = SCHEMAS[DATASET]
    n = len(columns["domain"])
    values = columns | {
        "country_code": [country_code] * n,
        "source_id": [SOURCE_ID] * n,
        "vintage": [vintage] * n,
        "source_file": [source_file] * n,
        "source_row_number": list(range(1, n + 1)),
    }
    arrays = [pa.array(values[f.name], f.type) for f in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def window_batch(
    country_code: str, window: tuple[dt.date, dt.date], result_rows: int, source_file: str, vintage: str
) -> pa.RecordBatch:
    """The `ooni_windows` row of one response file."""
    values = {
        "country_code": [country_code],
        "window_since": [window[0]],
        "window_until": [window[1]],
        "result_rows": [result_rows],
        "source_id": [SOURCE_ID],
        "vintage": [vintage],
        "source_file": [source_file],
        "source_row_number": [1],
    }
    schema = SCHEMAS[WINDOWS]
    return pa.RecordBatch.from_arrays([pa.array(values[f.name], f.type) for f in schema], schema=schema)


def parse_vintage(raw_dir: Path, vintage: str, settings=None) -> Iterator[ParsedFile]:
    """`ooni_domain_days` then `ooni_windows`, ONE ParsedFile each whose batches cover every response file
    `aggregation_<CC>_<since>_<until>.json` of the vintage (in name order; window from the name).

    One file per dataset because a vintage is one lake partition per dataset. Every response is parsed
    before the first is yielded (responses are small: a window of days x domains), so a bad file fails
    the vintage before anything is staged and the window rows can count each response's rows.
    """
    raw_dir = Path(raw_dir)
    paths = sorted(p for p in raw_dir.glob("*.json") if p.name != MANIFEST)
    if not paths:
        raise LayoutError(f"{raw_dir}: no aggregation response (aggregation_<CC>_<since>_<until>.json)")
    days: list[pa.RecordBatch] = []
    windows: list[pa.RecordBatch] = []
    for path in paths:
        country_code, since, until = parse_raw_name(path.name)
        parsed = parse_response(path.read_bytes(), path.name, vintage, country_code, (since, until))
        batches = list(parsed.batches)
        days.extend(batches)
        rows = sum(batch.num_rows for batch in batches)
        windows.append(window_batch(country_code, (since, until), rows, path.name, vintage))
    source_file = paths[0].name if len(paths) == 1 else f"{paths[0].name} and {len(paths) - 1} more"
    yield ParsedFile(DATASET, source_file, iter(days))
    yield ParsedFile(WINDOWS, source_file, iter(windows))

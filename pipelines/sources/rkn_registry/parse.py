"""Parse zapret-info registry dumps (CP1251, `;`-separated, no header) into `registry_snapshot` batches.

A snapshot is `dump.csv`, or `dump-00.csv`, `dump-01.csv` … read in order as parts of one file. The first
line of the (first) file is `Updated: YYYY-MM-DD HH:MM:SS +ZZZZ`; it dates the snapshot (snapshot_at, UTC).
A later part may repeat it (it must then be the same) or start directly with data lines. Every data line
has six fields: IPs (joined with ` | `), domain, URL(s) (joined with ` | `), authority, decision number,
decision date. A URL may itself contain `;`: a line with more than six fields keeps the first two and the
last three fields and gives everything between them, `;` included, to the URL.

The parse is vectorised: pyarrow's CSV reader transcodes CP1251 to UTF-8 and reads each line as one string,
pyarrow.compute splits and checks the fields, and DuckDB hashes the entry key and flags repeats with window
functions (schema.py says what the key and flags mean). No Python code runs per line except for the rare
lines with more than six fields and addresses that are not plain IPv4.

Rejected (ParseError, one line naming file, data row, column and value):
- a file that is valid UTF-8 with multi-byte characters (the real CP1251 dumps never are: every line
  carries a Cyrillic authority), a UTF-8 byte-order mark, bytes undefined in CP1251, and an authority or
  decision number in UTF-8 read as CP1251 ("Р¤РЎРљРќ": a UTF-8 line pasted into a CP1251 file). URLs and
  domains are not checked for that: the real registry publishes URLs whose UTF-8 path bytes show as such
  mojibake (e.g. `/Р§РµР»СЏР±РёРЅСЃРє`), and they are kept as published;
- no `Updated:` first line, or one that is not a timestamp;
- a line with fewer than six fields (the last line: "truncated last line");
- a malformed IP address (each ` | ` element must be an IPv4 or IPv6 address or network);
- a malformed URL (an empty element, whitespace or control characters inside, a scheme other than
  http/https, or no host); scheme-less URLs such as `rcsyn.com` or `nnm-club.me/forum/…` are published
  and accepted;
- an empty authority or decision number, or a decision date that is not YYYY-MM-DD.
"""

from __future__ import annotations

import datetime as dt
import io
import ipaddress
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipelines.errors import LayoutError, ParseError
from pipelines.sources import ParsedFile
from pipelines.sources.rkn_registry.schema import REGISTRY_SNAPSHOT, SNAPSHOT_AT_TYPE

SOURCE_ID = "rkn_registry"
DATASET = "registry_snapshot"
ENCODING = "cp1251"
FIELD_COUNT = 6
FIELD_NAMES = ("ips", "domain", "url", "authority", "decision_number", "decision_date")
LIST_SEPARATOR = " | "
BLOCK_SIZE = 8 * 1024**2  # bytes of CSV per block the reader transcodes and splits
MAX_UPDATED_LINE = 200

DUMP_FILE = "dump.csv"
PART_RE = re.compile(r"^dump-(\d{2,})\.csv$")
_UPDATED_RE = re.compile(r"^Updated: (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) ([+-]\d{2})(\d{2})$")

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_PATTERN = rf"^{_OCTET}(\.{_OCTET}){{3}}(/(3[0-2]|[12]?[0-9]))?$"
_VISIBLE = "[^[:space:][:cntrl:]]"
URL_PATTERN = (
    rf"(?i)^(https?://[^[:space:][:cntrl:]/?#]+{_VISIBLE}*|[^[:space:][:cntrl:]:/?#]+\.{_VISIBLE}*)$"
)
# UTF-8 Cyrillic read as CP1251: lead byte 0xD0/0xD1 ("Р"/"С") followed by a continuation byte 0x80–0xBF.
_CONTINUATION_CHARS = bytes(b for b in range(0x80, 0xC0) if b != 0x98).decode(ENCODING)
MOJIBAKE_PATTERN = "[РС][" + re.escape(_CONTINUATION_CHARS) + "]"
_UTF8_CYRILLIC = re.compile(rb"[\xd0\xd1][\x80-\xbf]")


@dataclass(frozen=True)
class Snapshot:
    snapshot_at: dt.datetime  # UTC, from the `Updated:` line
    table: pa.Table  # REGISTRY_SNAPSHOT rows, in published order


# ---- first line and encoding ----------------------------------------------------------------------
def parse_updated(line: bytes, source_file: str) -> dt.datetime:
    """The snapshot time of an `Updated: 2013-06-06 07:05:00 +0000` line, as an aware UTC datetime."""
    text = line.rstrip(b"\r\n").decode("ascii", errors="replace")
    match = _UPDATED_RE.match(text)
    if not match:
        raise ParseError(
            f"{source_file}: first line is not 'Updated: YYYY-MM-DD HH:MM:SS +ZZZZ': {text[:80]!r}"
        )
    stamp, hours, minutes = match.groups()
    try:
        local = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ParseError(f"{source_file}: 'Updated:' line holds no valid timestamp: {text!r}") from None
    sign = -1 if hours.startswith("-") else 1
    offset = dt.timedelta(hours=int(hours), minutes=sign * int(minutes))
    return local.replace(tzinfo=dt.timezone(offset)).astimezone(dt.UTC)


def check_encoding(data: bytes, source_file: str) -> None:
    """Reject UTF-8 where CP1251 is expected: a BOM, or a body that decodes as UTF-8 with Cyrillic in it."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise ParseError(f"{source_file}: starts with a UTF-8 byte-order mark; expected CP1251")
    if data.isascii():
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return  # the normal case: CP1251 Cyrillic is not valid UTF-8
    match = _UTF8_CYRILLIC.search(data)
    sample = data[max(0, match.start() - 20) : match.end() + 20] if match else data[:40]
    raise ParseError(
        f"{source_file}: encoded in UTF-8, expected CP1251 (e.g. {sample.decode('utf-8', 'replace')!r})"
    )


def split_updated(data: bytes, source_file: str, required: bool) -> tuple[dt.datetime | None, bytes]:
    """(snapshot time, data lines) of one file; a part after the first may lack the `Updated:` line."""
    end = data.find(b"\n", 0, MAX_UPDATED_LINE + 2)
    first = data[: end if end >= 0 else MAX_UPDATED_LINE]
    if first.startswith(b"Updated:"):
        return parse_updated(first, source_file), data[end + 1 :] if end >= 0 else b""
    if required:
        raise ParseError(f"{source_file}: missing 'Updated:' line (first line: {first[:60]!r})")
    return None, data


# ---- reading lines ------------------------------------------------------------------------------
def read_lines(body: bytes, source_file: str) -> pa.ChunkedArray:
    """The data lines of one file as UTF-8 strings (CP1251 transcoded by the reader; blank lines skipped)."""
    if not body.strip():
        return pa.chunked_array([], pa.string())
    bad_rows: list[str] = []

    def keep_as_error(row) -> str:  # a line holding the separator byte 0x1F: reported, not guessed
        bad_rows.append(row.text)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=["line"], encoding=ENCODING, block_size=BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(
                delimiter="\x1f",
                quote_char=False,
                double_quote=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=True,
                invalid_row_handler=keep_as_error,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={"line": pa.string()},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except UnicodeDecodeError as error:
        raise ParseError(
            f"{source_file}: byte {error.object[error.start : error.end]!r} is not CP1251"
        ) from None
    except pa.ArrowException as error:
        raise ParseError(f"{source_file}: unreadable: {str(error).splitlines()[0]}") from None
    if bad_rows:
        raise ParseError(f"{source_file}: control character U+001F in line {bad_rows[0][:120]!r}")
    return table.column("line")


# ---- fields ---------------------------------------------------------------------------------------
class _Lines:
    """The lines of one snapshot with what error messages need to name a row."""

    def __init__(self, parts: list[tuple[str, pa.ChunkedArray]]):
        self.files = [name for name, _ in parts]
        self.lengths = [len(lines) for _, lines in parts]
        self.lines = pa.chunked_array([c for _, lines in parts for c in lines.chunks], pa.string())
        self.part_of = np.repeat(np.arange(len(parts)), self.lengths)
        self.row_number = np.concatenate([np.arange(1, n + 1) for n in self.lengths] or [np.zeros(0, int)])

    def where(self, index: int) -> str:
        part = int(self.part_of[index])
        return f"{self.files[part]}: data row {int(self.row_number[index])}"

    def fail(self, index: int, column: str, problem: str, value: object) -> ParseError:
        return ParseError(f"{self.where(index)}, column {column!r}: {problem}: {value!r}")

    def is_last(self, index: int) -> bool:
        return index == len(self.lines) - 1


def _first(mask: pa.Array | pa.ChunkedArray) -> int | None:
    """Index of the first true value of a boolean array (NULL counts as false), or None."""
    filled = pc.fill_null(mask, False)
    if not pc.any(filled).as_py():
        return None
    return int(pc.index(filled, True).as_py())


def split_fields(lines: _Lines) -> dict[str, pa.ChunkedArray]:
    """The six trimmed fields of every line; a URL holding `;` is put back together (see module doc)."""
    parts = pc.split_pattern(lines.lines, ";")
    counts = pc.list_value_length(parts)
    short = _first(pc.less(counts, FIELD_COUNT))
    if short is not None:
        count = len(parts[short].as_py())
        text = lines.lines[short].as_py()
        if lines.is_last(short):
            raise ParseError(
                f"{lines.where(short)}: truncated last line ({count} of {FIELD_COUNT} fields): {text!r}"
            )
        raise ParseError(f"{lines.where(short)}: {count} fields, expected {FIELD_COUNT}: {text!r}")
    fields = {name: pc.list_element(parts, i) for i, name in enumerate(FIELD_NAMES)}
    long_mask = pc.greater(counts, FIELD_COUNT)
    if pc.any(long_mask).as_py():
        fields = _rejoin_urls(lines, fields, long_mask)
    return {name: pc.utf8_trim_whitespace(values) for name, values in fields.items()}


def _rejoin_urls(lines: _Lines, fields: dict, long_mask) -> dict[str, pa.ChunkedArray]:
    long_lines = pc.filter(lines.lines, long_mask).to_pylist()
    fixed = [line.split(";") for line in long_lines]
    replacements = {
        "url": [";".join(f[2:-3]) for f in fixed],
        "authority": [f[-3] for f in fixed],
        "decision_number": [f[-2] for f in fixed],
        "decision_date": [f[-1] for f in fixed],
    }
    mask = (
        pc.fill_null(long_mask, False).combine_chunks()
        if isinstance(long_mask, pa.ChunkedArray)
        else long_mask
    )
    out = dict(fields)
    for name, values in replacements.items():
        column = fields[name].combine_chunks() if isinstance(fields[name], pa.ChunkedArray) else fields[name]
        out[name] = pc.replace_with_mask(column, mask, pa.array(values, pa.string()))
    return out


def _blank_to_null(values) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def _elements(values) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(trimmed elements, index of their line, elements per line) of a ` | `-joined column (NULL: 0)."""
    lists = pc.split_pattern(values, "|")
    lists = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    counts = pc.fill_null(pc.list_value_length(lists), 0)
    return pc.utf8_trim_whitespace(pc.list_flatten(lists)), pc.list_parent_indices(lists), counts


def check_ips(lines: _Lines, ips) -> pa.Array:
    """Elements per line; every element must be an IPv4/IPv6 address or network."""
    elements, parents, counts = _elements(ips)
    not_v4 = pc.invert(pc.match_substring_regex(elements, IPV4_PATTERN))
    if pc.any(not_v4).as_py():
        candidates = pc.filter(elements, not_v4).to_pylist()
        rows = pc.filter(parents, not_v4).to_pylist()
        for value, row in zip(candidates, rows, strict=True):
            if ":" not in value or not _is_ipv6(value):
                raise lines.fail(row, "ips", "malformed IP address", value)
    return counts


def _is_ipv6(value: str) -> bool:
    try:
        ipaddress.IPv6Network(value, strict=False)
    except ValueError:
        return False
    return True


def check_urls(lines: _Lines, urls) -> pa.Array:
    """Elements per line; every element must look like an http(s) URL or a scheme-less host[/path]."""
    lists = pc.split_pattern(urls, LIST_SEPARATOR)
    lists = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    counts = pc.fill_null(pc.list_value_length(lists), 0)
    elements = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    bad = _first(pc.invert(pc.match_substring_regex(elements, URL_PATTERN)))
    if bad is not None:
        row = int(pc.list_parent_indices(lists)[bad].as_py())
        raise lines.fail(row, "url", "malformed URL", elements[bad].as_py())
    return counts


def check_required(lines: _Lines, name: str, values) -> None:
    empty = _first(pc.equal(values, ""))
    if empty is not None:
        raise lines.fail(empty, name, "empty value", lines.lines[empty].as_py())


def check_not_mojibake(lines: _Lines, name: str, values) -> None:
    bad = _first(pc.match_substring_regex(values, MOJIBAKE_PATTERN))
    if bad is not None:
        raise lines.fail(bad, name, "UTF-8 text in a CP1251 file", values[bad].as_py())


def parse_dates(lines: _Lines, values) -> pa.Array:
    parsed = pc.strptime(values, format="%Y-%m-%d", unit="s", error_is_null=True)
    bad = _first(
        pc.or_(pc.is_null(parsed), pc.invert(pc.match_substring_regex(values, r"^\d{4}-\d{2}-\d{2}$")))
    )
    if bad is not None:
        problem = "truncated last line, decision date" if lines.is_last(bad) else "not a YYYY-MM-DD date"
        raise lines.fail(bad, "decision_date", problem, values[bad].as_py())
    return pc.cast(parsed, pa.date32())


# ---- entry key and repeat flags (DuckDB) -----------------------------------------------------------
_KEY_SQL = """
with keyed as (
    select ord, ips,
           md5(concat_ws(chr(31), authority, decision_number, strftime(decision_date, '%Y-%m-%d'),
                         coalesce(domain, ''), coalesce(url, ''))) as entry_key
    from entries
)
select entry_key,
       row_number() over (partition by entry_key, ips order by ord) > 1 as is_duplicate,
       row_number() over (partition by entry_key order by ord) > 1 as is_repeat_key
from keyed
order by ord
"""


def entry_keys(entries: pa.Table) -> pa.Table:
    """entry_key, is_duplicate, is_repeat_key for a table of (ord, ips, domain, url, authority, …)."""
    con = duckdb.connect()
    try:
        con.register("entries", entries)
        return con.sql(_KEY_SQL).to_arrow_table()
    finally:
        con.close()


# ---- snapshot ---------------------------------------------------------------------------------------
def parse_snapshot(parts: Sequence[tuple[str, bytes]], vintage: str, source_id: str = SOURCE_ID) -> Snapshot:
    """One snapshot from its file(s) `(name, bytes)` in order: the whole registry at its `Updated:` time."""
    if not parts:
        raise ParseError("no snapshot files given")
    snapshot_at: dt.datetime | None = None
    read: list[tuple[str, pa.ChunkedArray]] = []
    for i, (name, data) in enumerate(parts):
        check_encoding(data, name)
        updated, body = split_updated(data, name, required=i == 0)
        if snapshot_at is None:
            snapshot_at = updated
        elif updated is not None and updated != snapshot_at:
            raise ParseError(f"{name}: 'Updated:' {updated.isoformat()} differs from {parts[0][0]}'s")
        if i < len(parts) - 1 and body and not body.endswith(b"\n"):
            raise ParseError(f"{name}: part does not end with a line break (split inside a line?)")
        read.append((name, read_lines(body, name)))
    assert snapshot_at is not None
    lines = _Lines(read)
    return Snapshot(snapshot_at, _build_table(lines, snapshot_at, vintage, source_id))


def _build_table(lines: _Lines, snapshot_at: dt.datetime, vintage: str, source_id: str) -> pa.Table:
    n = len(lines.lines)
    if n == 0:
        return REGISTRY_SNAPSHOT.empty_table()
    f = split_fields(lines)
    for name in ("authority", "decision_number"):
        check_required(lines, name, f[name])
        check_not_mojibake(lines, name, f[name])
    ips, domain, url = (_blank_to_null(f[name]) for name in ("ips", "domain", "url"))
    ip_count = check_ips(lines, ips)
    url_count = check_urls(lines, url)
    decision_date = parse_dates(lines, f["decision_date"])
    entries = pa.table(
        {
            "ord": pa.array(np.arange(n, dtype=np.int64)),
            "ips": ips,
            "domain": domain,
            "url": url,
            "authority": f["authority"],
            "decision_number": f["decision_number"],
            "decision_date": decision_date,
        }
    )
    keys = entry_keys(entries)
    columns = {
        "snapshot_at": pa.array(np.full(n, snapshot_at.replace(tzinfo=None), dtype="datetime64[us]")).cast(
            SNAPSHOT_AT_TYPE
        ),
        "entry_key": keys.column("entry_key"),
        "ips": ips,
        "ip_count": ip_count,
        "domain": domain,
        "is_wildcard": pc.fill_null(pc.starts_with(domain, "*."), False),
        "url": url,
        "url_count": url_count,
        "authority": f["authority"],
        "decision_number": f["decision_number"],
        "decision_date": decision_date,
        "is_duplicate": keys.column("is_duplicate"),
        "is_repeat_key": keys.column("is_repeat_key"),
        "source_id": pa.array(np.full(n, source_id, dtype=object), pa.string()),
        "vintage": pa.array(np.full(n, vintage, dtype=object), pa.string()),
        "source_file": pa.array(np.array(lines.files, dtype=object)[lines.part_of], pa.string()),
        "source_row_number": pa.array(lines.row_number.astype(np.int64)),
    }
    arrays = [_as_array(columns[field.name], field.type) for field in REGISTRY_SNAPSHOT]
    return pa.Table.from_arrays(arrays, schema=REGISTRY_SNAPSHOT)


def _as_array(values, arrow_type: pa.DataType) -> pa.ChunkedArray:
    if not isinstance(values, pa.ChunkedArray):
        values = pa.chunked_array([values])
    return values.cast(arrow_type) if values.type != arrow_type else values


def duplicate_summary(table: pa.Table) -> dict[str, int]:
    """Counts for the gate's summary: lines, entries, exact repeats, decisions listed again with other IPs."""
    duplicate = pc.sum(table.column("is_duplicate")).as_py() or 0
    repeat_key = pc.sum(table.column("is_repeat_key")).as_py() or 0
    return {
        "lines": table.num_rows,
        "entries": pc.count_distinct(table.column("entry_key")).as_py(),
        "exact_duplicate_lines": duplicate,
        "same_key_other_ips_lines": repeat_key - duplicate,
    }


# ---- files --------------------------------------------------------------------------------------
def snapshot_files(folder: Path) -> list[Path]:
    """The file(s) of the snapshot in `folder`: dump.csv, or dump-00.csv, dump-01.csv … in part order."""
    names = {p.name: p for p in folder.iterdir() if p.is_file()}
    parts = sorted((int(m.group(1)), p) for name, p in names.items() if (m := PART_RE.match(name)))
    if DUMP_FILE in names and parts:
        raise LayoutError(f"{folder}: holds both {DUMP_FILE} and split parts dump-NN.csv; expected one form")
    if DUMP_FILE in names:
        return [names[DUMP_FILE]]
    if not parts:
        raise LayoutError(f"{folder}: no {DUMP_FILE} and no dump-NN.csv parts")
    numbers = [n for n, _ in parts]
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise LayoutError(f"{folder}: split parts are not consecutive: {[p.name for _, p in parts]}")
    return [p for _, p in parts]


def parse_files(paths: Sequence[Path], vintage: str, source_id: str = SOURCE_ID) -> Snapshot:
    return parse_snapshot([(p.name, p.read_bytes()) for p in paths], vintage, source_id)


def read_updated_at(path: Path) -> dt.datetime:
    """The snapshot time of a dump file from its first line only (to order a backfill folder)."""
    with path.open("rb") as stream:
        first = stream.readline(MAX_UPDATED_LINE)
    updated, _ = split_updated(first, path.name, required=True)
    assert updated is not None
    return updated


def vintage_of(snapshot_at: dt.datetime) -> str:
    """A vintage id from the snapshot time (UTC), e.g. 2013-06-06T070500Z; sorts in time order."""
    return snapshot_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ")


def parse_vintage(raw_dir: Path, vintage: str, settings=None) -> Iterator[ParsedFile]:
    """The pipeline's entry point (pipelines/run.py stage_vintage): one snapshot per raw vintage."""
    paths = snapshot_files(Path(raw_dir))
    snapshot = parse_files(paths, vintage)
    label = paths[0].name if len(paths) == 1 else f"{paths[0].name} … {paths[-1].name}"
    yield ParsedFile(DATASET, label, iter(snapshot.table.to_batches()))

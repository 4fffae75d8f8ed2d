"""Parse zapret-info registry dumps (CP1251, `;`-separated, no header) into `registry_snapshot` batches.

A snapshot is `dump.csv`, or `dump-00.csv`, `dump-01.csv` … read in order as parts of one file. The first
line of the (first) file is `Updated: YYYY-MM-DD HH:MM:SS +ZZZZ`; it dates the snapshot (snapshot_at, UTC).
A later part may repeat it (it must then be the same) or start directly with data lines. Every data line
has six fields: IPs (joined with ` | `), domain, URL(s) (joined with ` | `), authority, decision number,
decision date. A URL may itself contain `;`: a line with more than six fields keeps the first two and the
last three fields and gives everything between them, `;` included, to the URL.

Two paths give the same table (schema.py says what the key and flags mean):
- the fast path (`_fast_batches`, about 1.5-2 s for 2 million lines): Arrow's CSV reader splits the six
  fields in parallel without transcoding; only columns holding non-ASCII bytes are transcoded (CP1251 ->
  UTF-8, one block per chunk); every check runs on whole columns with a test that accepts only what the
  line path accepts (values it cannot vouch for, e.g. IPv6, get the line path's per-element checks); two
  threads share the columns while DuckDB hashes the entry keys; repeats are found by sorting 64-bit numbers
  taken from the keys. Anything unusual (a `;` inside a URL, a short line, an odd date, any error) makes it
  give up (`_Unusual`);
- the line path (`_exact_snapshot`): pyarrow's CSV reader transcodes and reads each line as one string,
  pyarrow.compute splits and checks the fields. It names the row of every error below.
No Python code runs per line except for rare values (lines with more than six fields, IPv6 addresses).
The pipeline (parse_vintage -> snapshot_batches) gets the fast path's rows block by block: every check has
run before the first block is handed over, and the entry keys of block k+1 are hashed in a background
thread while the staging writer writes block k.

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

import codecs
import datetime as dt
import io
import ipaddress
import mmap
import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipelines import lake
from pipelines.errors import LayoutError, ParseError
from pipelines.sources import ParsedFile
from pipelines.sources.rkn_registry.schema import ENTRY_KEY_FIELDS, ENTRY_KEY_TYPE, REGISTRY_SNAPSHOT

Data = bytes | mmap.mmap  # a file's bytes: read, or memory-mapped (_mapped)
SOURCE_ID = "rkn_registry"
DATASET = "registry_snapshot"
ENCODING = "cp1251"
FIELD_COUNT = 6
FIELD_NAMES = ("ips", "domain", "url", "authority", "decision_number", "decision_date")
LIST_SEPARATOR = " | "
CHECK_THREADS = 2
BLOCK_SIZE = 8 * 1024**2  # bytes of CSV per block the reader transcodes and splits
# Fast path: bytes per block the CSV reader splits (in parallel); a block's rows become one batch, i.e. one
# Parquet row group when staged: ~600,000 rows of a 2-million-line dump (large groups write faster).
FAST_BLOCK_SIZE = 64 * 1024**2
MAX_UPDATED_LINE = 200
UTF8_CHECK_BLOCK = 1024**2

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


def _unquoted(delimiter: str, **extra) -> pacsv.ParseOptions:
    """Arrow CSV options for the dumps: no quoting or escaping at all (a `"` is part of a URL), one record
    per line, blank lines skipped."""
    return pacsv.ParseOptions(
        delimiter=delimiter,
        quote_char=False,
        double_quote=False,
        escape_char=False,
        newlines_in_values=False,
        ignore_empty_lines=True,
        **extra,
    )


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


def check_encoding(data: Data, source_file: str) -> None:
    """Reject UTF-8 where CP1251 is expected: a BOM, or a body that decodes as UTF-8 with Cyrillic in it."""
    if data[:3] == b"\xef\xbb\xbf":
        raise ParseError(f"{source_file}: starts with a UTF-8 byte-order mark; expected CP1251")
    if np.frombuffer(data, np.uint8).max(initial=0) < 0x80:  # ASCII only
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:  # block by block: a CP1251 file fails in its first block, without decoding the whole file
        for start in range(0, len(data), UTF8_CHECK_BLOCK):
            decoder.decode(
                view[start : start + UTF8_CHECK_BLOCK], final=start + UTF8_CHECK_BLOCK >= len(data)
            )
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
            parse_options=_unquoted("\x1f", invalid_row_handler=keep_as_error),
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


# ---- fast path: well-formed files, read field by field -------------------------------------------
# Arrow's CSV reader splits the six fields of every line (in parallel, no transcoding: the five text
# fields as CP1251 bytes, the decision date as date32); only the fields that hold non-ASCII bytes are
# transcoded, column by column. Every check of the line-by-line path is made on the whole column, by a
# test that accepts only values that path accepts; a line it cannot vouch for (a `;` inside a URL, an
# IPv6 address, odd blanks…) is looked at with that path's own per-element checks, and anything still
# unusual, errors included, sends the snapshot to the line-by-line path (_Unusual).
_V4 = IPV4_PATTERN[1:-1]
FAST_IPS_PATTERN = rf"^{_V4}( *\| *{_V4})*$"  # trimmed elements joined by `|`, all IPv4
_URL_ELEMENT = URL_PATTERN[len("(?i)^(") : -len(")$")]
FAST_URLS_PATTERN = rf"(?i)^({_URL_ELEMENT})( \| ({_URL_ELEMENT}))*$"  # elements hold no blank
_TEXT_FIELDS = ("ips", "domain", "url", "authority", "decision_number")
_FIELD_TYPES = {name: pa.binary() for name in _TEXT_FIELDS} | {"decision_date": pa.date32()}
_EARLIEST_DATE = dt.date(1000, 1, 1)  # four-digit years only: the key writes the date as YYYY-MM-DD
# UTF-8 bytes added per CP1251 byte (0 for ASCII, 1 for Cyrillic, 2 for e.g. `№` or `–`).
_EXTRA_BYTES = np.array(
    [0] * 0x80 + [len(bytes([b]).decode(ENCODING, "replace").encode()) - 1 for b in range(0x80, 0x100)],
    dtype=np.int64,
)
_NOT_BLANK = re.compile(rb"\S")
# Columns the parser hands on dictionary-encoded: the snapshot's constants (lineage) and its handful of
# authorities. lake.write_batches stores them as the strings they stand for without hashing millions of
# strings to build Parquet's dictionaries (measured: 1.1 -> 0.95 s to write 2 million lines). Snapshot
# tables (parse_snapshot, parse_files) hold plain strings, as REGISTRY_SNAPSHOT.
ENCODED_COLUMNS = ("authority", "source_id", "vintage", "source_file")
BATCH_SCHEMA = pa.schema(
    [
        f.with_type(pa.dictionary(pa.int32(), f.type)) if f.name in ENCODED_COLUMNS else f
        for f in REGISTRY_SNAPSHOT
    ]
)

# CP1251 bytes of the characters utf8_trim_whitespace removes (measured: \t \n \v \f \r, 0x1C–0x1F, space, NBSP).
_BLANK_BYTE = np.zeros(256, dtype=bool)
_BLANK_BYTE[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0xA0]] = True
_MOJIBAKE_LEAD = (0xD0, 0xD1)  # CP1251 "Р", "С" followed by a byte 0x80–0xBF: see MOJIBAKE_PATTERN


def _fast_batches(
    names: Sequence[str], read: Callable[[int], Data], vintage: str, source_id: str
) -> tuple[dt.datetime, Iterator[pa.RecordBatch]]:
    """(snapshot time, its rows as record batches: one per block the CSV reader split) of the files `names`
    (`read(i)` gives the bytes of the i-th; they are not kept).

    Everything that can fail (_Unusual) runs before this returns; the entry keys, which cannot fail, are
    hashed block by block while the returned iterator is consumed, so that the consumer (the Parquet
    writer, see lake.prefetched) writes a block while the next one is hashed.
    """
    snapshot_at, lengths, fields = _fast_fields(names, read)
    if fields is None:
        return snapshot_at, iter(BATCH_SCHEMA.empty_table().to_batches())
    sizes = [len(c) for c in fields["ips"].chunks if len(c)]  # a part holding no line adds no block
    checked, counts, first_keys = _check_fields(fields, key_rows=sizes[0])  # the first block's keys
    columns = _columns(checked, counts, list(names), lengths, snapshot_at, vintage, source_id)
    return snapshot_at, _keyed_batches(columns, sizes, first_keys)


def _keyed_batches(
    columns: dict[str, pa.ChunkedArray], sizes: list[int], first_keys: pa.ChunkedArray | None = None
) -> Iterator[pa.RecordBatch]:
    """BATCH_SCHEMA batches of `sizes` rows from _columns, each with its entry keys (those of the first
    batch when given) and repeat flags."""
    repeats = _RepeatFlags()
    start = 0
    for size in sizes:
        part = {name: values.slice(start, size) for name, values in columns.items()}
        keys = (
            first_keys
            if start == 0 and first_keys is not None
            else entry_keys(pa.table({name: part[name] for name in ENTRY_KEY_FIELDS}))
        )
        is_duplicate, is_repeat_key = repeats.next(keys, part["ips"])
        part |= {"entry_key": keys, "is_duplicate": is_duplicate, "is_repeat_key": is_repeat_key}
        arrays = [lake.one_array(_as_array(part[field.name], field.type)) for field in BATCH_SCHEMA]
        yield pa.RecordBatch.from_arrays(arrays, schema=BATCH_SCHEMA)
        start += size


class _RepeatFlags:
    """repeat_flags block by block: a line's flags depend only on the earlier lines with the same key,
    so each block is compared with the earlier lines whose key number (_key_numbers) it shares."""

    def __init__(self) -> None:
        self.numbers = np.zeros(0, np.uint64)  # of all earlier lines, in line order
        self.ordered = np.zeros(0, np.uint64)  # the same, sorted
        self.keys: list[pa.Array] = []
        self.ips: list[pa.Array] = []

    def next(self, keys: pa.ChunkedArray, ips: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
        numbers = _key_numbers(keys)
        ordered = np.sort(numbers)
        earlier = np.zeros(0, np.int64)
        if len(self.ordered) and len(numbers):  # sorted needles: searchsorted walks the haystack in order
            at = np.minimum(np.searchsorted(self.ordered, ordered), len(self.ordered) - 1)
            seen = ordered[self.ordered[at] == ordered]
            if len(seen):
                earlier = np.flatnonzero(np.isin(self.numbers, seen))
        before = len(earlier)
        if before:
            indices = pa.array(earlier)
            keys = pa.chunked_array(
                [*pa.chunked_array(self.keys, ENTRY_KEY_TYPE).take(indices).chunks, *keys.chunks]
            )
            ips = pa.chunked_array(
                [*pa.chunked_array(self.ips, pa.string()).take(indices).chunks, *ips.chunks]
            )
        is_duplicate, is_repeat_key = repeat_flags(keys, ips)
        keys, ips = keys.slice(before), ips.slice(before)
        self.keys.extend(keys.chunks)
        self.ips.extend(ips.chunks)
        self.numbers = np.concatenate([self.numbers, numbers])
        self.ordered = np.sort(np.concatenate([self.ordered, ordered]), kind="stable")  # merges two runs
        return is_duplicate.slice(before), is_repeat_key.slice(before)


def _fast_fields(
    names: Sequence[str], read: Callable[[int], Data]
) -> tuple[dt.datetime, list[int], dict[str, pa.ChunkedArray] | None]:
    """(snapshot time, lines per file, the six raw fields or None when there is no data line)."""
    snapshot_at: dt.datetime | None = None
    tables: list[pa.Table] = []
    for i, name in enumerate(names):
        data = read(i)
        check_encoding(data, name)
        updated, start = _updated_and_start(data, name, required=i == 0)
        if snapshot_at is None:
            snapshot_at = updated
        elif updated is not None and updated != snapshot_at:
            raise ParseError(f"{name}: 'Updated:' {updated.isoformat()} differs from {names[0]}'s")
        if i < len(names) - 1 and start < len(data) and data[-1:] != b"\n":
            raise ParseError(f"{name}: part does not end with a line break (split inside a line?)")
        tables.append(_read_fields(data, start))
        del data
    assert snapshot_at is not None
    lengths = [t.num_rows for t in tables]
    if not sum(lengths):
        return snapshot_at, lengths, None
    fields = {
        name: pa.chunked_array([c for t in tables for c in t.column(name).chunks], _FIELD_TYPES[name])
        for name in FIELD_NAMES
    }
    return snapshot_at, lengths, fields


def _updated_and_start(data: Data, source_file: str, required: bool) -> tuple[dt.datetime | None, int]:
    """split_updated without copying the body: the snapshot time and where the data lines start."""
    end = data.find(b"\n", 0, MAX_UPDATED_LINE + 2)
    first = data[: end if end >= 0 else MAX_UPDATED_LINE]
    if first.startswith(b"Updated:"):
        return parse_updated(first, source_file), end + 1 if end >= 0 else len(data)
    if required:
        raise ParseError(f"{source_file}: missing 'Updated:' line (first line: {first[:60]!r})")
    return None, 0


def _read_fields(data: Data, start: int) -> pa.Table:
    """The six fields of the data lines from `start` on (text fields as CP1251 bytes)."""
    if data.find(b"\x98", start) >= 0 or data.find(b"\x1f", start) >= 0:
        raise _Unusual  # a byte that is not CP1251, or the reader's separator of the line path
    if not _NOT_BLANK.search(data, start):  # blank lines only (bytes.strip's blanks)
        return pa.schema(_FIELD_TYPES.items()).empty_table()
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data).slice(start)),
            read_options=pacsv.ReadOptions(column_names=list(FIELD_NAMES), block_size=FAST_BLOCK_SIZE),
            parse_options=_unquoted(";"),
            convert_options=pacsv.ConvertOptions(
                column_types=_FIELD_TYPES,
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowException:  # a line with another field count (a `;` inside a URL, a short line), a
        raise _Unusual from None  # decision date that is not a plain YYYY-MM-DD…: the line path decides
    return table


def _check_fields(fields: dict[str, pa.ChunkedArray], key_rows: int) -> tuple[dict, dict, pa.ChunkedArray]:
    """(checked fields, element counts, entry keys of the first `key_rows` rows), as the line path would
    give; _Unusual when not vouched.

    The columns are independent, so two threads work on them (Arrow's kernels and NumPy release the GIL):
    first the text of every field, then the IP and URL checks while DuckDB hashes the entry keys.
    """
    dates = fields["decision_date"]
    if pc.min(dates).as_py() < _EARLIEST_DATE:
        raise _Unusual
    tasks = {
        "ips": (_ips_text, fields["ips"]),
        "url": (_optional_column, fields["url"]),
        "decision_number": (_required_column, fields["decision_number"]),
        "domain": (_optional_column, fields["domain"]),
        "authority": (_authority_column, fields["authority"]),
    }
    with ThreadPoolExecutor(max_workers=CHECK_THREADS, thread_name_prefix="rkn-parse") as pool:
        futures = {name: pool.submit(task, values) for name, (task, values) in tasks.items()}
        text = {name: future.result() for name, future in futures.items()}
        del futures, tasks
        fields.clear()
        checks = {
            "ip_count": pool.submit(_checked_count, text["ips"], FAST_IPS_PATTERN, _ips_are_valid, "|"),
            "url_count": pool.submit(
                _checked_count, text["url"], FAST_URLS_PATTERN, _urls_are_valid, LIST_SEPARATOR
            ),
        }
        checked = {**text, "decision_date": dates}
        keyed = pa.table({name: checked[name] for name in ENTRY_KEY_FIELDS})
        keys = entry_keys(keyed.slice(0, key_rows))
        counts = {name: future.result() for name, future in checks.items()}
    return checked, counts, keys


def _ips_text(raw: pa.ChunkedArray) -> pa.ChunkedArray:
    if not _is_ascii(raw):  # NBSP or worse: the line path decides
        raise _Unusual
    return _optional_column(raw)


def _checked_count(values, fast_pattern: str, exact_check, separator: str) -> pa.ChunkedArray:
    _vouch(values, fast_pattern, exact_check)
    return _element_count(values, separator)


def _optional_column(raw: pa.ChunkedArray) -> pa.ChunkedArray:
    """ips / domain / url: trimmed, empty as NULL (without copying the values when nothing changes)."""
    return pa.chunked_array([_empty_to_null(c) for c in _trimmed(raw).chunks], pa.string())


def _required_column(raw: pa.ChunkedArray) -> pa.ChunkedArray:
    """authority / decision_number: never empty, never UTF-8 read as CP1251 (MOJIBAKE_PATTERN)."""
    if _may_hold_mojibake(raw):
        raise _Unusual
    values = _trimmed(raw)
    if any(np.any(np.diff(_chunk_bytes(c)[0]) == 0) for c in values.chunks if len(c)):
        raise _Unusual
    return values


def _trimmed(raw: pa.ChunkedArray) -> pa.ChunkedArray:
    """Transcoded, then trimmed like the line path (utf8_trim_whitespace), only if a value needs it."""
    text = _transcode(raw)
    return pc.utf8_trim_whitespace(text) if _has_edge_blanks(raw) else text


def _has_edge_blanks(raw: pa.ChunkedArray) -> bool:
    """Some value starts or ends with a byte utf8_trim_whitespace removes (checked on the CP1251 bytes)."""
    for chunk in raw.chunks:
        offsets, data = _chunk_bytes(chunk)
        lengths = np.diff(offsets)
        filled = lengths > 0
        if np.any(_BLANK_BYTE[data[offsets[:-1][filled]]]) or np.any(
            _BLANK_BYTE[data[offsets[1:][filled] - 1]]
        ):
            return True
    return False


def _empty_to_null(chunk: pa.Array) -> pa.Array:
    """_blank_to_null for one chunk of trimmed strings, sharing the value buffers."""
    offsets, _ = _chunk_bytes(chunk)
    empty = np.diff(offsets) == 0
    if not np.any(empty):
        return chunk
    valid = ~empty
    if chunk.null_count:
        valid &= chunk.is_valid().to_numpy(zero_copy_only=False)
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        pa.string(),
        len(chunk),
        [bitmap, *chunk.buffers()[1:]],
        null_count=int(len(chunk) - valid.sum()),
        offset=chunk.offset,
    )


def _authority_column(raw: pa.ChunkedArray) -> pa.ChunkedArray:
    """A handful of distinct authorities: checked and transcoded once each, dictionary-encoded (spread to
    the rows when trimming made two of them equal: a dictionary holds each value once)."""
    encoded = pc.dictionary_encode(raw).combine_chunks()
    values = _required_column(pa.chunked_array([encoded.dictionary])).combine_chunks()
    if pc.count_distinct(values).as_py() < len(values):
        return pa.chunked_array([values.take(encoded.indices)])
    return pa.chunked_array([pa.DictionaryArray.from_arrays(encoded.indices, values)])


def _vouch(values, fast_pattern: str, exact_check) -> None:
    """Every non-NULL value matches fast_pattern, or passes exact_check (the line path's test)."""
    matches = pc.match_substring_regex(values, fast_pattern)
    others = pc.invert(pc.fill_null(matches, True))
    if pc.any(others).as_py() and not exact_check(pc.filter(values, others)):
        raise _Unusual


def _ips_are_valid(values) -> bool:
    elements, _, _ = _elements(values)
    not_v4 = pc.invert(pc.match_substring_regex(elements, IPV4_PATTERN))
    return all(":" in v and _is_ipv6(v) for v in pc.filter(elements, not_v4).to_pylist())


def _urls_are_valid(values) -> bool:
    lists = pc.split_pattern(values, LIST_SEPARATOR)
    elements = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    return bool(pc.all(pc.match_substring_regex(elements, URL_PATTERN)).as_py() is not False)


def _element_count(values, separator: str) -> pa.ChunkedArray:
    """Elements of a `separator`-joined list (split_pattern's count: non-overlapping); NULL has none.

    Counted on the bytes with NumPy (Arrow's count_substring took 0.4 s for 2 million ips and URLs):
    separators are rare, so only the places of their first byte are looked at closely.
    """
    pattern = separator.encode()
    return pa.chunked_array([_chunk_element_count(c, pattern) for c in values.chunks], pa.int64())


def _chunk_element_count(chunk: pa.Array, pattern: bytes) -> pa.Array:
    offsets, data = _chunk_bytes(chunk)
    width = len(pattern)
    at = np.flatnonzero(data == pattern[0])
    at = at[at <= len(data) - width]  # a whole separator fits
    for i in range(1, width):
        at = at[data[at + i] == pattern[i]]
    if width > 1 and len(at) > 1 and np.any(np.diff(at) < width):  # overlapping separators: rare
        counts = pc.add(pc.cast(pc.count_substring(chunk, pattern.decode()), pa.int64()), 1)
        return pc.fill_null(counts, 0)
    owner = np.searchsorted(offsets, at, side="right") - 1  # the value each separator starts in
    within = at + width <= offsets[owner + 1]  # and ends in
    counts = np.bincount(owner[within], minlength=len(chunk)) + 1
    if chunk.null_count:
        counts[~chunk.is_valid().to_numpy(zero_copy_only=False)] = 0
    return pa.array(counts, pa.int64())


def _chunk_bytes(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets rebased to 0, value bytes) of a binary/string array without copying."""
    offsets = np.frombuffer(chunk.buffers()[1], np.int32, len(chunk) + 1, chunk.offset * 4)
    data = chunk.buffers()[2]
    values = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    return offsets - offsets[0], values[offsets[0] : offsets[-1]]


def _is_ascii(values: pa.ChunkedArray) -> bool:
    return all(not len(b) or b.max() < 0x80 for b in (_chunk_bytes(c)[1] for c in values.chunks if len(c)))


def _may_hold_mojibake(values: pa.ChunkedArray) -> bool:
    """CP1251 bytes of "Р"/"С" followed by one of 0x80–0xBF somewhere (maybe across two values)."""
    for chunk in values.chunks:
        _, data = _chunk_bytes(chunk)
        if len(data) < 2:
            continue
        lead = (data[:-1] == _MOJIBAKE_LEAD[0]) | (data[:-1] == _MOJIBAKE_LEAD[1])
        if np.any(lead & (data[1:] >= 0x80) & (data[1:] <= 0xBF)):
            return True
    return False


def _transcode(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """CP1251 binary values as UTF-8 strings: ASCII chunks as they are, others decoded as one block."""
    return pa.chunked_array([_transcode_chunk(c) for c in values.chunks], pa.string())


def _transcode_chunk(chunk: pa.Array) -> pa.Array:
    offsets, data = _chunk_bytes(chunk)
    if not len(data) or data.max() < 0x80:
        return chunk.cast(pa.string())
    # UTF-8 bytes added before each offset: a running sum over the non-ASCII bytes only (a tenth of them)
    wide = np.flatnonzero(data >= 0x80)
    added = np.zeros(len(wide) + 1, dtype=np.int64)
    np.cumsum(_EXTRA_BYTES[data[wide]], out=added[1:])
    new_offsets = (offsets + added[np.searchsorted(wide, offsets)]).astype(np.int32)
    utf8 = data.tobytes().decode(ENCODING).encode("utf-8")
    return pa.Array.from_buffers(
        pa.string(),
        len(chunk),
        [chunk.buffers()[0], pa.py_buffer(new_offsets), pa.py_buffer(utf8)],
        null_count=chunk.null_count,
        offset=0,
    )


# ---- entry key (DuckDB) and repeat flags ------------------------------------------------------------
_KEY_SQL = """
select md5_number(concat_ws(chr(31), authority, decision_number, cast(decision_date as varchar),
                            coalesce(domain, ''), coalesce(url, ''))) as entry_key
from entries
"""
KEY_THREADS = 2


def entry_keys(entries: pa.Table) -> pa.ChunkedArray:
    """entry_key of every row of (authority, decision_number, decision_date, domain, url), in row order:
    the 16 bytes of the md5 digest (schema.ENTRY_KEY_TYPE).

    DuckDB hashes in parallel and keeps the input order (preserve_insertion_order, its default). Its
    md5_number is the digest as a 128-bit integer, which it hands to Arrow as decimal128 values: 16 bytes
    each, the digest's bytes in order (tests/sources/rkn_registry/test_parse.py checks them against
    hashlib), so they are reinterpreted as they are. md5() would format 32 hex digits: slower, and twice
    the bytes to store and read.
    """
    con = duckdb.connect(config={"threads": KEY_THREADS, "preserve_insertion_order": True})
    try:
        con.register("entries", entries)
        # one chunk: the table's batches then follow the fields' chunks (few, large Parquet row groups)
        numbers = con.sql(_KEY_SQL).to_arrow_table().column("entry_key").combine_chunks()
    finally:
        con.close()
    if getattr(numbers.type, "byte_width", None) != ENTRY_KEY_TYPE.byte_width:  # another DuckDB version
        raise ParseError(f"entry keys: DuckDB's md5_number gave {numbers.type}, not 16-byte values")
    digests = pa.Array.from_buffers(
        ENTRY_KEY_TYPE, len(numbers), [None, numbers.buffers()[1]], offset=numbers.offset
    )
    return pa.chunked_array([digests])


def repeat_flags(keys: pa.ChunkedArray, ips: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """(is_duplicate, is_repeat_key): the line's key (and ips) already appeared on an earlier line.

    Repeats are rare, so the keys are first compared as 64-bit numbers (their two halves combined, a
    sort); only lines whose number occurs twice are compared exactly, in line order.
    """
    n = len(keys)
    repeat_key, duplicate = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    numbers = _key_numbers(keys)
    ordered = np.sort(numbers)
    shared = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    if len(shared):
        rows = np.flatnonzero(np.isin(numbers, shared))
        candidate_keys = keys.take(pa.array(rows)).to_pylist()
        candidate_ips = ips.take(pa.array(rows)).to_pylist()
        seen_keys: set[str] = set()
        seen_lines: set[tuple[str, str | None]] = set()
        for row, key, ip in zip(rows.tolist(), candidate_keys, candidate_ips, strict=True):
            repeat_key[row] = key in seen_keys
            duplicate[row] = (key, ip) in seen_lines
            seen_keys.add(key)
            seen_lines.add((key, ip))
    return pa.array(duplicate), pa.array(repeat_key)


def _key_numbers(keys: pa.ChunkedArray) -> np.ndarray:
    """Each key's two 64-bit halves combined into one number (equal keys, equal numbers)."""
    parts = []
    for chunk in keys.chunks:
        if len(chunk):
            words = np.frombuffer(chunk.buffers()[1], np.uint64, len(chunk) * 2, chunk.offset * 16)
            words = words.reshape(-1, 2)
            parts.append(words[:, 0] ^ (words[:, 1] * np.uint64(0x9E3779B97F4A7C15)))
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


def duplicate_summary(table: pa.Table) -> dict[str, int]:
    """Counts for the gate's summary: lines, entries, exact repeats, decisions listed again with other IPs.

    Distinct entries are the lines that are not a repeat of an earlier key (is_repeat_key's definition).
    """
    duplicate = pc.sum(table.column("is_duplicate")).as_py() or 0
    repeat_key = pc.sum(table.column("is_repeat_key")).as_py() or 0
    return {
        "lines": table.num_rows,
        "entries": table.num_rows - repeat_key,
        "exact_duplicate_lines": duplicate,
        "same_key_other_ips_lines": repeat_key - duplicate,
    }


# ---- snapshot ---------------------------------------------------------------------------------------
def parse_snapshot(parts: Sequence[tuple[str, bytes]], vintage: str, source_id: str = SOURCE_ID) -> Snapshot:
    """One snapshot from its file(s) `(name, bytes)` in order: the whole registry at its `Updated:` time."""
    return _whole(*_parsed([name for name, _ in parts], lambda i: parts[i][1], vintage, source_id))


def _whole(snapshot_at: dt.datetime, batches: Iterator[pa.RecordBatch]) -> Snapshot:
    batches = list(batches)  # BATCH_SCHEMA's, or REGISTRY_SNAPSHOT's (_exact_snapshot's table)
    table = pa.Table.from_batches(batches, batches[0].schema if batches else BATCH_SCHEMA)
    return Snapshot(snapshot_at, table.cast(REGISTRY_SNAPSHOT))


def _parsed(
    names: Sequence[str], read: Callable[[int], Data], vintage: str, source_id: str
) -> tuple[dt.datetime, Iterator[pa.RecordBatch]]:
    """(snapshot time, batches) of the files `names` (`read(i)` gives the bytes of the i-th).

    The fast path (`_fast_batches`) reads well-formed files; anything it does not vouch for, errors
    included, is left to the line-by-line path (`_exact_snapshot`), which gives the precise message.
    Every check has run when this returns.
    """
    if not names:
        raise ParseError("no snapshot files given")
    try:
        return _fast_batches(names, read, vintage, source_id)
    except _Unusual:
        snapshot = _exact_snapshot(
            [(name, bytes(read(i))) for i, name in enumerate(names)], vintage, source_id
        )
        return snapshot.snapshot_at, iter(snapshot.table.to_batches())


class _Unusual(Exception):
    """The fast path cannot vouch for this input: parse it line by line (which also names any error)."""


def _exact_snapshot(parts: Sequence[tuple[str, bytes]], vintage: str, source_id: str) -> Snapshot:
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
    fields = {
        "ips": ips,
        "domain": domain,
        "url": url,
        "authority": f["authority"],
        "decision_number": f["decision_number"],
        "decision_date": decision_date,
    }
    counts = {"ip_count": ip_count, "url_count": url_count}
    columns = _columns(fields, counts, lines.files, lines.lengths, snapshot_at, vintage, source_id)
    return pa.Table.from_batches(list(_keyed_batches(columns, [n])), BATCH_SCHEMA).cast(REGISTRY_SNAPSHOT)


def _columns(
    fields: dict,
    counts: dict,
    files: list[str],
    lengths: list[int],
    snapshot_at: dt.datetime,
    vintage: str,
    source_id: str,
) -> dict[str, pa.ChunkedArray]:
    """The BATCH_SCHEMA columns but the entry key and the repeat flags (see _keyed_batches)."""
    n = sum(lengths)
    f = {name: _as_array(values, BATCH_SCHEMA.field(name).type) for name, values in fields.items()}
    part_of = np.repeat(np.arange(len(files), dtype=np.int32), lengths)
    row_number = np.concatenate([np.arange(1, k + 1, dtype=np.int64) for k in lengths])
    columns = {
        **f,
        **counts,
        "snapshot_at": pa.array(np.full(n, snapshot_at.replace(tzinfo=None), dtype="datetime64[us]")),
        "is_wildcard": pc.fill_null(pc.starts_with(f["domain"], "*."), False),
        "source_id": _repeat(source_id, n),
        "vintage": _repeat(vintage, n),
        "source_file": pa.DictionaryArray.from_arrays(pa.array(part_of), pa.array(files, pa.string())),
        "source_row_number": pa.array(row_number),
    }
    return {name: _as_array(values, BATCH_SCHEMA.field(name).type) for name, values in columns.items()}


def _repeat(value: str, n: int) -> pa.Array:
    """`value` n times, dictionary-encoded."""
    return pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], pa.string())
    )


def _as_array(values, arrow_type: pa.DataType) -> pa.ChunkedArray:
    if not isinstance(values, pa.ChunkedArray):
        values = pa.chunked_array([values])
    return values.cast(arrow_type) if values.type != arrow_type else values


# ---- files --------------------------------------------------------------------------------------
def snapshot_files(folder: Path) -> list[Path]:
    """The file(s) of the snapshot in `folder`: dump.csv, or dump-00.csv, dump-01.csv … in part order."""
    dump = folder / DUMP_FILE
    parts = split_parts(folder)
    if dump.is_file() and parts:
        raise LayoutError(f"{folder}: holds both {DUMP_FILE} and split parts dump-NN.csv; expected one form")
    if dump.is_file():
        return [dump]
    if not parts:
        raise LayoutError(f"{folder}: no {DUMP_FILE} and no dump-NN.csv parts")
    return parts


def split_parts(folder: Path) -> list[Path]:
    """The split parts dump-NN.csv lying in `folder`, in part order ([] when none); LayoutError unless their
    numbers are consecutive."""
    parts = sorted(
        (int(m.group(1)), p) for p in folder.iterdir() if p.is_file() and (m := PART_RE.match(p.name))
    )
    numbers = [n for n, _ in parts]
    if numbers and numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise LayoutError(f"{folder}: split parts are not consecutive: {[p.name for _, p in parts]}")
    return [p for _, p in parts]


def parse_files(paths: Sequence[Path], vintage: str, source_id: str = SOURCE_ID) -> Snapshot:
    """parse_snapshot of files; the fast path reads one file at a time and drops its bytes once split."""
    return _whole(*_parsed([p.name for p in paths], lambda i: _mapped(paths[i]), vintage, source_id))


def _mapped(path: Path) -> Data:
    """The file's bytes memory-mapped, read-only (b"" when it is empty): the fast path reads a 200 MB dump
    in place, without copying it into memory first (measured: 0.13 s less). Raw files are never rewritten."""
    with path.open("rb") as stream:
        if not os.fstat(stream.fileno()).st_size:
            return b""
        return mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)


def vintage_of(snapshot_at: dt.datetime) -> str:
    """A vintage id from the snapshot time (UTC), e.g. 2013-06-06T070500Z; sorts in time order."""
    return snapshot_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ")


def parse_vintage(raw_dir: Path, vintage: str, settings=None) -> Iterator[ParsedFile]:
    """The pipeline's entry point (pipelines/run.py stage_vintage): one snapshot per raw vintage."""
    paths = snapshot_files(Path(raw_dir))
    batches = snapshot_batches(paths, vintage)
    label = paths[0].name if len(paths) == 1 else f"{paths[0].name} … {paths[-1].name}"
    yield ParsedFile(DATASET, label, batches)


def snapshot_batches(
    paths: Sequence[Path], vintage: str, source_id: str = SOURCE_ID
) -> Iterator[pa.RecordBatch]:
    """parse_files(...).table.to_batches(), but ready to be written a block at a time.

    Every check runs (and any ParseError is raised) before this returns; the entry keys of the next block
    are hashed in a background thread while the consumer writes the current one (no Parquet file is then
    written before the whole snapshot is known to be valid).
    """
    _, batches = _parsed([p.name for p in paths], lambda i: _mapped(paths[i]), vintage, source_id)
    return lake.prefetched(batches)

"""The registry's history from its snapshots: when each entry appeared, was last seen and left.

The history is a pure function of the SET of loaded snapshots, ordered by snapshot_at (the `Updated:` time):
never state mutated in arrival order. Loading a snapshot twice, late (older than the newest) or in another
order therefore gives the same table, byte for byte: recompute with `build_history` over every snapshot
in the lake. `add_snapshot` is the fast path for the usual case (a snapshot newer than all loaded ones);
it gives exactly what `build_history` gives over the extended set (a test checks this step by step over
the 74 real snapshots) and refuses anything else, so callers fall back to the recomputation.

Grain: one row per spell of an entry, i.e. per maximal run of consecutive snapshots containing its
entry_key (the real registry drops entries and lists them again later: 178 of 3,608 keys in 2012-11 …
2014-04 have such gaps). Columns (HISTORY schema):
  entry_key, spell (1, 2, … in time order), the entry's attributes as in the spell's last snapshot
  (ips: the distinct ` | `-lists of that snapshot's lines for the key, sorted and joined with ` | `;
  the key's fields: domain, is_wildcard, url, authority, decision_number, decision_date),
  first_seen_at, last_seen_at, removed_at (the first snapshot after last_seen_at, NULL when the spell
  reaches the newest snapshot), is_active (removed_at IS NULL), snapshots_seen (snapshots in the spell).
State at time t (`state_at`): the keys of the spells with first_seen_at <= t and (removed_at IS NULL or
removed_at > t): at each snapshot time exactly that snapshot's key set.
Two loads with the same snapshot_at are one snapshot (their lines are united).
Row order: (first_seen_at, entry_key), so that a newer snapshot only appends rows (see the fast path).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterable, Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines import lake
from pipelines.errors import PipelineError
from pipelines.sources.rkn_registry.schema import ENTRY_KEY_TYPE, HISTORY, REGISTRY_SNAPSHOT, SNAPSHOT_AT_TYPE

SNAPSHOT_COLUMNS = (
    "snapshot_at",
    "entry_key",
    "ips",
    "domain",
    "is_wildcard",
    "url",
    "authority",
    "decision_number",
    "decision_date",
)

BATCH_ROWS = 262_144  # rows per streamed batch (and per Parquet row group of the stored history)

# The ips of a key listed on several lines of one snapshot: its distinct lists, sorted, joined with ` | `.
_IPS_SQL = "nullif(array_to_string(list_sort(list_distinct(list(ips))), ' | '), '')"

# One row per (snapshot, key): the lines of a key in one snapshot collapse to one presence.
_PRESENCE_SQL = f"""
select entry_key, snapshot_at, {_IPS_SQL} as ips,
       min(domain) as domain, bool_or(is_wildcard) as is_wildcard, min(url) as url,
       min(authority) as authority, min(decision_number) as decision_number,
       min(decision_date) as decision_date
from snaps
group by entry_key, snapshot_at
"""

_HISTORY_SQL = f"""
with presence as ({_PRESENCE_SQL}),
times as (
    select snapshot_at, row_number() over (order by snapshot_at) as idx
    from (select distinct snapshot_at from snaps)
),
runs as (
    select p.*, t.idx, t.idx - row_number() over (partition by p.entry_key order by t.idx) as island
    from presence p join times t using (snapshot_at)
),
spells as (
    select entry_key, island,
           min(snapshot_at) as first_seen_at, max(snapshot_at) as last_seen_at, max(idx) as last_idx,
           count(*) as snapshots_seen,
           arg_max_null(ips, idx) as ips, arg_max_null(domain, idx) as domain,
           arg_max(is_wildcard, idx) as is_wildcard, arg_max_null(url, idx) as url,
           arg_max(authority, idx) as authority, arg_max(decision_number, idx) as decision_number,
           arg_max(decision_date, idx) as decision_date
    from runs
    group by entry_key, island
)
select s.entry_key,
       row_number() over (partition by s.entry_key order by s.first_seen_at) as spell,
       s.ips, s.domain, s.is_wildcard, s.url, s.authority, s.decision_number, s.decision_date,
       s.first_seen_at, s.last_seen_at, t.snapshot_at as removed_at, t.snapshot_at is null as is_active,
       s.snapshots_seen
from spells s left join times t on t.idx = s.last_idx + 1
order by s.first_seen_at, s.entry_key
"""


def _snapshot_rows(snapshots: pa.Table | Iterable[pa.Table]) -> pa.Table:
    """The columns the history needs, from one table or several (e.g. one per lake vintage)."""
    tables = [snapshots] if isinstance(snapshots, pa.Table) else list(snapshots)
    if not tables:
        return pa.table({c: pa.array([], _snapshot_type(c)) for c in SNAPSHOT_COLUMNS})
    return pa.concat_tables([t.select(list(SNAPSHOT_COLUMNS)) for t in tables])


def _snapshot_type(column: str) -> pa.DataType:
    return REGISTRY_SNAPSHOT.field(column).type


def _run(sql: str, **tables: pa.Table) -> pa.Table:
    con = duckdb.connect()
    try:
        con.execute("set timezone = 'UTC'")
        for name, table in tables.items():
            con.register(name, table)
        result = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    return result.select(HISTORY.names).cast(HISTORY)


def history_batches(
    con: duckdb.DuckDBPyConnection, rows_per_batch: int | None = None
) -> Iterator[pa.RecordBatch]:
    """build_history's rows as HISTORY record batches of exactly `rows_per_batch` rows (the last one fewer).

    `con` holds a relation `snaps` (the SNAPSHOT_COLUMNS of the snapshots, e.g. a view over the lake's
    Parquet files). The result is streamed (never one whole table) and cut like `extended_batches`' output,
    so the same history always gives the same batches, hence the same Parquet bytes, whichever path made it.
    """
    rows_per_batch = rows_per_batch or BATCH_ROWS
    reader = con.sql(_HISTORY_SQL).to_arrow_reader(rows_per_batch)
    return rebatch((batch.select(HISTORY.names).cast(HISTORY) for batch in reader), rows_per_batch)


def rebatch(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """The same rows as contiguous batches of exactly `rows` rows (the last one fewer)."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        while batch.num_rows:
            part = batch.slice(0, rows - held)
            batch = batch.slice(part.num_rows)
            pending.append(part)
            held += part.num_rows
            if held == rows:
                yield _combined(pending)
                pending, held = [], 0
    if held:
        yield _combined(pending)


def _combined(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(batches) == 1:
        return batches[0]
    return pa.Table.from_batches(batches).combine_chunks().to_batches()[0]


def build_history(snapshots: pa.Table | Iterable[pa.Table]) -> pa.Table:
    """The history of every entry over the given snapshots (rows with snapshot_at, entry_key, attributes)."""
    return _run(_HISTORY_SQL, snaps=_snapshot_rows(snapshots))


def newest_snapshot_at(history: pa.Table) -> dt.datetime | None:
    value = pc.max(history.column("last_seen_at")).as_py()
    removed = pc.max(history.column("removed_at")).as_py()
    candidates = [v for v in (value, removed) if v is not None]
    return max(candidates) if candidates else None


def add_snapshot(history: pa.Table, snapshot: pa.Table) -> pa.Table:
    """History extended by one snapshot newer than every snapshot it holds (else PipelineError: recompute).

    Equal to build_history over the old snapshots plus this one (see `plan_extension` for how).
    """
    rows = _snapshot_rows(snapshot).combine_chunks()
    times = pc.unique(rows.column("snapshot_at")).to_pylist()
    if len(times) != 1:
        raise PipelineError(f"add_snapshot takes one snapshot, got {len(times)} snapshot times")
    new_at = times[0]  # naive UTC, like the history's times
    newest = newest_snapshot_at(history)
    if newest is not None and new_at <= newest:
        raise PipelineError(
            f"snapshot {new_at.isoformat()} is not newer than the history's newest {newest.isoformat()}: "
            "recompute with build_history over all snapshots"
        )
    history = history.select(HISTORY.names).cast(HISTORY)
    plan = plan_extension(history.select(PLAN_COLUMNS), rows.column("entry_key"), rows.column("ips"), new_at)
    new_rows = rows.select(NEW_SPELL_COLUMNS).take(pa.array(plan.new_rows))
    batches = extended_batches(
        plan, history.select(PLAN_COLUMNS), history.select(STREAMED_COLUMNS).to_batches(), new_rows
    )
    return pa.Table.from_batches(list(batches), HISTORY)


def state_at(history: pa.Table, at: dt.datetime) -> set[bytes]:
    """Entry keys in the registry as of `at`: those of the spells running at that time."""
    if at.tzinfo is not None:  # history times are naive UTC
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    at_scalar = pa.scalar(at, SNAPSHOT_AT_TYPE)
    started = pc.less_equal(history.column("first_seen_at"), at_scalar)
    removed = history.column("removed_at")
    not_gone = pc.or_kleene(pc.is_null(removed), pc.greater(removed, at_scalar))
    return set(pc.filter(history.column("entry_key"), pc.and_(started, not_gone)).to_pylist())


# ---- the fast path: one snapshot newer than the whole history ---------------------------------------
# The rows are in build_history's order (first_seen_at, entry_key): a new spell starts at the newest
# snapshot, so it goes after every older row. Extending the history by a newer snapshot therefore keeps
# every old row where it is (a continued spell is seen once more and takes the snapshot's ips, an ended one
# is closed) and appends the new spells in key order: the old rows are read and written back batch by
# batch, never gathered or merged, and the only sorts are of the keys (the snapshot's, and the history's
# to find each key's newest spell).
#
# Keys are md5 digests (16 bytes): their first and last 8 bytes as two big-endian 64-bit integers compare
# like the bytes (DuckDB's BLOB order, which build_history sorts by). A key is matched on its first half
# (unique among a few million random digests) and checked on its second; two different keys sharing a
# first half (odds ~1e-7 for 4 million keys) make `Unmergeable`, and the caller recomputes with
# build_history. So does a key column of another type, and a history not in build_history's order (e.g.
# written by an older version of this module).
#
# Attributes: the key is the md5 of domain, url, authority, decision_number and decision_date (schema.py),
# and is_wildcard follows from the domain, so a continued spell keeps its row's values for these; only its
# ips (not in the key) are taken from the new snapshot.

PLAN_COLUMNS = ["entry_key", "spell", "first_seen_at", "is_active"]
STREAMED_COLUMNS = [name for name in HISTORY.names if name not in PLAN_COLUMNS]
NEW_SPELL_COLUMNS = ["domain", "is_wildcard", "url", "authority", "decision_number", "decision_date"]


class Unmergeable(PipelineError):
    """The fast path cannot tell the keys apart exactly (not 16-byte digests, or a shared first half):
    recompute."""


@dataclasses.dataclass(frozen=True)
class Extension:
    """How one newer snapshot changes a history (`plan_extension`); rows are numbered from 0."""

    new_at: dt.datetime
    history_rows: int
    ended: np.ndarray  # per history row: an active spell the snapshot does not list (removed at new_at)
    ips: pa.ChunkedArray  # the ips of the snapshot's lines, then those of its keys listed on several lines
    continued_ips: np.ndarray  # per history row: the index into `ips` of a continued spell's ips, else -1
    new_rows: np.ndarray  # per new spell (in entry_key order): a snapshot row of its key
    new_keys: pa.Array
    new_spells: np.ndarray  # spell numbers: the key's older spells + 1
    new_ips: pa.Array


def key_words(keys: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) 8 bytes of each key as big-endian uint64: integer order = byte order. Unmergeable
    unless the keys are non-null 16-byte digests (schema.ENTRY_KEY_TYPE)."""
    chunks = keys.chunks if isinstance(keys, pa.ChunkedArray) else [keys]
    halves = [_chunk_words(chunk) for chunk in chunks if len(chunk)]
    if not halves:
        return np.empty(0, np.uint64), np.empty(0, np.uint64)
    return np.concatenate([h for h, _ in halves]), np.concatenate([lo for _, lo in halves])


def _chunk_words(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    if chunk.null_count or chunk.type != ENTRY_KEY_TYPE:
        raise Unmergeable(f"entry keys must be non-null {ENTRY_KEY_TYPE}, not {chunk.type}")
    words = np.frombuffer(chunk.buffers()[1], ">u8", len(chunk) * 2, chunk.offset * 16).reshape(-1, 2)
    words = words.astype(np.uint64)
    return words[:, 0], words[:, 1]


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """np.argsort(values, kind="stable") of uint64 values, about three times faster on millions of them.

    Each value's high bits and its index are packed into one uint64 and sorted (NumPy sorts plain integers
    with SIMD, but not indices): equal values keep their index order. Two different values that share
    the packed high bits come out in index order, not value order; that is detected and left to argsort.
    """
    count = len(values)
    bits = max(count - 1, 1).bit_length()
    packed = (values >> np.uint64(bits)) << np.uint64(bits) | np.arange(count, dtype=np.uint64)
    packed.sort()
    order = (packed & np.uint64((1 << bits) - 1)).astype(np.int64)
    ordered = values[order]
    if np.any(ordered[1:] < ordered[:-1]):
        return np.argsort(values, kind="stable")
    return order


@dataclasses.dataclass(frozen=True)
class HistoryKeys:
    """What the fast path needs of the old history's rows (`history_keys`)."""

    high: np.ndarray
    low: np.ndarray
    active: np.ndarray
    spell: np.ndarray
    order: np.ndarray  # rows sorted by key, each key's spells in time order (its newest last)


@dataclasses.dataclass(frozen=True)
class LineKeys:
    """A snapshot's lines grouped by key, in key order (`line_keys`)."""

    order: np.ndarray  # line numbers sorted by key
    starts: np.ndarray  # where each key's group starts in `order`
    high: np.ndarray  # per key
    low: np.ndarray


def history_keys(history: pa.Table) -> HistoryKeys:
    """The keys, activity and spell numbers of a history in build_history's order (PLAN_COLUMNS suffice)."""
    high, low = key_words(history.column("entry_key"))
    active = _numpy(history.column("is_active"))
    order = _check_order(high, low, _numpy(history.column("first_seen_at")), active)
    return HistoryKeys(high, low, active, _numpy(history.column("spell")), order)


def line_keys(keys: pa.ChunkedArray) -> LineKeys:
    """The snapshot's line keys sorted and grouped (a sort of 64-bit integers: the costly step)."""
    high, low = key_words(keys)
    order = stable_argsort(high)
    high, low = high[order], low[order]
    first = np.ones(len(order), bool)
    first[1:] = high[1:] != high[:-1]
    if np.any(low[1:][~first[1:]] != low[:-1][~first[1:]]):
        raise Unmergeable("two entry keys share their first 8 bytes")
    starts = np.flatnonzero(first)
    return LineKeys(order, starts, high[starts], low[starts])


def plan_extension(
    history: pa.Table | HistoryKeys, keys: pa.ChunkedArray, ips: pa.ChunkedArray, new_at, lines=None
) -> Extension:
    """The changes one snapshot (its lines' keys and ips) newer than all makes to a history.

    `history`: at least its PLAN_COLUMNS, in build_history's order, or their `history_keys`; `lines`:
    `line_keys(keys)` if already computed (derive computes both halves in parallel). Raises Unmergeable.
    """
    old = history if isinstance(history, HistoryKeys) else history_keys(history)
    lines = lines if lines is not None else line_keys(keys)
    high = old.high[old.order]
    last = np.searchsorted(high, lines.high, side="right") - 1  # the key's newest spell, or the one before
    at = np.maximum(last, 0)
    known = (last >= 0) & (high[at] == lines.high) if len(high) else np.zeros(len(lines.starts), bool)
    row = old.order[at] if len(high) else at  # history row of the key's newest spell
    if np.any(old.low[row[known]] != lines.low[known]):
        raise Unmergeable("two entry keys share their first 8 bytes")
    continues = known & old.active[row] if len(high) else known
    ips_source, ips_index = _key_ips(ips, lines.order, lines.starts)

    continued_ips = np.full(len(old.high), -1, np.int64)
    continued_ips[row[continues]] = ips_index[continues]
    fresh = np.flatnonzero(~continues)
    new_rows = lines.order[lines.starts[fresh]]
    return Extension(
        new_at=new_at,
        history_rows=len(old.high),
        ended=old.active & (continued_ips < 0),
        ips=ips_source,
        continued_ips=continued_ips,
        new_rows=new_rows,
        new_keys=lake.one_array(keys.take(pa.array(new_rows))),
        new_spells=np.where(known, old.spell[row] + 1 if len(high) else 1, 1)[fresh].astype(np.int64),
        new_ips=ips_source.take(pa.array(ips_index[fresh])),
    )


def _check_order(high: np.ndarray, low: np.ndarray, first_seen: np.ndarray, active: np.ndarray) -> np.ndarray:
    """The rows sorted by key (a stable sort: each key's spells stay in time order); Unmergeable unless the
    history is in (first_seen_at, entry_key) order with each key's active spell (if any) its newest."""
    if len(high) < 2:
        return np.arange(len(high))
    later, same_time = first_seen[1:] > first_seen[:-1], first_seen[1:] == first_seen[:-1]
    greater = (high[1:] > high[:-1]) | ((high[1:] == high[:-1]) & (low[1:] > low[:-1]))
    if not np.all(later | (same_time & greater)):
        raise Unmergeable("history rows are not in (first_seen_at, entry_key) order")
    order = stable_argsort(high)
    high, low, active = high[order], low[order], active[order]
    same = high[1:] == high[:-1]
    if np.any(low[1:][same] != low[:-1][same]):
        raise Unmergeable("two entry keys share their first 8 bytes")
    if np.any(active[:-1] & same):
        raise Unmergeable("an active spell is not its entry's last")
    return order


def _key_ips(
    ips: pa.ChunkedArray, order: np.ndarray, starts: np.ndarray
) -> tuple[pa.ChunkedArray, np.ndarray]:
    """(values, index per key group): the ips of each key, as build_history collapses a key's lines.

    A key on one line keeps that line's ips; a key on several lines (rare) gets _IPS_SQL over them,
    appended to the lines' values.
    """
    values = ips if isinstance(ips, pa.ChunkedArray) else pa.chunked_array([ips])
    index = order[starts]
    sizes = np.diff(np.append(starts, len(order)))
    repeated = sizes > 1
    if not repeated.any():
        return values, index
    positions = np.flatnonzero(np.repeat(repeated, sizes))
    groups = np.repeat(np.arange(len(starts)), sizes)[positions]
    table = pa.table({"key_group": pa.array(groups), "ips": values.take(pa.array(order[positions]))})
    con = duckdb.connect()
    try:
        con.register("lines", table)
        merged = con.sql(
            f"select key_group, {_IPS_SQL} as ips from lines group by key_group order by key_group"
        ).to_arrow_table()
    finally:
        con.close()
    index = index.copy()
    index[repeated] = len(values) + np.arange(int(repeated.sum()))
    merged_ips = merged.column("ips").cast(values.type)
    return pa.chunked_array(values.chunks + merged_ips.chunks, values.type), index


def _numpy(values: pa.ChunkedArray) -> np.ndarray:
    """A bool or 64-bit (int64, timestamp: as int64) column without nulls as one numpy array, from its buffers
    (to_numpy imports pandas)."""
    parts = []
    for chunk in values.chunks:
        if chunk.null_count:
            raise Unmergeable(f"unexpected nulls in {values.type} history column")
        if pa.types.is_boolean(chunk.type):
            bits = np.unpackbits(np.frombuffer(chunk.buffers()[1], np.uint8), bitorder="little")
            parts.append(bits[chunk.offset : chunk.offset + len(chunk)].astype(bool))
        else:
            parts.append(np.frombuffer(chunk.buffers()[1], np.int64, len(chunk), chunk.offset * 8))
    dtype = bool if pa.types.is_boolean(values.type) else np.int64
    return np.concatenate(parts) if parts else np.empty(0, dtype)


def extended_batches(
    plan: Extension,
    history: pa.Table,
    streamed: Iterable[pa.RecordBatch],
    new_spells: pa.Table,
    rows_per_batch: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """The extended history as HISTORY batches of exactly `rows_per_batch` rows (as history_batches cuts).

    `history`: the old history's PLAN_COLUMNS; `streamed`: its STREAMED_COLUMNS as batches, in row order
    (read while writing, so the whole old history is never in memory); `new_spells`: NEW_SPELL_COLUMNS of
    the snapshot rows `plan.new_rows`, in that order. The old rows come first, as they were but for the
    columns a continued or ended spell changes; the new spells follow.
    """
    ips = lake.one_array(plan.ips)

    def old_rows() -> Iterator[pa.RecordBatch]:
        begin = 0
        for part in streamed:
            end = begin + part.num_rows
            columns = dict(zip(STREAMED_COLUMNS, part.columns, strict=True))
            columns |= _updated_columns(plan, history, columns, ips, begin, end)
            yield pa.RecordBatch.from_arrays([columns[name] for name in HISTORY.names], schema=HISTORY)
            begin = end

    added = _new_spell_table(plan, new_spells).to_batches()
    return rebatch(itertools.chain(old_rows(), added), rows_per_batch or BATCH_ROWS)


def _updated_columns(
    plan: Extension, history: pa.Table, streamed: dict[str, pa.Array], ips: pa.Array, begin: int, end: int
) -> dict[str, pa.Array]:
    """Old rows begin..end of the columns that change or come from `history` (PLAN_COLUMNS).

    Continued spells are seen once more and take the snapshot's ips, ended ones are closed; `streamed`
    holds the rows' other columns.
    """
    at = pa.scalar(plan.new_at, SNAPSHOT_AT_TYPE)
    index, ended = plan.continued_ips[begin:end], plan.ended[begin:end]
    continued = index >= 0
    columns = {name: lake.one_array(history.column(name).slice(begin, end - begin)) for name in PLAN_COLUMNS}
    ips_now = streamed["ips"]
    if continued.any():  # the snapshot's ips for the continued spells (most are unchanged)
        ips_now = pc.replace_with_mask(ips_now, pa.array(continued), ips.take(pa.array(index[continued])))
    return columns | {
        "is_active": pc.and_(columns["is_active"], pa.array(~ended)),
        "ips": ips_now,
        "last_seen_at": pc.if_else(pa.array(continued), at, streamed["last_seen_at"]),
        "removed_at": pc.if_else(pa.array(ended), at, streamed["removed_at"]),
        "snapshots_seen": pc.add(streamed["snapshots_seen"], pa.array(continued.astype(np.int64))),
    }


def _new_spell_table(plan: Extension, new_spells: pa.Table) -> pa.Table:
    count = len(plan.new_rows)
    at = pa.array(np.full(count, np.datetime64(plan.new_at, "us")), SNAPSHOT_AT_TYPE)
    columns = {
        "entry_key": plan.new_keys,
        "spell": pa.array(plan.new_spells, pa.int64()),
        "ips": plan.new_ips,
        **{name: new_spells.column(name) for name in NEW_SPELL_COLUMNS},
        "first_seen_at": at,
        "last_seen_at": at,
        "removed_at": pa.nulls(count, SNAPSHOT_AT_TYPE),
        "is_active": pa.array(np.ones(count, bool)),
        "snapshots_seen": pa.array(np.ones(count, np.int64)),
    }
    return pa.table([columns[name] for name in HISTORY.names], schema=HISTORY).combine_chunks()

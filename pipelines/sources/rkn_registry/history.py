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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.errors import PipelineError
from pipelines.sources.rkn_registry.schema import HISTORY, REGISTRY_SNAPSHOT, SNAPSHOT_AT_TYPE

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

# One row per (snapshot, key): the lines of a key in one snapshot collapse to one presence.
_PRESENCE_SQL = """
select entry_key, snapshot_at,
       nullif(array_to_string(list_sort(list_distinct(list(ips))), ' | '), '') as ips,
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
order by s.entry_key, s.first_seen_at
"""

_ADD_SQL = f"""
with presence as ({_PRESENCE_SQL}),
active as (select * from history where is_active),
kept as (select * from history where not is_active),
continued as (
    select a.entry_key, a.spell, p.ips, p.domain, p.is_wildcard, p.url, p.authority, p.decision_number,
           p.decision_date, a.first_seen_at, p.snapshot_at as last_seen_at, null as removed_at,
           true as is_active, a.snapshots_seen + 1 as snapshots_seen
    from active a join presence p using (entry_key)
),
ended as (
    select a.entry_key, a.spell, a.ips, a.domain, a.is_wildcard, a.url, a.authority, a.decision_number,
           a.decision_date, a.first_seen_at, a.last_seen_at, (select new_at from arrival) as removed_at, false as is_active,
           a.snapshots_seen
    from active a anti join presence p using (entry_key)
),
started as (
    select p.entry_key, coalesce(h.spells, 0) + 1 as spell, p.ips, p.domain, p.is_wildcard, p.url,
           p.authority, p.decision_number, p.decision_date, p.snapshot_at as first_seen_at,
           p.snapshot_at as last_seen_at, null as removed_at, true as is_active, 1 as snapshots_seen
    from presence p
    anti join active a using (entry_key)
    left join (select entry_key, max(spell) as spells from history group by entry_key) h using (entry_key)
)
select * from kept
union all by name select * from continued
union all by name select * from ended
union all by name select * from started
order by entry_key, first_seen_at
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
    con: duckdb.DuckDBPyConnection, incremental: bool, rows_per_batch: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """The history as HISTORY record batches, computed inside `con` (streamed: never one whole table).

    `con` holds a relation `snaps` (the SNAPSHOT_COLUMNS of the snapshots, e.g. a view over the lake's
    Parquet files); for `incremental` (the add_snapshot fast path, one snapshot newer than all) also
    `history` (the current history) and `arrival` (one row: new_at, the new snapshot's time). The rows come
    in the same order as build_history's, so the same snapshots always give the same batches.
    """
    reader = con.sql(_ADD_SQL if incremental else _HISTORY_SQL).to_arrow_reader(rows_per_batch)
    for batch in reader:
        yield batch.select(HISTORY.names).cast(HISTORY)


def build_history(snapshots: pa.Table | Iterable[pa.Table]) -> pa.Table:
    """The history of every entry over the given snapshots (rows with snapshot_at, entry_key, attributes)."""
    return _run(_HISTORY_SQL, snaps=_snapshot_rows(snapshots))


def snapshot_times(history: pa.Table) -> list[dt.datetime]:
    """Distinct times the history saw (first/last seen and removal times), sorted."""
    times = pc.unique(
        pa.chunked_array(
            history.column("first_seen_at").chunks
            + history.column("last_seen_at").chunks
            + pc.drop_null(history.column("removed_at")).chunks,
            SNAPSHOT_AT_TYPE,
        )
    )
    return sorted(times.to_pylist())


def newest_snapshot_at(history: pa.Table) -> dt.datetime | None:
    value = pc.max(history.column("last_seen_at")).as_py()
    removed = pc.max(history.column("removed_at")).as_py()
    candidates = [v for v in (value, removed) if v is not None]
    return max(candidates) if candidates else None


def add_snapshot(history: pa.Table, snapshot: pa.Table) -> pa.Table:
    """History extended by one snapshot newer than every snapshot it holds (else PipelineError: recompute).

    Equal to build_history over the old snapshots plus this one.
    """
    rows = _snapshot_rows(snapshot)
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
    arrival = pa.table({"new_at": pa.array([new_at], SNAPSHOT_AT_TYPE)})
    return _run(_ADD_SQL, snaps=rows, history=history, arrival=arrival)


def state_at(history: pa.Table, at: dt.datetime) -> set[str]:
    """Entry keys in the registry as of `at`: those of the spells running at that time."""
    if at.tzinfo is not None:  # history times are naive UTC
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    at_scalar = pa.scalar(at, SNAPSHOT_AT_TYPE)
    started = pc.less_equal(history.column("first_seen_at"), at_scalar)
    removed = history.column("removed_at")
    not_gone = pc.or_kleene(pc.is_null(removed), pc.greater(removed, at_scalar))
    return set(pc.filter(history.column("entry_key"), pc.and_(started, not_gone)).to_pylist())

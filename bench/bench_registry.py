"""Benchmark: a 2,000,000-entry registry snapshot loaded over a history of the same size, against DuckDB.

Run by `make bench` (not a test). One run:

1. writes two synthetic zapret-info snapshots (CP1251, `;`-separated, `Updated:` first line) into a temporary
   folder: the first with `--rows` entries, the second a week later with 1 % of them changed (a third
   removed, a third with other IPs, a third new entries);
2. in child processes (imports done before the clock starts, page cache warm):
   (s) setup, not timed: both snapshots landed as raw vintages, the first loaded through the whole pipeline
       (parse -> staging -> gate -> lake -> registry_history of 2M spells);
   (a) DuckDB `COPY (SELECT * FROM read_csv(<second snapshot>, delim ';', skip 1, …)) TO parquet`. DuckDB
       has no CP1251 decoder without its `encodings` extension (not installable offline), so it reads the
       same file as latin-1: the same bytes, a single-byte decode of the same cost (Cyrillic comes out
       wrong, which does not matter for timing). (Reading a UTF-8 copy instead took 1.06-1.46 s.)
   (b) the pipeline on the second snapshot, as a run does it: parse -> staging Parquet, then the Great
       Expectations gate with the new history (the fast path: one snapshot newer than the history) computed
       beside it, then both into the lake; its child reports its own peak RSS. The Data Docs (HTML pages of
       the gate's results) are rendered after the clock stops and timed on their own line: `transparency
       run` renders them once after all its sources, not per source;
   (r) when ../shared/data/real/rkn_zi exists: `transparency backfill` of the 74 real snapshots into an
       empty data dir (land, parse, gate, lake for each, then the history).
3. prints the figures; the last lines are
   `bench rkn_registry rows=<n> pipeline_s=<t> duckdb_s=<t> ratio=<r> peak_rss_mb=<m>` and, with real data,
   `bench rkn_registry_replay snapshots=74 seconds=<t>`.

Targets: ratio (pipeline / DuckDB) <= 3, peak RSS of (b) <= 1.5 GB, replay < 60 s. `--rows N` for a quick run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from bench import measure

SOURCE_ID = "rkn_registry"
FIRST_AT, SECOND_AT = "2025-04-05 13:00:00 +0000", "2025-04-12 13:00:00 +0000"
FIRST_VINTAGE, SECOND_VINTAGE = "2025-04-05T130000Z", "2025-04-12T130000Z"
AUTHORITIES = ("Роскомнадзор", "суд", "Генпрокуратура", "МВД", "Роспотребнадзор", "ФНС", "Мосгорсуд")
CHANGE_EVERY = 300  # of each 300 entries: one removed, one with other IPs, and one new entry per removal
REAL_DIR = Path(os.environ.get("TRANSPARENCY_REAL_DIR", PROJECT_DIR.parent / "shared" / "data" / "real"))


# ---- data ------------------------------------------------------------------------------------------
def _join(*parts, sep: str = ""):
    """Element-wise join of arrays and constants, as CP1251 bytes (binary)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def binary(part):
        if isinstance(part, str):
            return pa.scalar(part.encode("cp1251"), pa.binary())
        return part.cast(pa.binary())

    return pc.binary_join_element_wise(*[binary(p) for p in parts], pa.scalar(sep.encode(), pa.binary()))


def _lines(ids, ip_shift: int = 0):
    """One binary (CP1251) array of dump lines, `\\n` included, for entry ids (numpy int64)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = np.asarray(ids, dtype=np.int64)
    text = pa.array(ids).cast(pa.string())

    def number(values):
        return pa.array(values).cast(pa.string())

    first_ip = _join(
        "10",
        number((ids >> 16) % 250 + 1),
        number((ids >> 8) % 250),
        number((ids + ip_shift) % 250 + 1),
        sep=".",
    )
    second_ip = _join("172.16", number((ids >> 8) % 250), number((ids + 7 + ip_shift) % 250 + 1), sep=".")
    ips = pc.if_else(
        pa.array(ids % 5 == 0), _join(first_ip, second_ip, sep=" | "), first_ip
    )  # a fifth: 2 IPs
    host = _join("d", text, ".example.test")
    domain = pc.if_else(pa.array(ids % 100 == 0), _join("*.", host), host)  # 1 % wildcards
    url = _join("http://", host, "/page/", number(ids % 97))
    authorities = pa.array([a.encode("cp1251") for a in AUTHORITIES], pa.binary())
    authority = authorities.take(pa.array(ids % len(AUTHORITIES)))
    decision = _join(number(ids % 1000), "/", text, "-РИ")
    date = pa.array(np.datetime64("2024-01-01") + (ids % 400).astype("timedelta64[D]")).cast(pa.string())
    return _join(ips, domain, url, authority, decision, _join(date, "\n"), sep=";")


def _write_lines(stream, lines) -> None:
    """The concatenated values of a binary array (each ends with its newline), straight from its buffers."""
    import numpy as np

    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    stream.write(memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]])


def write_snapshot(path: Path, updated: str, parts: list[tuple[object, int]]) -> None:
    """A dump file: the `Updated:` line, then one line per id of each (ids, ip_shift) part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        stream.write(f"Updated: {updated}\n".encode("ascii"))
        for ids, shift in parts:
            for start in range(0, len(ids), 500_000):  # 32-bit offsets: keep each array well below 2 GB
                _write_lines(stream, _lines(ids[start : start + 500_000], ip_shift=shift))


def generate(work: Path, rows: int) -> tuple[Path, Path]:
    """The two snapshots: ids 0..rows-1, then 1 % changed (removed, other IPs, added)."""
    import numpy as np

    ids = np.arange(rows, dtype=np.int64)
    first, second = work / "raw-1" / "dump.csv", work / "raw-2" / "dump.csv"
    write_snapshot(first, FIRST_AT, [(ids, 0)])
    removed, changed = ids % CHANGE_EVERY == 1, ids % CHANGE_EVERY == 2
    added = np.arange(rows, rows + int(removed.sum()), dtype=np.int64)
    write_snapshot(second, SECOND_AT, [(ids[~removed & ~changed], 0), (ids[changed], 3), (added, 0)])
    return first, second


# ---- children --------------------------------------------------------------------------------------
def _settings(work: Path):
    from pipelines.settings import load_settings

    return load_settings(data_dir=work / "data")


def child_setup(work: Path) -> dict:
    """Land both snapshots, load the first through the pipeline (the 2M-entry history). Not timed."""
    from pipelines import run
    from pipelines.fetch import land_files
    from pipelines.registry import get_source

    spec, settings = get_source(SOURCE_ID), _settings(work)
    start = time.perf_counter()
    first = land_files(spec, settings, {"dump.csv": work / "raw-1" / "dump.csv"}, FIRST_VINTAGE)
    land_files(spec, settings, {"dump.csv": work / "raw-2" / "dump.csv"}, SECOND_VINTAGE)
    staged = run.stage_vintage(spec, settings, FIRST_VINTAGE, first.raw_dir)
    run.gate_vintage(spec, settings, FIRST_VINTAGE, staged)
    derived = run.publish_to_lake(spec, settings, FIRST_VINTAGE, staged)
    from pipelines.lake import row_count

    return {
        "seconds": time.perf_counter() - start,
        "history_rows": row_count(derived["registry_history"]),
        "peak_rss_mb": measure.peak_rss_mb(),
    }


def child_duckdb(work: Path) -> dict:
    import duckdb

    columns = (
        "{'ips': 'VARCHAR', 'domain': 'VARCHAR', 'url': 'VARCHAR', 'authority': 'VARCHAR', "
        "'decision_number': 'VARCHAR', 'decision_date': 'DATE'}"
    )
    con = duckdb.connect()
    source, target = work / "raw-2" / "dump.csv", work / "duckdb.parquet"
    start, cpu = time.perf_counter(), measure.cpu()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{source}', delim = ';', header = false, skip = 1, quote = '', "
        f"escape = '', encoding = 'latin-1', columns = {columns})) TO '{target}' (FORMAT parquet)"
    )
    out = {"seconds": time.perf_counter() - start, "cpu_s": measure.cpu() - cpu}
    con.close()
    out["peak_rss_mb"] = measure.peak_rss_mb()
    return out


def child_pipeline(work: Path) -> dict:
    import duckdb_engine  # noqa: F401 - imported lazily by the gate, like GX: module import stays off the clock
    import great_expectations  # noqa: F401 - the gate imports it lazily; keep that off the clock

    from pipelines import gate, lake, run
    from pipelines.registry import get_source

    spec, settings = get_source(SOURCE_ID), _settings(work)
    raw_dir = settings.raw_dir / SOURCE_ID / SECOND_VINTAGE
    gate._context(settings)  # the Great Expectations context: started once per process, off the clock
    marks = [("start", time.perf_counter(), measure.cpu())]
    staged = run.stage_vintage(spec, settings, SECOND_VINTAGE, raw_dir)
    marks.append(("parse_write", time.perf_counter(), measure.cpu()))
    # what a run does next: the gate, and the new history computed beside it, then both into the lake
    result = run.IngestResult(SOURCE_ID, SECOND_VINTAGE, changed=False)
    run.gate_and_publish(spec, settings, SECOND_VINTAGE, staged, result, docs=False)
    marks.append(("gate_lake_derive", time.perf_counter(), measure.cpu()))
    published, derived = result.lake_paths, result.lake_paths
    phases = {name: (t - marks[i][1], c - marks[i][2]) for i, (name, t, c) in enumerate(marks[1:])}
    docs_start, docs_cpu = time.perf_counter(), measure.cpu()
    gate.build_data_docs(settings)  # `transparency run` renders them once after all its sources: not timed
    return {
        "seconds": marks[-1][1] - marks[0][1],
        "cpu_s": marks[-1][2] - marks[0][2],
        "docs": (time.perf_counter() - docs_start, measure.cpu() - docs_cpu),
        "phases": phases,
        "rows": lake.row_count(published["registry_snapshot"]),
        "history_rows": lake.row_count(derived["registry_history"]),
        "notes": result.notes,
        "peak_rss_mb": measure.peak_rss_mb(),
    }


def child_replay(work: Path) -> dict:
    import duckdb_engine  # noqa: F401
    import great_expectations  # noqa: F401

    from pipelines import run

    settings = _settings(work / "replay")
    start = time.perf_counter()
    result = run.backfill(SOURCE_ID, settings, REAL_DIR / "rkn_zi")
    return {
        "seconds": time.perf_counter() - start,
        "snapshots": len(result.loaded),
        "quarantined": len(result.quarantined),
        "peak_rss_mb": measure.peak_rss_mb(),
    }


CHILDREN = {"setup": child_setup, "duckdb": child_duckdb, "pipeline": child_pipeline, "replay": child_replay}


def run_child(mode: str, work: Path) -> dict:
    return measure.run_child(__file__, mode, "--work", str(work))


# ---- main ------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="entries of the generated snapshots")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each side (medians are reported)")
    parser.add_argument("--skip-replay", action="store_true", help="do not replay the real snapshots")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.work), default=str))
        return

    with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        _, second = generate(work, args.rows)
        size_mb = second.stat().st_size / 1024**2
        print(
            f"generated 2 snapshots of {args.rows} entries ({size_mb:.0f} MB CP1251 each) "
            f"in {time.perf_counter() - started:.1f}s: {work}"
        )
        setup = run_child("setup", work)
        print(
            f"(s) setup, first snapshot through the pipeline: {setup['seconds']:.2f}s, "
            f"history {setup['history_rows']} spells, peak RSS {setup['peak_rss_mb']:.0f} MB (not timed)"
        )
        # DuckDB and the pipeline alternate, `--repeat` times each (the pipeline from a copy of the
        # set-up data dir every time); the figures are the medians: one run on a shared 2-core machine
        # varies by a third.
        pristine = work / "pristine"
        shutil.copytree(work / "data", pristine)
        ducks, runs = [], []
        for attempt in range(args.repeat):
            ducks.append(run_child("duckdb", work))
            shutil.rmtree(work / "data")
            shutil.copytree(pristine, work / "data")
            runs.append(run_child("pipeline", work))
            print(
                f"(run {attempt + 1}) duckdb {ducks[-1]['seconds']:.2f}s, pipeline {runs[-1]['seconds']:.2f}s"
            )
        latin1 = sorted(ducks, key=lambda d: d["seconds"])[len(ducks) // 2]
        ours = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        print(
            f"(a) duckdb COPY read_csv -> parquet (median): {latin1['seconds']:.2f}s on the CP1251 file read as "
            f"latin-1 (cpu {latin1['cpu_s']:.2f}s)"
        )
        for name, (seconds, cpu) in ours["phases"].items():
            print(f"(b) {name}: {seconds:.2f}s (cpu {cpu:.2f}s)")
        print(f"(b) gate notes: {' / '.join(ours['notes'])}")
        print(
            f"(b) then the Data Docs (rendered once per run, after all its sources; not in the total): "
            f"{ours['docs'][0]:.2f}s (cpu {ours['docs'][1]:.2f}s)"
        )
        print(
            f"(b) total (median) {ours['seconds']:.2f}s (cpu {ours['cpu_s']:.2f}s), {ours['rows']} lines, history "
            f"{ours['history_rows']} spells, peak RSS {max(r['peak_rss_mb'] for r in runs):.0f} MB "
            "(targets: ratio <= 3, peak RSS <= 1536 MB)"
        )
        replay = None
        if not args.skip_replay and (REAL_DIR / "rkn_zi").is_dir():
            replay = run_child("replay", work)
            print(
                f"(r) backfill of {replay['snapshots']} real snapshots: {replay['seconds']:.1f}s, "
                f"{replay['quarantined']} quarantined, peak RSS {replay['peak_rss_mb']:.0f} MB (target < 60 s)"
            )
        ratio = ours["seconds"] / latin1["seconds"]
        print(
            f"bench rkn_registry rows={args.rows} pipeline_s={ours['seconds']:.2f} "
            f"duckdb_s={latin1['seconds']:.2f} ratio={ratio:.2f} peak_rss_mb={max(r['peak_rss_mb'] for r in runs):.0f}"
        )
        if replay is not None:
            print(
                f"bench rkn_registry_replay snapshots={replay['snapshots']} seconds={replay['seconds']:.1f}"
            )


if __name__ == "__main__":
    main()

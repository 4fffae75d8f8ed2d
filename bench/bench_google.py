"""Benchmark: parse + stage + gate a 5,000,000-row Google granular file, against DuckDB's CSV-to-Parquet.

Run by `make bench` (not a test). One run:

1. writes a synthetic CSV in the granular layout of google-government-removal-requests.csv (unique natural
   keys, real territory codes and requester labels, item outcomes adding up, so the gate passes) into a
   temporary folder;
2. times, each in its own child process (imports done before the clock starts, page cache warm for both):
   (a) DuckDB `COPY (SELECT * FROM read_csv('<f>')) TO '<p>' (FORMAT parquet)`;
   (p) our parse alone (parse_csv, batches consumed and dropped), for information;
   (b) the pipeline: parse_csv -> pipelines.lake.write_batches into staging Parquet -> the Great
       Expectations gate pipelines.gate.validate_batch; its child reports its own peak RSS.
3. prints the figures; the last line is
   `bench google_removals rows=<n> pipeline_s=<t> duckdb_s=<t> ratio=<r> peak_rss_mb=<m>`.

Targets: ratio (pipeline / DuckDB) <= 2 and peak RSS of (b) < 1 GB. `--rows N` makes a quick run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from bench import measure

SOURCE_ID = "google_removals"
DATASET = "requests_granular"
VINTAGE = "2026-03"
MEMBER = "google-government-removals/google-government-removal-requests.csv"
HEADER = (
    "time_period", "country", "cldr_territory", "requestor", "product", "reason", "number_of_requests",
    "items_requested_removal", "items_removed_legal", "items_removed_policy", "items_content_not_found",
    "items_not_enough_info", "items_no_action_taken", "items_content_already_removed",
)  # fmt: skip
TERRITORIES = (
    "AE", "AR", "AT", "AU", "AZ", "BD", "BE", "BR", "BY", "CA", "CH", "CN", "CO", "CZ", "DE", "DK",
    "EG", "ES", "FI", "FR", "GB", "GR", "HK", "HU", "ID", "IE", "IL", "IN", "IQ", "IR", "IT", "JP",
    "KG", "KR", "KZ", "LK", "MX", "MY", "NL", "NO", "NZ", "PK", "PL", "PT", "RO", "RU", "SA", "SE",
    "SG", "TH", "TR", "UA", "US", "UZ", "VN",
)  # fmt: skip
COUNTRIES = tuple((f"Country {code}", code) for code in TERRITORIES) + (("UNKNOWN", "EUROPOL"),)
REQUESTERS = (
    "Court Order directed at 3rd party", "Court Order directed at Google", "Consumer Protection Authority",
    "Data Protection Authority", "Government Officials", "Information and Communications Authority",
    "Military", "Other", "Police", "Supression Orders",
)  # fmt: skip
PRODUCTS = (
    "YouTube", "Web Search", "Blogger", "Images", "Play Apps", "Local Reviews", "Gmail", "Docs", "Places",
    "Sites", "My Business Website", "Adwords", "Maps", "Picasa", "Other", "App Engine", "Cloud Storage",
    "Groups", "Web Search Autocomplete", "Local Photos", "Plus", "Earth", "Street View", "Shopping", "Books",
    "Knowledge Graph", "Chrome Web Store", "Adsense", "Hangouts", "Voice", "Public DNS", "Play Music",
    "Videos", "News", "Translate", "Bard", "Product Search", "Orkut", "Feedburner",
    "Google Earth, Google Maps, and Panoramio",
)  # fmt: skip
REASONS = (
    "Defamation", "Privacy and security", "Regulated goods and services", "Other", "Fraud", "Copyright",
    "National security", "Obscenity/Nudity", "Trademark", "Bullying harassment", "Impersonation",
    "Hate speech", "Unspecified", "Adult content", "Violence", "Government criticism", "Drug abuse",
    "Religious offense", "Electoral law", "Suicide promotion", "Business complaints", "Geographical dispute",
)  # fmt: skip
HALVES = tuple(
    f"{half} {year}" for year in range(2019, 2026) for half in ("January - June", "July - December")
)[:13]
OUTCOME_ODDS = (0.5, 0.4, 0.2, 0.3, 0.5, 0.1)  # chance that an outcome column is non-zero


# ---- data ------------------------------------------------------------------------------------------
def generate_csv(path: Path, rows: int, seed: int = 2026) -> None:
    """A granular-layout CSV with `rows` unique (period, country, requester, product, reason) keys."""
    import duckdb
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    products = list(PRODUCTS)
    radix = [len(HALVES), len(COUNTRIES), len(REQUESTERS), 0, len(REASONS)]
    fixed = radix[0] * radix[1] * radix[2] * radix[4]
    while len(products) * fixed < rows * 5 // 4:  # keep keys unique however many rows are asked for
        products.append(f"Product {len(products) + 1}")
    radix[3] = len(products)
    space = fixed * len(products)
    stride = next(s for s in range(1_000_003, space + 1_000_003, 2) if np.gcd(s, space) == 1)
    index = (np.arange(rows, dtype=np.int64) * stride) % space  # a permutation: distinct keys
    digits = []
    for base in reversed(radix):
        digits.append(index % base)
        index //= base
    period, country, requester, product, reason = reversed(digits)

    def pick(values, positions):
        return pa.array(values).take(pa.array(positions))

    columns = {
        "time_period": pick(HALVES, period),
        "country": pick([c[0] for c in COUNTRIES], country),
        "cldr_territory": pick([c[1] for c in COUNTRIES], country),
        "requestor": pick(REQUESTERS, requester),
        "product": pick(products, product),
        "reason": pick(REASONS, reason),
        "number_of_requests": pa.array(rng.integers(1, 60, rows)),
    }
    outcomes = [rng.integers(0, 40, rows) * (rng.random(rows) < odds) for odds in OUTCOME_ODDS]
    columns["items_requested_removal"] = pa.array(np.sum(outcomes, axis=0))
    for name, values in zip(HEADER[8:], outcomes, strict=True):
        columns[name] = pa.array(values)
    con = duckdb.connect()
    con.register("generated", pa.table(columns))
    con.execute(f"COPY generated TO '{path}' (HEADER, DELIMITER ',')")
    con.close()


# ---- children --------------------------------------------------------------------------------------
def child_duckdb(csv_path: Path, work: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    target = work / "duckdb.parquet"
    start, cpu = time.perf_counter(), measure.cpu()
    con.execute(f"COPY (SELECT * FROM read_csv('{csv_path}')) TO '{target}' (FORMAT parquet)")
    return {
        "seconds": time.perf_counter() - start,
        "cpu_s": measure.cpu() - cpu,
        "peak_rss_mb": measure.peak_rss_mb(),
    }


def child_parse(csv_path: Path, work: Path) -> dict:
    from pipelines.sources.google_removals.parse import parse_csv

    start, cpu = time.perf_counter(), measure.cpu()
    with open(csv_path, "rb") as stream:
        rows = sum(batch.num_rows for batch in parse_csv(stream, MEMBER, VINTAGE).batches)
    return {
        "seconds": time.perf_counter() - start,
        "cpu_s": measure.cpu() - cpu,
        "rows": rows,
        "peak_rss_mb": measure.peak_rss_mb(),
    }


def child_pipeline(csv_path: Path, work: Path) -> dict:
    import duckdb_engine  # noqa: F401 - imported lazily by the gate, like GX: module import stays off the clock
    import great_expectations  # noqa: F401 - the gate imports it lazily; keep that off the clock

    from pipelines import gate, lake
    from pipelines.settings import load_settings
    from pipelines.sources.google_removals.parse import parse_csv
    from pipelines.sources.google_removals.schema import SCHEMAS

    settings = load_settings(data_dir=work / "data")
    target = lake.partition_dir(settings.staging_dir, SOURCE_ID, DATASET, VINTAGE) / lake.PART
    start, cpu = time.perf_counter(), measure.cpu()
    with open(csv_path, "rb") as stream:
        parsed = parse_csv(stream, MEMBER, VINTAGE)
        rows = lake.write_batches(target, SCHEMAS[parsed.dataset], parsed.batches)
    staged, staged_cpu = time.perf_counter(), measure.cpu()
    result = gate.validate_batch(settings, SOURCE_ID, parsed.dataset, VINTAGE, target, previous_rows=None)
    end, end_cpu = time.perf_counter(), measure.cpu()
    return {
        "seconds": end - start,
        "cpu_s": end_cpu - cpu,
        "parse_write_s": staged - start,
        "parse_write_cpu_s": staged_cpu - cpu,
        "gate_s": end - staged,
        "gate_cpu_s": end_cpu - staged_cpu,
        "gate_passed": result.passed,
        "gate_failed": result.failed[:5],
        "rows": rows,
        "parquet_mb": target.stat().st_size / 1024**2,
        "peak_rss_mb": measure.peak_rss_mb(),
    }


CHILDREN = {"duckdb": child_duckdb, "parse": child_parse, "pipeline": child_pipeline}


def run_child(mode: str, csv_path: Path, work: Path) -> dict:
    return measure.run_child(__file__, mode, "--csv", str(csv_path), "--work", str(work))


# ---- main ------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows of the generated file")
    parser.add_argument("--skip-parse-only", action="store_true", help="do not time the parse alone")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.csv, args.work)))
        return

    with tempfile.TemporaryDirectory(prefix="bench-google-") as tmp:
        work = Path(tmp)
        csv_path = work / "google-government-removal-requests.csv"
        started = time.perf_counter()
        generate_csv(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1024**2
        took = time.perf_counter() - started
        print(f"generated {args.rows} rows ({size_mb:.0f} MB) in {took:.1f}s: {csv_path}")

        duck = run_child("duckdb", csv_path, work)
        print(f"(a) duckdb COPY read_csv -> parquet: {duck['seconds']:.2f}s (cpu {duck['cpu_s']:.2f}s)")
        if not args.skip_parse_only:
            alone = run_child("parse", csv_path, work)
            print(
                f"(p) parse_csv alone: {alone['seconds']:.2f}s (cpu {alone['cpu_s']:.2f}s), "
                f"{alone['seconds'] / duck['seconds']:.2f}x duckdb, peak RSS {alone['peak_rss_mb']:.0f} MB"
            )
        ours = run_child("pipeline", csv_path, work)
        print(
            f"(b) parse + write staging parquet: {ours['parse_write_s']:.2f}s "
            f"(cpu {ours['parse_write_cpu_s']:.2f}s), {ours['parquet_mb']:.0f} MB, {ours['rows']} rows"
        )
        failed = "" if ours["gate_passed"] else f" failed={ours['gate_failed']}"
        print(
            f"(b) gate (Great Expectations): {ours['gate_s']:.2f}s (cpu {ours['gate_cpu_s']:.2f}s), "
            f"passed={ours['gate_passed']}{failed}"
        )
        print(
            f"(b) total {ours['seconds']:.2f}s (cpu {ours['cpu_s']:.2f}s), "
            f"peak RSS {ours['peak_rss_mb']:.0f} MB (targets: ratio <= 2, peak RSS < 1024 MB)"
        )
        ratio = ours["seconds"] / duck["seconds"]
        print(
            f"bench google_removals rows={args.rows} pipeline_s={ours['seconds']:.2f} "
            f"duckdb_s={duck['seconds']:.2f} ratio={ratio:.2f} peak_rss_mb={ours['peak_rss_mb']:.0f}"
        )


if __name__ == "__main__":
    main()

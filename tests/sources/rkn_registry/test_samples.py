"""The synthetic sample snapshots: what scripts/make_rkn_samples.py writes, byte for byte, and what they show."""

from __future__ import annotations

import datetime as dt
import importlib.util

from pipelines.settings import PROJECT_DIR
from pipelines.sources.rkn_registry.history import build_history
from pipelines.sources.rkn_registry.parse import duplicate_summary, parse_files, snapshot_files
from tests.conftest import SAMPLES_DIR

SAMPLES = SAMPLES_DIR / "rkn_registry"
VINTAGES = ("2025-04-05", "2025-05-10", "2025-06-14")


def snapshots():
    return [parse_files(snapshot_files(SAMPLES / v), v) for v in VINTAGES]


def test_samples_are_reproduced_by_the_script(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "make_rkn_samples", PROJECT_DIR / "scripts" / "make_rkn_samples.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.write(tmp_path)
    for path in written:
        relative = path.relative_to(tmp_path)
        assert (SAMPLES / relative).read_bytes() == path.read_bytes(), relative
    on_disk = {p.relative_to(SAMPLES) for p in SAMPLES.rglob("*") if p.is_file()}
    assert on_disk == {p.relative_to(tmp_path) for p in written}  # no stale sample left behind


def test_samples_fall_inside_2025q2_and_the_last_is_split():
    snaps = snapshots()
    assert [s.snapshot_at.date() for s in snaps] == [
        dt.date(2025, 4, 5),
        dt.date(2025, 5, 10),
        dt.date(2025, 6, 14),
    ]
    assert [p.name for p in snapshot_files(SAMPLES / VINTAGES[-1])] == ["dump-00.csv", "dump-01.csv"]


def test_samples_hold_a_wildcard_exact_repeats_and_a_decision_listed_with_other_ips():
    snaps = snapshots()
    assert any(d and d.startswith("*.") for d in snaps[0].table.column("domain").to_pylist())
    counts = duplicate_summary(snaps[1].table)
    assert counts["exact_duplicate_lines"] >= 1 and counts["same_key_other_ips_lines"] >= 1


def test_entries_are_added_and_removed_by_at_least_two_authorities_between_snapshots():
    history = build_history([s.table for s in snapshots()]).to_pylist()
    first = snapshots()[0].snapshot_at.replace(tzinfo=None)
    added = {r["authority"] for r in history if r["first_seen_at"] > first}
    removed = {r["authority"] for r in history if r["removed_at"] is not None}
    assert len(added) >= 2 and len(removed) >= 2
    assert any(r["spell"] == 2 and r["is_wildcard"] for r in history)  # the wildcard left and came back

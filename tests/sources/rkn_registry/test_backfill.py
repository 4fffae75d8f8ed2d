"""Ordering a backfill folder of registry snapshots: by their `Updated:` lines, one entry per snapshot."""

from __future__ import annotations

import shutil

import pytest

from pipelines.errors import ParseError, PipelineError
from pipelines.sources.rkn_registry.backfill import snapshots
from tests.conftest import SAMPLES_DIR, require_real

SAMPLES = SAMPLES_DIR / "rkn_registry"


def dump(updated: str, *lines: str) -> bytes:
    return ("\n".join([f"Updated: {updated}", *lines]) + "\n").encode("cp1251")


LINE = "192.0.2.1;a.example.test;http://a.example.test/;суд;1/2025;2025-01-01"


def test_files_and_snapshot_folders_are_ordered_by_their_updated_lines(tmp_path):
    shutil.copytree(SAMPLES / "2025-06-14", tmp_path / "a-june")  # split parts, folder named to sort first
    (tmp_path / "z-april.csv").write_bytes((SAMPLES / "2025-04-05" / "dump.csv").read_bytes())
    shutil.copytree(SAMPLES / "2025-05-10", tmp_path / "m-may")
    listed = snapshots(tmp_path)
    assert [vintage for vintage, _ in listed] == [
        "2025-04-05T130900Z",
        "2025-05-10T220900Z",
        "2025-06-14T210900Z",
    ]
    assert listed[0][1] == {"dump.csv": tmp_path / "z-april.csv"}
    assert listed[1][1] == {"dump.csv": tmp_path / "m-may" / "dump.csv"}
    assert list(listed[2][1]) == ["dump-00.csv", "dump-01.csv"]


def test_split_parts_lying_in_the_folder_itself_are_one_snapshot(tmp_path):
    for part in ("dump-00.csv", "dump-01.csv"):
        shutil.copy(SAMPLES / "2025-06-14" / part, tmp_path / part)
    assert snapshots(tmp_path) == [
        (
            "2025-06-14T210900Z",
            {"dump-00.csv": tmp_path / "dump-00.csv", "dump-01.csv": tmp_path / "dump-01.csv"},
        )
    ]


def test_the_same_snapshot_twice_with_identical_bytes_is_listed_once(tmp_path):
    (tmp_path / "copy-1.csv").write_bytes(dump("2025-04-05 13:09:00 +0000", LINE))
    (tmp_path / "copy-2.csv").write_bytes(dump("2025-04-05 13:09:00 +0000", LINE))
    assert snapshots(tmp_path) == [("2025-04-05T130900Z", {"dump.csv": tmp_path / "copy-1.csv"})]


def test_two_different_snapshots_with_the_same_updated_time_are_refused(tmp_path):
    (tmp_path / "copy-1.csv").write_bytes(dump("2025-04-05 13:09:00 +0000", LINE))
    (tmp_path / "copy-2.csv").write_bytes(
        dump("2025-04-05 13:09:00 +0000", LINE, LINE.replace("1;", "2;", 1))
    )
    with pytest.raises(PipelineError, match=r"copy-1.csv and copy-2.csv: same 'Updated:' time .* different"):
        snapshots(tmp_path)


def test_a_file_without_updated_line_is_named(tmp_path):
    (tmp_path / "good.csv").write_bytes(dump("2025-04-05 13:09:00 +0000", LINE))
    (tmp_path / "bad.csv").write_bytes((LINE + "\n").encode("cp1251"))
    with pytest.raises(ParseError, match=r"^bad.csv: missing 'Updated:' line"):
        snapshots(tmp_path)


def test_an_unreadable_updated_time_is_named(tmp_path):
    (tmp_path / "bad.csv").write_bytes(dump("2025-13-45 99:00:00 +0000", LINE))
    with pytest.raises(ParseError, match=r"^bad.csv: 'Updated:' line holds no valid timestamp"):
        snapshots(tmp_path)


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(PipelineError, match="holds no snapshot"):
        snapshots(tmp_path)


def test_the_74_real_snapshots_come_in_file_name_order():
    folder = require_real("rkn_zi")
    listed = snapshots(folder)
    assert len(listed) == 74
    assert [files["dump.csv"] for _, files in listed] == sorted(folder.glob("*.csv"))

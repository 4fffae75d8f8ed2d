"""End to end through the CLI on the sample mirror: marts filled, tables published, reruns idempotent,
bad inputs quarantined or refused with one line while the published marts stay as they were."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines.cli import main
from pipelines.registry import get_source
from pipelines.run import stage_vintage
from tests.conftest import SAMPLES_DIR

pytestmark = pytest.mark.slow

ZIP_NAME = "google-government-removals.zip"
FOLDER = "google-government-removals/"
REQUESTS = FOLDER + "google-government-removal-requests.csv"
DETAILED = FOLDER + "google-government-detailed-removal-requests.csv"


def cli(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), *args])


def marts_snapshot(data_dir: Path) -> dict[str, list]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {t: con.execute(f"select * from marts.{t} order by all").fetchall() for t in tables}


def rewrite_zip(source: Path, target_dir: Path, edit) -> Path:
    """Copy a mirror zip, passing each member's text through edit(name, text) -> text."""
    target_dir.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if not info.is_dir():
                data = edit(info.filename, data.decode("utf-8")).encode("utf-8")
            zout.writestr(info, data)
    path = target_dir / ZIP_NAME
    path.write_bytes(out.getvalue())
    return target_dir


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    """A data dir after `transparency run` on the whole sample mirror (two dated vintages)."""
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    assert cli(data_dir, "run", "--mirror", str(SAMPLES_DIR / "google_removals")) == 0
    return data_dir


@pytest.fixture
def fresh_copy(loaded, tmp_path) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(loaded, data_dir)
    return data_dir


def test_run_fills_the_three_marts(loaded):
    marts = marts_snapshot(loaded)
    for name in (
        "removal_requests_country_year",
        "removals_by_reason_platform_year",
        "removals_by_requester_platform_year",
    ):
        assert marts[name], f"marts.{name} is empty"
    with duckdb.connect(str(loaded / "warehouse.duckdb"), read_only=True) as con:
        platforms = con.execute(
            "select distinct platform from marts.removal_requests_country_year"
        ).fetchall()
        kz = con.execute(
            "select count(*) from marts.removal_requests_country_year where country_code = 'KZ'"
        ).fetchone()[0]
    assert platforms == [("Google",)]
    assert kz > 0


def test_publish_writes_quarter_tables_with_manifest(fresh_copy):
    assert cli(fresh_copy, "publish", "--quarter", "2025Q2", "--country", "KZ") == 0
    out = next((fresh_copy / "publish" / "2025Q2").rglob("manifest.json"))
    import json

    manifest = json.loads(out.read_text())
    files = manifest["files"] if isinstance(manifest["files"], list) else list(manifest["files"].values())
    assert files
    for entry in files:
        path = out.parent / entry["name"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
    suffixes = {Path(e["name"]).suffix for e in files}
    assert {".csv", ".xlsx", ".md"} <= suffixes


def test_rerun_with_unchanged_upstream_changes_nothing(fresh_copy, capsys):
    before_files = sorted(p.relative_to(fresh_copy) for p in fresh_copy.rglob("*") if "gx" not in p.parts)
    warehouse = (fresh_copy / "warehouse.duckdb").read_bytes()
    assert cli(fresh_copy, "run", "--mirror", str(SAMPLES_DIR / "google_removals")) == 0
    out = capsys.readouterr()
    assert "unchanged upstream" in out.err
    after_files = sorted(p.relative_to(fresh_copy) for p in fresh_copy.rglob("*") if "gx" not in p.parts)
    assert after_files == before_files
    assert (fresh_copy / "warehouse.duckdb").read_bytes() == warehouse


def test_reparsing_a_vintage_gives_identical_parquet(loaded, settings):
    spec = get_source("google_removals")
    raw = loaded / "raw" / "google_removals" / "2026-03"
    first = stage_vintage(spec, settings, "2026-03", raw)
    tables_1 = {d: pq.read_table(p) for d, p in first.items()}
    shutil.rmtree(settings.staging_dir)
    second = stage_vintage(spec, settings, "2026-03", raw)
    for dataset, path in second.items():
        assert pq.read_table(path).equals(tables_1[dataset])
        lake_file = loaded / "lake" / "google_removals" / dataset / "vintage=2026-03" / "part-0.parquet"
        assert pq.read_table(lake_file).equals(tables_1[dataset])


def _sample(vintage: str) -> Path:
    return SAMPLES_DIR / "google_removals" / vintage / ZIP_NAME


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _edit_first_data_row(column: str, value: str, member: str = DETAILED):
    def edit(name: str, text: str) -> str:
        if name != member:
            return text
        rows = _csv_rows(text)
        rows[1][rows[0].index(column)] = value
        return _csv_text(rows)

    return edit


def _duplicate_first_row(name: str, text: str) -> str:
    if name != DETAILED:
        return text
    rows = _csv_rows(text)
    return _csv_text(rows[:2] + [rows[1]] + rows[2:])


def _rename_column(name: str, text: str) -> str:
    if name != DETAILED:
        return text
    head, rest = text.split("\n", 1)
    return head.replace("Total", "Total Requests") + "\n" + rest


@pytest.mark.parametrize(
    "case, edit, expected",
    [
        ("negative counts", _edit_first_data_row("Total", "-7"), "between"),
        ("unknown country code", _edit_first_data_row("CLDR Territory Code", "QQ"), "country_code"),
        ("duplicate rows", _duplicate_first_row, "unique"),
    ],
)
def test_bad_batch_is_quarantined_and_marts_unchanged(fresh_copy, tmp_path, capsys, case, edit, expected):
    before = marts_snapshot(fresh_copy)
    pages_before = {page.name for page in (fresh_copy / "data_docs" / "validations").rglob("*.html")}
    mirror = rewrite_zip(_sample("2026-03"), tmp_path / "mirror", edit)
    assert cli(fresh_copy, "run", "--mirror", str(mirror)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "quarantined" in err[0], err
    assert expected in err[0]
    quarantined = list((fresh_copy / "quarantine" / "google_removals").glob("*/SUMMARY.txt"))
    assert len(quarantined) == 1
    assert marts_snapshot(fresh_copy) == before
    assert not list((fresh_copy / "staging").rglob("*.parquet"))
    pages = {page.name for page in (fresh_copy / "data_docs" / "validations").rglob("*.html")}
    assert len(pages - pages_before) == 2  # the refused vintage's two batches are in the Data Docs too


def _extra_column(name: str, text: str) -> str:
    if name != DETAILED:
        return text
    return _csv_text([row + ["Notes" if i == 0 else ""] for i, row in enumerate(_csv_rows(text))])


def _missing_column(name: str, text: str) -> str:
    if name != DETAILED:
        return text
    return _csv_text([row[:-1] for row in _csv_rows(text)])


@pytest.mark.parametrize(
    "edit, named",
    [(_rename_column, ["Total Requests", "Total"]), (_extra_column, ["Notes"]), (_missing_column, ["Total"])],
    ids=["renamed column", "extra column", "missing column"],
)
def test_unknown_layout_is_refused_with_one_line(fresh_copy, tmp_path, capsys, edit, named):
    before = marts_snapshot(fresh_copy)
    mirror = rewrite_zip(_sample("2026-03"), tmp_path / "mirror", edit)
    assert cli(fresh_copy, "run", "--mirror", str(mirror)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and all(name in err[0] for name in named), err
    assert marts_snapshot(fresh_copy) == before
    assert not list((fresh_copy / "staging").rglob("*.parquet"))


def test_member_escaping_its_folder_is_refused(fresh_copy, tmp_path, capsys):
    before = marts_snapshot(fresh_copy)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with zipfile.ZipFile(_sample("2026-03")) as zin, zipfile.ZipFile(mirror / ZIP_NAME, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr(FOLDER + "../../evil.csv", "x\n1\n")
    assert cli(fresh_copy, "run", "--mirror", str(mirror)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "evil.csv" in err[0], err
    assert marts_snapshot(fresh_copy) == before
    assert not (tmp_path / "evil.csv").exists()


def test_member_expanding_past_the_size_cap_is_refused(fresh_copy, tmp_path, capsys, monkeypatch):
    before = marts_snapshot(fresh_copy)
    mirror = rewrite_zip(_sample("2026-03"), tmp_path / "mirror", lambda name, text: text + "\n" * 50_000)
    monkeypatch.setenv("TRANSPARENCY_MAX_MEMBER_BYTES", "40000")
    assert cli(fresh_copy, "run", "--mirror", str(mirror)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert marts_snapshot(fresh_copy) == before


def test_truncated_zip_is_refused_with_one_line(fresh_copy, tmp_path, capsys):
    before = marts_snapshot(fresh_copy)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    data = _sample("2026-03").read_bytes()
    (mirror / ZIP_NAME).write_bytes(data[: len(data) // 2])
    assert cli(fresh_copy, "run", "--mirror", str(mirror)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert marts_snapshot(fresh_copy) == before


def test_html_page_instead_of_zip_is_refused(fresh_copy, tmp_path, capsys):
    before = marts_snapshot(fresh_copy)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / ZIP_NAME).write_text("<!DOCTYPE html><html><body>Error 403 (Forbidden)</body></html>")
    assert cli(fresh_copy, "run", "--mirror", str(mirror)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "HTML" in err[0]
    assert marts_snapshot(fresh_copy) == before


def test_mirror_without_the_file_is_one_line(settings, tmp_path, capsys):
    assert cli(settings.data_dir, "run", "--mirror", str(tmp_path)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ZIP_NAME in err[0]


def test_status_reports_vintages_and_gate(loaded, capsys):
    assert cli(loaded, "status") == 0
    out = capsys.readouterr().out
    assert "2023-03" in out and "2026-03" in out and "passed" in out

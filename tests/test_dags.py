"""The Airflow DAGs: they load without errors, stay cheap to import, and run end to end with dag.test().

Airflow keeps its home, config and metadata DB wherever AIRFLOW_HOME points when `airflow` is first
imported, so the fixture below points it at a temp folder before anything imports airflow (never
~/airflow, never the project's .airflow). dag.test() runs the tasks in this process against a sqlite
metadata DB created with airflow.utils.db.initdb(); TRANSPARENCY_DATA_DIR points the tasks at a temp data
dir.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines import lake
from pipelines.errors import FetchError, GateFailed, ParseError
from pipelines.orchestration import fail_fast, previous_quarter, resolve_mirror
from pipelines.registry import SOURCES, get_source
from pipelines.settings import PROJECT_DIR, load_settings
from tests.conftest import SAMPLES_DIR

DAGS_DIR = PROJECT_DIR / "dags"
SAMPLE_MIRROR = SAMPLES_DIR / "google_removals" / "2026-03"
INGEST = "ingest__google_removals"
EXPECTED_DAGS = {INGEST, "transform__marts", "publish__quarterly"}
HEAVY_MODULES = (
    "great_expectations", "dbt", "pandas", "duckdb",
    "pipelines.run", "pipelines.fetch", "pipelines.gate", "pipelines.warehouse", "pipelines.publish",
)


def airflow_env(home: Path) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "TRANSPARENCY_MIRROR": "",
    }


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory):
    """A throwaway AIRFLOW_HOME, set before this process first imports airflow."""
    if "airflow" in sys.modules:
        pytest.fail("airflow was imported before tests/test_dags.py could point AIRFLOW_HOME at a temp dir")
    home = tmp_path_factory.mktemp("airflow_home")
    patch = pytest.MonkeyPatch()
    for name, value in airflow_env(home).items():
        patch.setenv(name, value)
    yield home
    patch.undo()


@pytest.fixture(scope="module")
def dagbag(airflow_home):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


@pytest.fixture(scope="module")
def airflow_db(airflow_home):
    """dag.test() needs the metadata DB (dag runs, task instances, XCom, asset events)."""
    from airflow.utils import db

    db.initdb()
    return airflow_home


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, airflow_db):
    assert (SAMPLE_MIRROR / "google-government-removals.zip").is_file(), f"sample mirror missing: {SAMPLE_MIRROR}"
    path = tmp_path_factory.mktemp("dag_data")
    patch = pytest.MonkeyPatch()
    patch.setenv("TRANSPARENCY_DATA_DIR", str(path))
    yield path
    patch.undo()


def run_dag(dagbag, dag_id: str, **conf) -> tuple[str, dict[str, str]]:
    """dag.test() one run; returns the run's state and task_id -> state."""
    run = dagbag.dags[dag_id].test(run_conf=conf or None)
    return str(run.state), {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def asset_events(name: str) -> int:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    query = select(func.count()).select_from(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
    with create_session() as session:
        return session.scalar(query.where(AssetModel.name == name))


@pytest.fixture(scope="module")
def first_ingest(dagbag, data_dir):
    """One ingest run from the sample mirror into an empty data dir."""
    return run_dag(dagbag, INGEST, mirror=str(SAMPLE_MIRROR))


# ---------------------------------------------------------------- loading


def test_dagbag_loads_every_dag_without_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert EXPECTED_DAGS <= set(dagbag.dag_ids)
    assert {f"ingest__{spec.source_id}" for spec in SOURCES} <= set(dagbag.dag_ids)


def test_ingest_dag_chains_fetch_parse_gate_publish_and_publish_updates_the_lake_asset(dagbag):
    dag = dagbag.dags[INGEST]
    assert [dag.get_task(t).downstream_task_ids for t in ("fetch", "parse", "gate")] == [
        {"parse"}, {"gate"}, {"publish"}
    ]
    assert [a.name for a in dag.get_task("publish").outlets] == ["lake__google_removals"]
    assert (dag.catchup, dag.max_active_runs) == (False, 1)
    assert dag.timetable.expression == get_source("google_removals").schedule


def test_transform_dag_is_scheduled_on_the_lake_assets(dagbag):
    dag = dagbag.dags["transform__marts"]
    assets = {a.name for a in dag.timetable.asset_condition.objects}
    assert assets == {f"lake__{spec.source_id}" for spec in SOURCES}
    assert [a.name for a in dag.get_task("build_marts").outlets] == ["marts"]


def test_publish_dag_runs_at_the_start_of_each_quarter(dagbag):
    assert dagbag.dags["publish__quarterly"].timetable.expression == "0 6 1 1,4,7,10 *"


def test_importing_dag_files_does_not_import_heavy_modules(tmp_path):
    """The DAG processor re-imports DAG files often; the pipeline's heavy modules load only in tasks."""
    code = (
        "import importlib.util, json, sys\n"
        "for path in sys.argv[2:]:\n"
        "    spec = importlib.util.spec_from_file_location('dagfile_' + path.rsplit('/', 1)[-1][:-3], path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "heavy = sys.argv[1].split(',')\n"
        "print(json.dumps(sorted({h for h in heavy for m in list(sys.modules) if m == h or m.startswith(h + '.')})))\n"
    )
    files = sorted(str(p) for p in DAGS_DIR.glob("*.py"))
    env = {**os.environ, **airflow_env(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code, ",".join(HEAVY_MODULES), *files],
        check=False, capture_output=True, text=True, env=env, cwd=PROJECT_DIR,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
    assert len(files) >= 3


# ---------------------------------------------------------------- task semantics


@pytest.mark.parametrize(
    ("moment", "quarter"),
    [
        (datetime(2026, 4, 1, 6, 0), "2026Q1"),
        (datetime(2026, 7, 1, 6, 0), "2026Q2"),
        (datetime(2026, 10, 1, 6, 0), "2026Q3"),
        (datetime(2026, 1, 1, 6, 0), "2025Q4"),
        (date(2026, 12, 31), "2026Q3"),
        (date(2026, 3, 31), "2025Q4"),
    ],
)
def test_previous_quarter_is_the_quarter_before_the_run_date(moment, quarter):
    assert previous_quarter(moment) == quarter


def test_deterministic_pipeline_errors_fail_the_task_without_retry(airflow_home):
    from airflow.sdk.exceptions import AirflowFailException

    for error in (GateFailed("suite failed"), ParseError("bad value")):
        with pytest.raises(AirflowFailException, match=str(error)), fail_fast():
            raise error


def test_fetch_errors_stay_retryable(airflow_home):
    with pytest.raises(FetchError), fail_fast():
        raise FetchError("timeout")


def test_dated_mirror_param_resolves_to_its_newest_copy_labelled_by_folder():
    spec = get_source("google_removals")
    assert resolve_mirror(spec, "data/samples/google_removals") == (SAMPLE_MIRROR, "2026-03")
    assert resolve_mirror(spec, str(SAMPLE_MIRROR)) == (SAMPLE_MIRROR, None)


def test_missing_mirror_folder_is_a_fetch_error(tmp_path):
    with pytest.raises(FetchError, match="mirror folder not found"):
        resolve_mirror(get_source("google_removals"), str(tmp_path / "absent"))


# ---------------------------------------------------------------- end to end with dag.test()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_ingest_dag_lands_the_sample_in_the_lake(first_ingest, data_dir):
    state, tasks = first_ingest
    assert (state, tasks) == ("success", dict.fromkeys(("fetch", "parse", "gate", "publish"), "success"))
    settings = load_settings(data_dir)
    spec = get_source("google_removals")
    live = {d: lake.lake_vintages(settings.lake_dir, spec.source_id, d) for d in spec.datasets}
    landed = {d: v for d, v in live.items() if v}
    assert landed, f"no lake partition under {settings.lake_dir}"
    for dataset, vintages in landed.items():
        part = lake.partition_dir(settings.lake_dir, spec.source_id, dataset, vintages[-1]) / lake.PART
        assert lake.row_count(part) > 0, part
    assert asset_events("lake__google_removals") == 1


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_transform_dag_builds_the_marts_from_the_lake(dagbag, first_ingest, data_dir):
    import duckdb

    assert first_ingest[0] == "success"
    state, tasks = run_dag(dagbag, "transform__marts")
    assert (state, tasks) == ("success", {"build_marts": "success"})
    warehouse = load_settings(data_dir).warehouse_path
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select count(*) from marts.removal_requests_country_year").fetchone()[0]
    assert rows > 0
    assert asset_events("marts") >= 1


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_second_ingest_of_an_unchanged_upstream_skips_parse_gate_and_publish(dagbag, first_ingest, data_dir):
    assert first_ingest[0] == "success"
    events_before = asset_events("lake__google_removals")
    state, tasks = run_dag(dagbag, INGEST, mirror=str(SAMPLE_MIRROR))
    assert state == "success"
    assert tasks == {"fetch": "success", "parse": "skipped", "gate": "skipped", "publish": "skipped"}
    assert asset_events("lake__google_removals") == events_before


def test_a_mirror_of_several_sources_resolves_to_the_sources_own_folder():
    spec = get_source("rkn_registry")
    folder, label = resolve_mirror(spec, "data/samples")
    newest = max(p for p in (SAMPLES_DIR / "rkn_registry").iterdir() if p.is_dir())
    assert (folder, label) == (newest, newest.name)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_registry_ingest_dag_publishes_the_snapshot_and_its_history(dagbag, data_dir):
    state, tasks = run_dag(dagbag, "ingest__rkn_registry", mirror="data/samples")
    assert (state, tasks) == ("success", dict.fromkeys(("fetch", "parse", "gate", "publish"), "success"))
    history = load_settings(data_dir).lake_dir / "rkn_registry" / "registry_history" / "current" / lake.PART
    assert lake.row_count(history) > 0
    assert asset_events("lake__rkn_registry") == 1

"""One ingest DAG per source in pipelines.registry.SOURCES: `ingest__<source_id>`.

fetch -> parse -> gate -> publish. `parse` skips itself (and so gate and publish) when the upstream is
unchanged and the vintage is already in the lake or quarantine, so no Asset event is emitted and the
marts are not rebuilt. `gate` fails without retry when a batch fails its suite (it is then quarantined).
`publish` moves the gated partitions into the lake and updates the Asset `x-transparency://lake/<id>`,
which schedules transform__marts.

Params: `mirror` (folder holding the upstream file, or dated copies DIR/<vintage>/<file>; default
$TRANSPARENCY_MIRROR when the DAG file is parsed) or `live` (retrieve from the upstream URLs). Settings
(data dir: $TRANSPARENCY_DATA_DIR) are read inside the tasks. Kept cheap to import: heavy modules are
imported in pipelines.orchestration's functions, which run only inside tasks.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, Param, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from pipelines import orchestration
from pipelines.registry import SOURCES, SourceSpec

DEFAULT_ARGS = {"owner": "transparency", "retries": 1, "retry_delay": timedelta(minutes=1)}


def build_ingest_dag(spec: SourceSpec) -> DAG:
    source_id = spec.source_id
    with DAG(
        dag_id=f"ingest__{source_id}",
        description=f"Ingest {spec.title}",
        doc_md=__doc__,
        schedule=spec.schedule,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        params={
            "mirror": Param(
                os.environ.get(orchestration.MIRROR_ENV) or None,
                type=["null", "string"],
                description="Folder with the upstream file(s) (relative paths: from the project folder)",
            ),
            "live": Param(False, type="boolean", description="Retrieve from the upstream URLs instead"),
            "vintage": Param(None, type=["null", "string"], description="Vintage label for a dated copy"),
        },
        tags=["ingest", source_id],
    ) as dag:

        @task
        def fetch() -> dict:
            params = get_current_context()["params"]
            with orchestration.fail_fast():
                return orchestration.fetch(source_id, params["mirror"], params["live"], params["vintage"])

        @task
        def parse(landed: dict) -> dict:
            with orchestration.fail_fast():
                staged = orchestration.parse(source_id, landed)
            if staged is None:
                raise AirflowSkipException(f"{source_id} {landed['vintage']}: upstream unchanged, nothing to do")
            return {"vintage": landed["vintage"], "staged": staged}

        @task
        def gate(batch: dict) -> dict:
            with orchestration.fail_fast():
                orchestration.gate(source_id, batch["vintage"], batch["staged"])
            return batch

        @task(outlets=[orchestration.lake_asset(source_id)])
        def publish(batch: dict) -> dict:
            with orchestration.fail_fast():
                return orchestration.publish(source_id, batch["vintage"], batch["staged"])

        publish(gate(parse(fetch())))
    return dag


for _spec in SOURCES:
    globals()[f"ingest__{_spec.source_id}"] = build_ingest_dag(_spec)

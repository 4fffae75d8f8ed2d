"""`publish__quarterly`: at 06:00 UTC on the first day of each quarter, publish the quarter that ended.

The quarter comes from the run's logical date (pipelines.orchestration.previous_quarter); the `quarter`
param overrides it for a manual re-publication, `country` limits it to one ISO alpha-2 country.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, CronTriggerTimetable, Param, get_current_context, task

from pipelines import orchestration

with DAG(
    dag_id="publish__quarterly",
    description="Quarterly publication: CSV, XLSX, Markdown + manifest",
    doc_md=__doc__,
    schedule=CronTriggerTimetable("0 6 1 1,4,7,10 *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "transparency", "retries": 1, "retry_delay": timedelta(minutes=5)},
    params={
        "quarter": Param(None, type=["null", "string"], description="YYYYQn; default: the quarter that ended"),
        "country": Param(None, type=["null", "string"], description="ISO 3166 alpha-2 code, e.g. KZ"),
    },
    tags=["publish"],
) as dag:

    @task(inlets=[orchestration.marts_asset()])
    def publish_quarter() -> str:
        context = get_current_context()
        params = context["params"]
        quarter = params["quarter"] or orchestration.previous_quarter(orchestration.run_moment(context))
        with orchestration.fail_fast():
            return orchestration.publish_quarter(quarter, params["country"])

    publish_quarter()

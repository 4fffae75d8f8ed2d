"""`transform__marts`: dbt build of the DuckDB marts whenever any source's lake gets a new vintage.

Scheduled on the lake Assets of every source in pipelines.registry.SOURCES (any one updated triggers a
run); its task updates the Asset `x-transparency://warehouse/marts`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, AssetAny, task

from pipelines import orchestration
from pipelines.registry import SOURCES

with DAG(
    dag_id="transform__marts",
    description="dbt build of the marts (warehouse.duckdb, schema marts)",
    doc_md=__doc__,
    schedule=AssetAny(*(orchestration.lake_asset(spec.source_id) for spec in SOURCES)),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "transparency", "retries": 1, "retry_delay": timedelta(minutes=1)},
    tags=["transform", "dbt"],
) as dag:

    @task(outlets=[orchestration.marts_asset()])
    def build_marts() -> str:
        with orchestration.fail_fast():
            return orchestration.build_marts()

    build_marts()

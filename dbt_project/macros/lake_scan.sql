{% macro lake_scan(source_id, dataset) -%}
{#- All live vintages of one lake dataset, plus its empty `_schema` file (so the glob always matches and
    the column types are right before any data landed):
    read_parquet('<TRANSPARENCY_DATA_DIR>/lake/<source_id>/<dataset>/[!.]*/part-0.parquet').
    The glob is narrower than `*/*.parquet` on purpose: DuckDB's `*` also matches names starting with a
    dot, i.e. lake.write_batches' in-flight `.tmp-*.parquet` files and lake.replace_dir's `.old-*` folders,
    which would be read twice or half-written. `vintage=` folders are not read as hive partitions: every
    file carries its own `vintage` column. -#}
{%- set lake_root = env_var('TRANSPARENCY_DATA_DIR') ~ '/lake' -%}
{%- set pattern = lake_root ~ '/' ~ source_id ~ '/' ~ dataset ~ '/[!.]*/part-0.parquet' -%}
read_parquet('{{ pattern | replace("'", "''") }}', hive_partitioning=false, union_by_name=true)
{%- endmacro %}

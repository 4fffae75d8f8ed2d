{% macro generate_schema_name(custom_schema_name, node) -%}
{#- Use the configured schema name as is (`marts`, not `main_marts`): the publish step and every reader
    query `marts.<table>`. Nodes without a custom schema land in the target schema (`main`). -#}
{%- if custom_schema_name is none -%}
{{ target.schema }}
{%- else -%}
{{ custom_schema_name | trim }}
{%- endif -%}
{%- endmacro %}

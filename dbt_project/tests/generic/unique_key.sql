{% test unique_key(model, columns) %}
{#- The listed columns together identify a row: none of them is NULL and no two rows share the values.
    (dbt_utils is not installed and there is no network for `dbt deps`; one query instead of a unique plus
    a not_null test per column keeps the build short.) -#}
select {{ columns | join(', ') }}, count(*) as rows_with_this_key
from {{ model }}
group by all
having count(*) > 1 or {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}

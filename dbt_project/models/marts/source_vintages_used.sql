-- Which lake vintages feed the marts, per dataset: the publish step copies this into its manifest.

with used as (
    {%- set families = [
        ('int_google_removals__country_periods_reconciled', ['requests', 'items_requested', 'items_removed']),
        ('int_google_removals__reason_periods_reconciled', ['requests', 'items_requested']),
        ('int_google_removals__requester_periods_reconciled', ['requests', 'items_requested', 'items_removed']),
    ] %}
    {%- for model, measures in families %}
    {%- set outer_loop = loop %}
    {%- for measure in measures %}
    {% if not (outer_loop.first and loop.first) %}union{% endif %}
    select source_id, {{ measure }}_dataset as dataset, {{ measure }}_vintage as vintage, period_end
    from {{ ref(model) }}
    where {{ measure }}_vintage is not null
    {%- endfor %}
    {%- endfor %}
)

select
    source_id,
    dataset,
    vintage,
    count(distinct period_end)::integer as periods,
    min(period_end) as first_period_end,
    max(period_end) as last_period_end
from used
group by all

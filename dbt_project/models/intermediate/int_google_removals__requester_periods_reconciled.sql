-- One row per country, half-year and harmonized requester. Requests come ONLY from the summary layouts
-- (current summary file per requester; historical file: court orders / other requests), never from the
-- granular layout, whose rows repeat a request once per product and reason. Items requested come from
-- any requester-level file (granular, summary, historical groups: items add up); items removed from the
-- granular layout (exact) or, for half-years no granular vintage holds, estimated from the summary
-- layout's percentages. Each measure from the newest vintage holding the half-year; within a half-year
-- the chosen file holds, a country and requester it does not list counts 0.

with

historical_groups as (
    {%- for group, label in [('court_orders', 'Court Orders'),
                             ('other', 'Other Requests (Executive, Police, etc.)')] %}
    {% if not loop.first %}union all{% endif %}
    select source_id, dataset, vintage, period_end, country_code,
        '{{ label }}' as requester_label,
        {{ group }}_requests_filled as requests,
        {{ group }}_requests_filled_is_censored as requests_is_censored,
        {{ group }}_items_requested_filled as items_requested,
        {{ group }}_items_requested_is_censored as items_requested_is_censored
    from {{ ref('stg_google_removals__summary_historical') }}
    {%- endfor %}
),

historical_rows as (
    select g.*, labels.requester
    from historical_groups as g
    left join {{ ref('requester_labels') }} as labels
        on labels.source_id = g.source_id and labels.requester_label = g.requester_label
),

request_rows as (
    select source_id, dataset, vintage, 1 as layout_rank, period_end, country_code, requester,
        requests as value, requests_is_censored as is_censored, false as is_estimated
    from {{ ref('stg_google_removals__requester_summaries') }}
    union all
    select source_id, dataset, vintage, 2 as layout_rank, period_end, country_code, requester,
        requests as value, requests_is_censored as is_censored, false as is_estimated
    from historical_rows
),

item_rows as (
    select source_id, dataset, vintage, 1 as layout_rank, period_end, country_code, requester,
        items_requested as value, items_requested_is_censored as is_censored, false as is_estimated
    from {{ ref('stg_google_removals__granular_requests') }}
    union all
    select source_id, dataset, vintage, 2 as layout_rank, period_end, country_code, requester,
        items_requested as value, items_requested_is_censored as is_censored, false as is_estimated
    from {{ ref('stg_google_removals__requester_summaries') }}
    union all
    select source_id, dataset, vintage, 3 as layout_rank, period_end, country_code, requester,
        items_requested as value, items_requested_is_censored as is_censored, false as is_estimated
    from historical_rows
),

removal_rows as (
    select source_id, dataset, vintage, 1 as layout_rank, period_end, country_code, requester,
        items_removed as value, items_removed_is_censored as is_censored, false as is_estimated
    from {{ ref('stg_google_removals__granular_requests') }}
    union all
    select source_id, dataset, vintage, 2 as layout_rank, period_end, country_code, requester,
        items_removed_estimated as value, items_requested_is_censored or pct_removed_is_censored as is_censored,
        true as is_estimated
    from {{ ref('stg_google_removals__requester_summaries') }}
),

requests_chosen as ({{ newest_per_period('request_rows') }}),
items_chosen as ({{ newest_per_period('item_rows') }}),
removals_chosen as ({{ newest_per_period_layout_first('removal_rows') }}),

{% for family in ['requests', 'items', 'removals'] %}
{{ family }}_by_requester as (
    select period_end, country_code, requester,
        {{ strict_sum('value') }} as value, bool_or(is_censored) as is_censored,
        bool_or(is_estimated) as is_estimated
    from {{ family }}_chosen
    group by all
),

{{ family }}_coverage as (
    select distinct source_id, dataset, vintage, period_end, is_estimated
    from {{ family }}_chosen
),
{% endfor %}

keys as (
    select period_end, country_code, requester from requests_by_requester
    union
    select period_end, country_code, requester from items_by_requester
    union
    select period_end, country_code, requester from removals_by_requester
)

select
    coalesce(rc.source_id, ic.source_id, mc.source_id) as source_id,
    k.period_end,
    year(k.period_end) as year,
    {{ half_of('k.period_end') }} as half,
    k.country_code,
    k.requester,
    taxonomy.requester_group,
    case when r.requester is not null then r.value when rc.period_end is not null then 0 end as requests,
    coalesce(r.is_censored, false) as requests_is_censored,
    rc.dataset as requests_dataset,
    rc.vintage as requests_vintage,
    case when i.requester is not null then i.value when ic.period_end is not null then 0 end as items_requested,
    coalesce(i.is_censored, false) as items_requested_is_censored,
    ic.dataset as items_requested_dataset,
    ic.vintage as items_requested_vintage,
    case when m.requester is not null then m.value when mc.period_end is not null then 0 end as items_removed,
    coalesce(m.is_censored, false) as items_removed_is_censored,
    mc.is_estimated as is_items_removed_estimated,
    mc.dataset as items_removed_dataset,
    mc.vintage as items_removed_vintage
from keys as k
left join {{ ref('requester_taxonomy') }} as taxonomy on taxonomy.requester = k.requester
left join requests_by_requester as r
    on r.period_end = k.period_end and r.country_code = k.country_code and r.requester = k.requester
left join items_by_requester as i
    on i.period_end = k.period_end and i.country_code = k.country_code and i.requester = k.requester
left join removals_by_requester as m
    on m.period_end = k.period_end and m.country_code = k.country_code and m.requester = k.requester
left join requests_coverage as rc on rc.period_end = k.period_end
left join items_coverage as ic on ic.period_end = k.period_end
left join removals_coverage as mc on mc.period_end = k.period_end

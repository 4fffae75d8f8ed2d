-- One row per country, half-year and harmonized reason. Requests come from the product x reason files
-- (summed over products), items requested from the granular layout (summed over requesters and
-- products); each measure from the newest vintage holding the half-year. Within a half-year the chosen
-- file holds, a country and reason it does not list counts 0 (Google omits empty combinations); for a
-- half-year no file of the family holds, the measure is NULL.

with

request_rows as (
    select source_id, dataset, vintage, 1 as layout_rank, period_end, country_code, reason, reason_label,
        requests, requests_is_censored
    from {{ ref('stg_google_removals__product_reason_requests') }}
    union all
    select source_id, dataset, vintage, 2 as layout_rank, period_end, country_code, reason, reason_label,
        requests, requests_is_censored
    from {{ ref('stg_google_removals__product_reason_requests_historical') }}
),

item_rows as (
    select source_id, dataset, vintage, 1 as layout_rank, period_end, country_code, reason, reason_label,
        items_requested, items_requested_is_censored
    from {{ ref('stg_google_removals__granular_requests') }}
),

requests_chosen as ({{ newest_per_period('request_rows') }}),
items_chosen as ({{ newest_per_period('item_rows') }}),

requests_by_reason as (
    select period_end, country_code, reason,
        {{ strict_sum('requests') }} as requests,
        bool_or(requests_is_censored) as is_censored,
        min(reason_label) as reason_label
    from requests_chosen
    group by all
),

items_by_reason as (
    select period_end, country_code, reason,
        {{ strict_sum('items_requested') }} as items_requested,
        bool_or(items_requested_is_censored) as is_censored,
        min(reason_label) as reason_label
    from items_chosen
    group by all
),

requests_coverage as (
    select distinct source_id, dataset, vintage, period_end from requests_chosen
),

items_coverage as (
    select distinct source_id, dataset, vintage, period_end from items_chosen
),

keys as (
    select period_end, country_code, reason from requests_by_reason
    union
    select period_end, country_code, reason from items_by_reason
)

select
    coalesce(rc.source_id, ic.source_id) as source_id,
    k.period_end,
    year(k.period_end) as year,
    {{ half_of('k.period_end') }} as half,
    k.country_code,
    k.reason,
    coalesce(r.reason_label, i.reason_label) as reason_label,
    case when r.reason is not null then r.requests when rc.period_end is not null then 0 end as requests,
    coalesce(r.is_censored, false) as requests_is_censored,
    rc.dataset as requests_dataset,
    rc.vintage as requests_vintage,
    case
        when i.reason is not null then i.items_requested when ic.period_end is not null then 0
    end as items_requested,
    coalesce(i.is_censored, false) as items_requested_is_censored,
    ic.dataset as items_requested_dataset,
    ic.vintage as items_requested_vintage
from keys as k
left join requests_by_reason as r
    on r.period_end = k.period_end and r.country_code = k.country_code and r.reason = k.reason
left join items_by_reason as i
    on i.period_end = k.period_end and i.country_code = k.country_code and i.reason = k.reason
left join requests_coverage as rc on rc.period_end = k.period_end
left join items_coverage as ic on ic.period_end = k.period_end

-- One row per country and half-year with the country totals, each measure taken from the newest
-- vintage that holds that half-year (see _intermediate__models.yml for the lineage of every measure).
-- A country the chosen file does not list in a half-year it holds counts 0 (Google omits empty rows);
-- a measure is NULL when no file of its family holds the half-year, or when an input is censored/unknown.

with

-- requests: the product x reason files (their sums are the number of requests)
reason_requests as (
    select source_id, dataset, vintage, 1 as layout_rank, period_end, country_code,
        {{ strict_sum('requests') }} as value, bool_or(requests_is_censored) as is_censored
    from {{ ref('stg_google_removals__product_reason_requests') }}
    group by all
    union all
    select source_id, dataset, vintage, 2 as layout_rank, period_end, country_code,
        {{ strict_sum('requests') }} as value, bool_or(requests_is_censored) as is_censored
    from {{ ref('stg_google_removals__product_reason_requests_historical') }}
    group by all
),

-- requests, fallback for countries the chosen product x reason file leaves out (the historical
-- detailed file omits countries whose summary says `<10`): the summary layouts' country totals
summary_requests as (
    select source_id, dataset, vintage, 1 as layout_rank, period_end, country_code,
        {{ strict_sum('requests') }} as value, bool_or(requests_is_censored) as is_censored
    from {{ ref('stg_google_removals__requester_summaries') }}
    group by all
    union all
    select source_id, dataset, vintage, 2 as layout_rank, period_end, country_code,
        all_requests as value, all_requests_is_censored as is_censored
    from {{ ref('stg_google_removals__summary_historical') }}
),

-- items requested: the requester-level files (items add up over rows in every layout)
items_requested as (
    select source_id, dataset, vintage, 1 as layout_rank, period_end, country_code,
        {{ strict_sum('items_requested') }} as value, bool_or(items_requested_is_censored) as is_censored
    from {{ ref('stg_google_removals__granular_requests') }}
    group by all
    union all
    select source_id, dataset, vintage, 2 as layout_rank, period_end, country_code,
        {{ strict_sum('items_requested') }} as value, bool_or(items_requested_is_censored) as is_censored
    from {{ ref('stg_google_removals__requester_summaries') }}
    group by all
    union all
    select source_id, dataset, vintage, 3 as layout_rank, period_end, country_code,
        all_items_requested as value, all_items_requested_is_censored as is_censored
    from {{ ref('stg_google_removals__summary_historical') }}
),

-- items removed: exact (legal + policy) in the granular layout; estimated from the percentages in the
-- summary layout, only for half-years no granular vintage holds; unknown in the historical file
items_removed as (
    select source_id, dataset, vintage, 1 as layout_rank, period_end, country_code,
        {{ strict_sum('items_removed') }} as value, bool_or(items_removed_is_censored) as is_censored,
        false as is_estimated
    from {{ ref('stg_google_removals__granular_requests') }}
    group by all
    union all
    select source_id, dataset, vintage, 2 as layout_rank, period_end, country_code,
        {{ strict_sum('items_removed_estimated') }} as value,
        bool_or(items_requested_is_censored or pct_removed_is_censored) as is_censored,
        true as is_estimated
    from {{ ref('stg_google_removals__requester_summaries') }}
    group by all
),

requests_chosen as ({{ newest_per_period('reason_requests') }}),
fallback_chosen as ({{ newest_per_period('summary_requests') }}),
items_requested_chosen as ({{ newest_per_period('items_requested') }}),
items_removed_chosen as ({{ newest_per_period_layout_first('items_removed') }}),

requests_periods as (select distinct source_id, dataset, vintage, period_end from requests_chosen),
items_requested_periods as (
    select distinct source_id, dataset, vintage, period_end from items_requested_chosen
),
items_removed_periods as (
    select distinct source_id, dataset, vintage, period_end, is_estimated from items_removed_chosen
),

country_periods as (
    select source_id, period_end, country_code from requests_chosen
    union
    select source_id, period_end, country_code from fallback_chosen
    union
    select source_id, period_end, country_code from items_requested_chosen
    union
    select source_id, period_end, country_code from items_removed_chosen
)

select
    cp.source_id,
    cp.period_end,
    year(cp.period_end) as year,
    {{ half_of('cp.period_end') }} as half,
    cp.country_code,
    case
        when rq.country_code is not null then rq.value
        when fb.country_code is not null then fb.value
        when rp.period_end is not null then 0
    end as requests,
    coalesce(rq.is_censored, fb.is_censored, false) as requests_is_censored,
    case when rq.country_code is null and fb.country_code is not null then fb.dataset else rp.dataset end
        as requests_dataset,
    coalesce(rp.vintage, fb.vintage) as requests_vintage,
    case when ir.country_code is not null then ir.value when irp.period_end is not null then 0 end
        as items_requested,
    coalesce(ir.is_censored, false) as items_requested_is_censored,
    irp.dataset as items_requested_dataset,
    irp.vintage as items_requested_vintage,
    case when rm.country_code is not null then rm.value when rmp.period_end is not null then 0 end
        as items_removed,
    coalesce(rm.is_censored, false) as items_removed_is_censored,
    rmp.is_estimated as is_items_removed_estimated,
    rmp.dataset as items_removed_dataset,
    rmp.vintage as items_removed_vintage
from country_periods as cp
left join requests_periods as rp on rp.period_end = cp.period_end
left join requests_chosen as rq
    on rq.period_end = cp.period_end and rq.country_code = cp.country_code
-- the fallback only from the vintage the product x reason rows come from: a newer detailed file that
-- leaves a country out (Google revised it away) means 0, not an older vintage's summary figure
left join fallback_chosen as fb
    on fb.period_end = cp.period_end and fb.country_code = cp.country_code
    and fb.vintage = coalesce(rp.vintage, fb.vintage)
left join items_requested_chosen as ir
    on ir.period_end = cp.period_end and ir.country_code = cp.country_code
left join items_removed_chosen as rm
    on rm.period_end = cp.period_end and rm.country_code = cp.country_code
left join items_requested_periods as irp on irp.period_end = cp.period_end
left join items_removed_periods as rmp on rmp.period_end = cp.period_end

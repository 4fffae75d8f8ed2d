-- Items requested in removal_requests_country_year, per ISO country and year, equal the items computed
-- here straight from the lake: for each half-year the requester-level rows of the newest vintage holding
-- it (granular, then summary layout, then the historical summary's All Requests; a country the chosen
-- file does not list counts 0). Compared where the mart has a figure.
with lake_rows as (
    select vintage, 1 as layout_rank, period_end, country_code, items_requested
    from {{ lake_scan('google_removals', 'requests_granular') }}
    union all
    select vintage, 2 as layout_rank, period_end, country_code, items_requested
    from {{ lake_scan('google_removals', 'requests_by_requester') }}
    union all
    select vintage, 3 as layout_rank, period_end, country_code, all_items_requested
    from {{ lake_scan('google_removals', 'requests_summary_historical') }}
),

newest as (
    select * from lake_rows
    where country_code is not null
    qualify dense_rank() over (partition by period_end order by vintage desc, layout_rank) = 1
),

lake_country_years as (
    select upper(country_code) as country_code, year(period_end) as year, sum(items_requested) as items_requested
    from newest
    group by all
)

select mart.country_code, mart.year, mart.items_requested as mart_items, lake.items_requested as lake_items
from {{ ref('removal_requests_country_year') }} as mart
left join lake_country_years as lake on lake.country_code = mart.country_code and lake.year = mart.year
where mart.platform = 'Google'
    and mart.items_requested is not null
    and mart.country_code not in (select country_code from {{ ref('country_pseudo_codes') }})
    and mart.items_requested is distinct from coalesce(lake.items_requested, 0)

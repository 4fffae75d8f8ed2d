-- The requests in the marts, per year, equal the requests computed here straight from the lake (not
-- through the staging and intermediate models): for each half-year the product x reason rows of the
-- newest vintage holding it (current layout before the historical one in that vintage). Compared only
-- for years whose lake values are all plain numbers.
with lake_rows as (
    select vintage, 1 as layout_rank, period_end, country_code, requests
    from {{ lake_scan('google_removals', 'requests_by_product_reason') }}
    union all
    select vintage, 2 as layout_rank, period_end, country_code, court_order_requests + other_requests
    from {{ lake_scan('google_removals', 'requests_by_product_reason_historical') }}
),

newest as (
    select * from lake_rows
    qualify dense_rank() over (partition by period_end order by vintage desc, layout_rank) = 1
),

lake_years as (
    select year(period_end) as year, sum(requests) as requests, count(*) = count(requests) as is_complete
    from newest
    group by all
),

mart_years as (
    select year, sum(requests) as requests
    from {{ ref('removals_by_reason_platform_year') }}
    where platform = 'Google'
    group by all
)

select lake_years.year, lake_years.requests as lake_requests, mart_years.requests as mart_requests
from lake_years
full join mart_years on mart_years.year = lake_years.year
where coalesce(lake_years.is_complete, true)
    and lake_years.requests is distinct from mart_years.requests

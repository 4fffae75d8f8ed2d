-- One copy of every OONI (country, day, domain): for each country and day the NEWEST vintage that
-- retrieved the day wins, and only that vintage's rows for the day are kept. A vintage "retrieved" a day
-- when one of its ooni_windows covers it (window_since <= day < window_until, until exclusive) or, for
-- files loaded without a window row, when it has rows for the day. So a day re-fetched by a newer run
-- replaces the older copy completely: changed counts are taken, a domain missing from the re-fetch
-- disappears, and a re-fetched day with no rows at all has none. Vintage ids sort as text.
with rows_by_day as (
    select distinct country_code, measurement_day, vintage
    from {{ ref('stg_ooni_aggregates__domain_days') }}
),

covered as (
    select days.country_code, days.measurement_day, windows.vintage
    from (select distinct country_code, measurement_day from rows_by_day) as days
    join {{ ref('stg_ooni_aggregates__windows') }} as windows
        on windows.country_code = days.country_code
        and days.measurement_day >= windows.window_since
        and days.measurement_day < windows.window_until
),

chosen as (
    select country_code, measurement_day, max(vintage) as vintage
    from (select * from rows_by_day union all select * from covered)
    group by all
)

select rows.*
from {{ ref('stg_ooni_aggregates__domain_days') }} as rows
join chosen using (country_code, measurement_day, vintage)

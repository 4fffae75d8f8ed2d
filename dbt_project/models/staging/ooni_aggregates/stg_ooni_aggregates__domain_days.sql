-- OONI web_connectivity aggregates, every live vintage: one row per vintage, country, day and domain.
-- A vintage holds one response per country, covering the window of ooni_windows; successive vintages
-- overlap (the last days are re-fetched), so a day can be here several times: the intermediate model
-- int_ooni_aggregates__domain_days_current keeps one copy.
with lake as (
    select * from {{ lake_scan('ooni_aggregates', 'ooni_domain_days') }}
)

select
    source_id,
    'ooni_domain_days' as dataset,
    vintage,
    country_code,
    measurement_day,
    domain,
    measurements,
    anomalies,
    confirmed,
    failures,
    ok,
    source_file,
    source_row_number
from lake

-- google-government-detailed-removal-requests-historical.csv (2009 H2 to 2019 H1): requests per country,
-- half-year, product and reason, split into court orders and "Executive, Police, etc.". Their sum per
-- country and half-year equals the historical summary's "All Requests: Number of Requests" wherever that
-- is a plain number (checked on the 2023-03 vintage: 1,154 of 1,154 country-periods), so `requests` is
-- the same measure as the current detailed file's Total. Reason is blank in 2009 H2 and 2010 H1.
with lake as (
    select * from {{ lake_scan('google_removals', 'requests_by_product_reason_historical') }}
)

select
    lake.source_id,
    'requests_by_product_reason_historical' as dataset,
    lake.vintage,
    {{ period_columns('lake') }},
    {{ resolved_country_code('lake') }} as country_code,
    lake.country_name,
    lake.country_code_raw,
    lake.product,
    lake.reason as reason_label,
    labels.reason,
    lake.court_order_requests + lake.other_requests as requests,
    lake.court_order_requests_is_censored or lake.other_requests_is_censored as requests_is_censored,
    lake.court_order_requests,
    lake.court_order_requests_raw,
    lake.court_order_requests_is_censored,
    lake.other_requests,
    lake.other_requests_raw,
    lake.other_requests_is_censored,
    lake.items_requested,
    lake.items_requested_raw,
    lake.items_requested_is_censored,
    lake.source_file,
    lake.source_row_number
from lake
left join {{ ref('google_reason_labels') }} as labels
    on labels.reason_label = coalesce(lake.reason, '(blank)')
{{ pseudo_country_joins('lake') }}

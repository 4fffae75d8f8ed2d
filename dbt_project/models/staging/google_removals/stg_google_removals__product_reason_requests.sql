-- google-government-detailed-removal-requests.csv: requests per country, half-year, product and reason.
-- `Total` is a number of requests; each request is counted once, so it adds up over product and reason.
with lake as (
    select * from {{ lake_scan('google_removals', 'requests_by_product_reason') }}
)

select
    lake.source_id,
    'requests_by_product_reason' as dataset,
    lake.vintage,
    {{ period_columns('lake') }},
    {{ resolved_country_code('lake') }} as country_code,
    lake.country_name,
    lake.country_code_raw,
    lake.product,
    lake.reason as reason_label,
    labels.reason,
    lake.requests,
    lake.requests_raw,
    lake.requests_is_censored,
    lake.source_file,
    lake.source_row_number
from lake
left join {{ ref('google_reason_labels') }} as labels on labels.reason_label = lake.reason
{{ pseudo_country_joins('lake') }}

-- google-government-removal-requests-historical.csv (2009 H2 to 2019 H1): per country and half-year,
-- requests, % complied and items for all requests and for two requester groups (court orders; other
-- requests: executive, police, etc.). Values may be censored (`<10`) or unknown (`?`). A blank group
-- value is 0 when "All Requests" is a plain number (then All = Court Orders + Other on every row of the
-- 2023-03 vintage) and unknown otherwise; `<group>_requests_filled` applies that rule, and
-- `<group>_items_requested_filled` reads blank items as 0 only for a group with 0 requests.
with lake as (
    select * from {{ lake_scan('google_removals', 'requests_summary_historical') }}
)

select
    lake.source_id,
    'requests_summary_historical' as dataset,
    lake.vintage,
    {{ period_columns('lake') }},
    {{ resolved_country_code('lake') }} as country_code,
    lake.country_name,
    lake.country_code_raw,
    {%- for group in ['all', 'court_orders', 'other'] %}
    {%- for measure in ['requests', 'pct_complied', 'items_requested'] %}
    lake.{{ group }}_{{ measure }},
    lake.{{ group }}_{{ measure }}_raw,
    lake.{{ group }}_{{ measure }}_is_censored,
    {%- endfor %}
    {%- endfor %}
    {%- for group in ['court_orders', 'other'] %}
    case
        when lake.{{ group }}_requests is not null or lake.{{ group }}_requests_raw is not null
            then lake.{{ group }}_requests
        when lake.all_requests is not null then 0
    end as {{ group }}_requests_filled,
    case
        when lake.{{ group }}_requests is not null or lake.{{ group }}_requests_raw is not null
            then lake.{{ group }}_requests_is_censored
        else lake.all_requests_is_censored
    end as {{ group }}_requests_filled_is_censored,
    case
        when lake.{{ group }}_items_requested is not null or lake.{{ group }}_items_requested_raw is not null
            then lake.{{ group }}_items_requested
        when lake.{{ group }}_requests = 0
            or (lake.{{ group }}_requests is null and lake.{{ group }}_requests_raw is null
                and lake.all_requests is not null)
            then 0
    end as {{ group }}_items_requested_filled,
    {%- endfor %}
    lake.source_file,
    lake.source_row_number
from lake
{{ pseudo_country_joins('lake') }}

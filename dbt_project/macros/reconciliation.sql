{% macro requests_reason_vs_requester(requester_datasets) -%}
{#- Country and half-year where the requests by reason and the requests by requester come from the same
    vintage, are both uncensored, and differ. Each request has one requester and is counted under one
    product and reason, so both must add up to the same country total. -#}
with by_reason as (
    select source_id, period_end, country_code, any_value(requests_vintage) as vintage,
        sum(requests) as requests, bool_or(requests_is_censored) or count(requests) < count(*) as is_incomplete
    from {{ ref('int_google_removals__reason_periods_reconciled') }}
    where requests_vintage is not null
    group by all
),

by_requester as (
    select source_id, period_end, country_code, any_value(requests_vintage) as vintage,
        any_value(requests_dataset) as dataset,
        sum(requests) as requests, bool_or(requests_is_censored) or count(requests) < count(*) as is_incomplete
    from {{ ref('int_google_removals__requester_periods_reconciled') }}
    where requests_vintage is not null
    group by all
)

select r.source_id, r.period_end, r.country_code, r.vintage, q.dataset,
    r.requests as requests_by_reason, q.requests as requests_by_requester
from by_reason as r
join by_requester as q
    on q.source_id = r.source_id and q.period_end = r.period_end and q.country_code = r.country_code
where r.vintage = q.vintage
    and q.dataset in ({{ "'" ~ requester_datasets | join("', '") ~ "'" }})
    and not r.is_incomplete and not q.is_incomplete
    and r.requests <> q.requests
{%- endmacro %}

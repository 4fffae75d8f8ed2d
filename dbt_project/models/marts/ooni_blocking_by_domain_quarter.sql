-- OONI web_connectivity measurements per country, quarter and domain (one copy of each day: see
-- int_ooni_aggregates__domain_days_current), with the domain's test-list category.
with days as (
    select * from {{ ref('int_ooni_aggregates__domain_days_current') }}
)

select
    days.country_code,
    {{ quarter_label('days.measurement_day') }} as quarter,
    days.domain,
    any_value(categories.category_code) as category_code,
    sum(days.measurements)::bigint as measurements,
    sum(days.anomalies)::bigint as anomalies,
    sum(days.confirmed)::bigint as confirmed,
    sum(days.failures)::bigint as failures,
    sum(days.ok)::bigint as ok,
    (sum(days.anomalies) / nullif(sum(days.measurements), 0))::double as anomaly_rate,
    count(distinct days.measurement_day)::bigint as days_measured,
    min(days.measurement_day) as first_day,
    max(days.measurement_day) as last_day,
    any_value(categories.category) as category
from days
left join {{ ref('int_ooni_aggregates__domain_categories') }} as categories
    using (country_code, domain)
group by days.country_code, quarter, days.domain

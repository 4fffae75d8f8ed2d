-- Domains of news media, political criticism or human rights (seed blocking_category_groups) that OONI
-- saw blocked in a country and quarter: confirmed blocking (confirmed >= 1), or sustained anomalies
-- (anomaly_rate >= var blocked_min_anomaly_rate over at least var blocked_min_days measured days).
{%- set min_rate = var('blocked_min_anomaly_rate') %}
{%- set min_days = var('blocked_min_days') %}
select
    quarters.country_code,
    quarters.quarter,
    quarters.domain,
    quarters.category_code,
    quarters.category,
    quarters.measurements,
    quarters.anomalies,
    quarters.confirmed,
    quarters.anomaly_rate,
    quarters.days_measured as days_covered,
    quarters.first_day,
    quarters.last_day,
    case when quarters.confirmed >= 1 then 'confirmed' else 'sustained_anomalies' end as evidence,
    groups.category_group
from {{ ref('ooni_blocking_by_domain_quarter') }} as quarters
join {{ ref('blocking_category_groups') }} as groups using (category_code)
where quarters.confirmed >= 1
    or (quarters.anomaly_rate >= {{ min_rate }} and quarters.days_measured >= {{ min_days }})

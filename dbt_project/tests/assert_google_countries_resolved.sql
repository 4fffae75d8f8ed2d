-- Every row has a country code: the published one or a pseudo-code (seed country_pseudo_codes).
{%- set models = ['stg_google_removals__product_reason_requests',
                  'stg_google_removals__product_reason_requests_historical',
                  'stg_google_removals__requester_summaries',
                  'stg_google_removals__granular_requests',
                  'stg_google_removals__summary_historical'] %}
{% for model in models %}
{% if not loop.first %}union{% endif %}
select '{{ model }}' as model, country_name, country_code_raw, vintage, count(*) as rows
from {{ ref(model) }}
where country_code is null
group by all
{% endfor %}

-- Every reason label Google published maps to a harmonized reason (seed google_reason_labels).
-- Lists the unmapped spellings: add them to the seed, never guess them in SQL.
{%- set models = ['stg_google_removals__product_reason_requests',
                  'stg_google_removals__product_reason_requests_historical',
                  'stg_google_removals__granular_requests'] %}
{% for model in models %}
{% if not loop.first %}union{% endif %}
select '{{ model }}' as model, reason_label, vintage, count(*) as rows
from {{ ref(model) }}
where reason is null
group by all
{% endfor %}

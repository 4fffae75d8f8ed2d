-- Every requester label Google published maps to a harmonized requester (seed requester_labels).
{%- set models = ['stg_google_removals__requester_summaries', 'stg_google_removals__granular_requests'] %}
{% for model in models %}
{% if not loop.first %}union{% endif %}
select '{{ model }}' as model, requester_label, vintage, count(*) as rows
from {{ ref(model) }}
where requester is null
group by all
{% endfor %}

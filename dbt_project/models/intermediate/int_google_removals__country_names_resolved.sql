-- One name per country code. Files spell names differently ("United Arab Emirates" in the detailed and
-- summary files, "UAE" in the granular layout), so the name comes from the detailed file first, then the
-- summary layouts, then the granular layout, each time from the newest vintage and half-year.
-- Pseudo-codes (Europol, Interpol, Unknown) take their name from the seed.

with named as (
    {%- for model, rank in [('stg_google_removals__product_reason_requests', 1),
                            ('stg_google_removals__requester_summaries', 2),
                            ('stg_google_removals__summary_historical', 3),
                            ('stg_google_removals__product_reason_requests_historical', 4),
                            ('stg_google_removals__granular_requests', 5)] %}
    {% if not loop.first %}union all{% endif %}
    select distinct source_id, country_code, country_name, {{ rank }} as name_rank, vintage, period_end
    from {{ ref(model) }}
    {%- endfor %}
),

ranked as (
    select source_id, country_code, country_name
    from named
    qualify row_number() over (
        partition by source_id, country_code order by name_rank, vintage desc, period_end desc, country_name
    ) = 1
)

select
    ranked.source_id,
    ranked.country_code,
    coalesce(pseudo.country_name, ranked.country_name) as country_name,
    pseudo.country_code is not null as is_pseudo_code
from ranked
left join {{ ref('country_pseudo_codes') }} as pseudo on pseudo.country_code = ranked.country_code

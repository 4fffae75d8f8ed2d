{% macro strict_sum(expr) -%}
{#- Sum of counts that is NULL as soon as one input is NULL (unknown or censored, e.g. `<10`): a total
    that silently left out a value would be published as if it were exact. BIGINT, as the inputs. -#}
(case when count(*) = count({{ expr }}) then sum({{ expr }}) end)::bigint
{%- endmacro %}


{% macro half_of(period_end) -%}
case when month({{ period_end }}) <= 6 then 1 else 2 end
{%- endmacro %}


{% macro newest_per_period(candidates, partition_by='period_end') -%}
{#- Keep, for each period, only the rows of the newest vintage holding that period (vintage ids sort as
    text, e.g. 2023-03 < 2025-12 < 2026-03); within that vintage, the layout with the lowest
    `layout_rank` (the current file beats the historical one where both hold a period). Older vintages
    thus feed only the periods that no newer vintage has. -#}
select * from {{ candidates }}
qualify dense_rank() over (partition by {{ partition_by }} order by vintage desc, layout_rank asc) = 1
{%- endmacro %}


{% macro pseudo_country_joins(alias) -%}
{#- Europol, Interpol and UNKNOWN rows have no ISO code: look the published code text, then the published
    name, up in the seed `country_pseudo_codes`. -#}
left join {{ ref('country_pseudo_codes') }} as pseudo_by_code
    on pseudo_by_code.match_value = upper(trim({{ alias }}.country_code_raw))
left join {{ ref('country_pseudo_codes') }} as pseudo_by_name
    on pseudo_by_name.match_value = upper(trim({{ alias }}.country_name))
{%- endmacro %}


{% macro resolved_country_code(alias) -%}
coalesce(upper({{ alias }}.country_code), pseudo_by_code.country_code, pseudo_by_name.country_code)
{%- endmacro %}


{% macro period_columns(alias) -%}
{{ alias }}.period_end,
    year({{ alias }}.period_end) as year,
    {{ half_of(alias ~ '.period_end') }} as half
{%- endmacro %}


{% macro newest_per_period_layout_first(candidates, partition_by='period_end') -%}
{#- Like newest_per_period, but the layout ranks first: a lower-ranked layout of any vintage beats a
    higher-ranked one of a newer vintage (used where one layout is exact and the other an estimate). -#}
select * from {{ candidates }}
qualify dense_rank() over (partition by {{ partition_by }} order by layout_rank asc, vintage desc) = 1
{%- endmacro %}


{% macro sorted_vintages(columns) -%}
{#- '2025-12; 2026-03': the distinct non-NULL vintages of the given columns over the group. -#}
array_to_string(list_sort(list_distinct(flatten(list([{{ columns | join(', ') }}])))), '; ')
{%- endmacro %}

{% test valid_pseudo_country_code(model, column_name) %}
{#- Pseudo-codes must lie in ISO 3166-1's user-assigned ranges (AA, QM-QZ, XA-XZ, ZZ) and must not be XK,
    which CLDR uses for Kosovo. -#}
select {{ column_name }}
from {{ model }}
where not (
    {{ column_name }} = 'AA' or {{ column_name }} = 'ZZ'
    or regexp_full_match({{ column_name }}, 'Q[M-Z]') or regexp_full_match({{ column_name }}, 'X[A-Z]')
) or {{ column_name }} = 'XK'
{% endtest %}

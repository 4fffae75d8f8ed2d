{% test expression_is_true(model, expression, column_name=none) %}
{#- Every row satisfies the SQL expression (NULL counts as satisfied: unknown values are allowed). -#}
select * from {{ model }} where not coalesce(({{ expression }}), true)
{% endtest %}

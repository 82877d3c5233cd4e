{#- Post-hook of fct_data_freshness: a warning in the build log when the as-of date lies more
    than var freshness_warn_days past the newest data loaded, naming that date. -#}
{% macro warn_when_stale() %}
    {%- if execute -%}
        {%- set found = run_query(
            "select is_stale, newest_data_date, days_past_newest_data, as_of_date from " ~ this
        ) -%}
        {%- if found.rows and found.rows[0][0] -%}
            {%- set row = found.rows[0] -%}
            {%- do exceptions.warn(
                "stale data: the as-of date " ~ row[3] ~ " is " ~ row[2]
                ~ " days past the newest data loaded (" ~ row[1] ~ "; events, contracts, "
                ~ "surveys, goal measurements); more than var freshness_warn_days ("
                ~ var('freshness_warn_days') ~ ")"
            ) -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}

{#- The usage models' input: one row per event of stg_product__usage_event_deliveries
    (`events`, every delivery) with event_count 1, and one row per daily count of
    stg_product__usage_daily (`daily`) with its event_count and a null event_id. `columns`
    are read from both (the daily model names its day event_date, as the events do); `where`
    filters both.

    Events are de-duplicated by grouping their deliveries by event_id and the columns read.
    Every delivery of an event has the same content but received_at and its load (the loader
    quarantines any other re-delivery; the test same_content_per_key on the deliveries checks
    it), so that keeps one row per event. `loaded_at` becomes the newest load among the
    event's deliveries: the models' watermark (last_loaded_at) then covers a load that only
    re-delivered events, whose dates an incremental run recomputes anyway. Grouping replaces
    the window of stg_product__usage_events (row_number by event), which sorts every event of
    the dates read: at 100 M events, for the 5.3 M events of 21 days, the account-day
    aggregation took 2.7 s alone this way against 4.2 s through the window.

    Counts are sums of event_count. A count of users is null where a daily row has no user
    (users_counted below): the export did not say who was active. -#}
{% macro usage_activity(events, daily, columns, where) -%}
    select
        event_id,
        {{ columns | join(', ') }},
        cast(1 as {{ dbt.type_bigint() }}) as event_count,
        max(loaded_at) as loaded_at
    from {{ events }}
    where {{ where }}
    group by event_id, {{ columns | join(', ') }}
    union all
    select
        cast(null as {{ dbt.type_string() }}) as event_id,
        {{ columns | join(', ') }},
        event_count,
        loaded_at
    from {{ daily }}
    where {{ where }}
{%- endmacro %}

{#- `count_expression`, a count of users over the group, or null when a row of the group has
    no user (a daily count not broken down by user): never a count of the users that
    happen to be named. -#}
{% macro users_counted(count_expression, user_column='user_id') -%}
    case when count(*) = count({{ user_column }}) then {{ count_expression }} end
{%- endmacro %}

{#- Every delivery of every event (`events`, with event_count 1) and every daily count
    (`daily`, a null event_id), not de-duplicated: for the point-in-time models, which count
    distinct event ids and ask whether an event was received by a date (some copy was exactly
    when the first was). `where_events` and `where_daily` filter each side. -#}
{% macro usage_deliveries(events, daily, columns, where_events='1 = 1', where_daily='1 = 1') -%}
    select
        event_id,
        {{ columns | join(', ') }},
        cast(1 as {{ dbt.type_bigint() }}) as event_count
    from {{ events }}
    where {{ where_events }}
    union all
    select
        cast(null as {{ dbt.type_string() }}) as event_id,
        {{ columns | join(', ') }},
        event_count
    from {{ daily }}
    where {{ where_daily }}
{%- endmacro %}

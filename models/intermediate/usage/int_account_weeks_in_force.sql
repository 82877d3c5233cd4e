{#- Account-weeks in which the account had a contract in force at the week's end (grace
    bridged), with its seats and ARR then: the weeks a health score is computed for. The spine
    runs from the account's first such week with every week in between, so trailing windows can
    count rows. -#}
with

contracts as (
    select * from {{ ref('int_contracts_renewals_evaluated') }}
),

weeks as (
    select * from {{ ref('int_weeks') }}
),

in_force as (
    select
        contracts.account_id,
        weeks.week_start,
        sum(contracts.seats) as seats,
        sum(contracts.arr) as arr
    from weeks
    inner join contracts
        on
            weeks.week_end >= contracts.start_date
            and (
                contracts.coverage_end_date is null or weeks.week_end <= contracts.coverage_end_date
            )
    where weeks.is_complete_week
    group by contracts.account_id, weeks.week_start
),

first_week as (
    select
        account_id,
        min(week_start) as first_week
    from in_force
    group by account_id
),

spine as (
    select
        first_week.account_id,
        weeks.week_start,
        weeks.week_end
    from first_week
    inner join weeks
        on first_week.first_week <= weeks.week_start
    where weeks.is_complete_week
),

final as (
    select
        spine.account_id,
        spine.week_start,
        spine.week_end,
        in_force.account_id is not null as is_in_force,
        coalesce(in_force.seats, 0) as seats,
        coalesce(in_force.arr, 0) as arr,
        row_number() over (partition by spine.account_id order by spine.week_start) as week_number
    from spine
    left join in_force
        on
            spine.account_id = in_force.account_id
            and spine.week_start = in_force.week_start
)

select * from final

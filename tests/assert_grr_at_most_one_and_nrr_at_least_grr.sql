-- GRR never exceeds 100 % and NRR is never below GRR (monthly and trailing twelve months).
select
    month_start,
    segment,
    grr,
    nrr,
    grr_ttm,
    nrr_ttm
from {{ ref('fct_customer_metrics_monthly') }}
where
    grr > 1
    or nrr < grr
    or grr_ttm > 1
    or nrr_ttm < grr_ttm

"""Revenue marts on the demo data: plausible, internally consistent, every outcome reachable."""

from __future__ import annotations


def test_every_renewal_outcome_occurs_in_the_demo(read_only):
    outcomes = {
        r[0]
        for r in read_only.execute(
            "select distinct renewal_outcome from marts.fct_renewals"
        ).fetchall()
    }
    assert outcomes == {"renewed", "expanded", "contracted", "churned", "pending"}


def test_external_churn_is_kept_apart(read_only):
    categories = dict(
        read_only.execute(
            """select churn_reason_category, count(*) from marts.fct_renewals
            where renewal_outcome = 'churned' group by 1"""
        ).fetchall()
    )
    assert categories.get("controllable", 0) > 0
    assert set(categories) <= {"controllable", "external"}


def test_metrics_are_in_range(read_only):
    bad = read_only.execute(
        """select count(*) from marts.fct_customer_metrics_monthly
        where nps not between -100 and 100
           or csat_pct not between 0 and 100
           or csat_mean not between 1 and 5
           or logo_churn_rate not between 0 and 1
           or grr not between 0 and 1
           or nrr < 0
           or cltv < 0"""
    ).fetchone()[0]
    assert bad == 0


def test_current_arr_matches_the_latest_month(read_only):
    """dim_accounts' ARR as of the as-of date equals the current month's ending ARR."""
    dim, month = read_only.execute(
        """select
            (select sum(current_arr) from marts.dim_accounts),
            (select ending_arr from marts.fct_customer_metrics_monthly
             where segment = 'all' order by month_start desc limit 1)"""
    ).fetchone()
    assert dim == month


def test_renewals_cover_every_term_contract(read_only):
    contracts, renewals = read_only.execute(
        """select
            (select count(*) from staging.stg_billing__contracts where not is_open_ended),
            (select count(*) from marts.fct_renewals)"""
    ).fetchone()
    assert contracts == renewals > 0

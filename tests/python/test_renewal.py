"""Renewal prediction: no leakage, closed renewals only, backtest, determinism."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from itertools import pairwise

import duckdb
import pandas as pd
import pytest
from conftest import AS_OF

from customer_outcomes import renewal_model
from customer_outcomes.config import Settings
from customer_outcomes.dbt import run_dbt
from customer_outcomes.renewal_model import SIGNALS, content_key, run, shown_value, time_split
from customer_outcomes.renewal_model import Settings as ModelSettings

LABEL_COLUMNS = {
    "renewal_outcome",
    "is_closed",
    "renewed_label",
    "decided_on",
    "as_of_date",
    "is_in_horizon",
}


def _features(warehouse) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select * from intermediate.int_renewal_features order by contract_id"
        ).df()
    finally:
        con.close()


def _stored_settings(warehouse) -> ModelSettings:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        frame = con.execute("select * from intermediate.int_renewal_model_settings").df()
    finally:
        con.close()
    return renewal_model.settings_from_frame(frame)


LEAK_DATE = date.fromisoformat(AS_OF) - timedelta(days=120)

# Records dated after LEAK_DATE: changes to existing ones and new ones, in every raw table a
# feature could read.
TAMPERING = """
update raw.usage_events set event_name = 'feature_used', feature_key = 'dashboards'
    where received_at > $leak;
insert into raw.usage_events
    select 'late_' || event_id, account_id, user_id, event_name, feature_key,
           occurred_at - interval 30 day, $leak + interval 2 day, _source_file, _loaded_at,
           _batch_id
    from raw.usage_events where received_at > $leak;
update raw.nps_responses set score = 0 where responded_at > $leak;
insert into raw.nps_responses select 'x_' || response_id, account_id, user_id, 10, comment,
    $leak + interval 1 day, _source_file, _loaded_at, _batch_id from raw.nps_responses;
update raw.csat_responses set score = 1 where responded_at > $leak;
insert into raw.csat_responses select 'x_' || response_id, account_id, user_id, 5, touchpoint,
    $leak + interval 1 day, _source_file, _loaded_at, _batch_id from raw.csat_responses;
update raw.renewal_intents set answer = 'no' where asked_on > $leak;
insert into raw.renewal_intents select 'x_' || checkin_id, account_id, contract_id,
    cast($leak as date) + 1, 'yes', notes, _source_file, _loaded_at, _batch_id
    from raw.renewal_intents;
update raw.goal_measurements set value = -999 where recorded_at > $leak;
insert into raw.goal_measurements select 'x_' || measurement_id, goal_id,
    cast($leak as date) - 200, 1000000, source, $leak + interval 1 day, _source_file,
    _loaded_at, _batch_id from raw.goal_measurements;
insert into raw.customer_goals select goal_id, account_id, title, outcome_category, kpi_name,
    kpi_unit, baseline_value, target_value * 2 + 1, baseline_date, target_date, weight * 5,
    'abandoned', kpi_source, product_metric, customer_confirmed_outcome, created_at,
    $leak + interval 1 day, _source_file, _loaded_at, _batch_id from raw.customer_goals
    where updated_at <= $leak;
insert into raw.customer_goals select 'x_' || goal_id, account_id, title, outcome_category,
    kpi_name, kpi_unit, baseline_value, target_value, baseline_date, target_date, weight, status,
    kpi_source, product_metric, customer_confirmed_outcome, $leak + interval 1 day,
    $leak + interval 1 day, _source_file,
    _loaded_at, _batch_id from raw.customer_goals;
insert into raw.accounts select account_id, account_name, 'enterprise', industry, region,
    csm_owner, created_at, $leak + interval 1 day, _source_file, _loaded_at, _batch_id
    from raw.accounts;
insert into raw.contracts select 'x_' || contract_id, account_id, plan,
    cast($leak as date) - 400, null, arr * 10, seats * 10, $leak + interval 1 day,
    _source_file, _loaded_at, _batch_id from raw.contracts;
"""


def test_no_record_after_the_cutoff_changes_a_feature_row(built, tmp_path, monkeypatch):
    before = _features(built.warehouse)
    copy = tmp_path / "tampered.duckdb"
    shutil.copy(built.warehouse, copy)
    con = duckdb.connect(str(copy))
    leak = pd.Timestamp(LEAK_DATE) + pd.Timedelta(days=1)  # end of the leak date
    for statement in TAMPERING.split(";"):
        if statement.strip():
            con.execute(statement, {"leak": leak.to_pydatetime()})
    con.close()
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    settings = Settings(built.landing, copy, tmp_path / "serve.duckdb")
    # --full-refresh: every snapshot recomputed from the tampered data, not only the window.
    args = ["run", "-s", "+int_renewal_features", "--full-refresh"]
    assert run_dbt(settings, args, as_of=AS_OF, echo=False) == 0
    after = _features(copy)

    # One row per renewal and lead time: the model's cut-off and the lead-time ones alike.
    key = ["contract_id", "lead_days"]
    feature_cols = [c for c in before.columns if c not in LABEL_COLUMNS | set(key)]
    early = before["cutoff_date"] <= pd.Timestamp(LEAK_DATE)
    assert early.sum() > 50
    assert before[early]["lead_days"].nunique() == before["lead_days"].nunique()
    old = before[early].set_index(key)[feature_cols]
    new = after.set_index(key).loc[old.index, feature_cols]
    pd.testing.assert_frame_equal(old, new, check_exact=True)

    # The tampering is real: renewals cut off after the leak date do see it.
    late = before[~early].set_index(key).index
    changed = (
        before.set_index(key)
        .loc[late, ["nps_score", "segment", "goal_pace_pct"]]
        .compare(after.set_index(key).loc[late, ["nps_score", "segment", "goal_pace_pct"]])
    )
    assert len(changed) > 0
    # The contracts signed after the leak date and in force at later cut-offs add their seats.
    seats_before = before.set_index(key).loc[late, "seats"]
    assert (after.set_index(key).loc[late, "seats"] > seats_before).any()


def test_pending_renewals_are_never_trained_on(built):
    features = _features(built.warehouse)
    settings = ModelSettings()
    baseline = run(features, settings)
    poisoned = features.copy()
    pending = ~poisoned["is_closed"].astype(bool)
    assert pending.sum() > 0
    poisoned.loc[pending, "renewed_label"] = 1
    poisoned.loc[pending, "intent_score"] = 0.0
    poisoned.loc[pending, "goal_pace_pct"] = 0.0
    result = run(poisoned, settings)
    pd.testing.assert_frame_equal(baseline.signals, result.signals)
    pd.testing.assert_frame_equal(baseline.calibration, result.calibration)
    pd.testing.assert_frame_equal(baseline.lead_time, result.lead_time)
    assert baseline.model_version == result.model_version


def test_split_is_by_time():
    frame = pd.DataFrame({"renewal_date": pd.date_range("2025-01-01", periods=10)})
    train, test = time_split(frame, 0.3)
    assert len(test) == 3 and train["renewal_date"].max() < test["renewal_date"].min()


def test_full_model_is_as_good_as_the_best_single_signal_and_beats_usage_and_health(read_only):
    """The full model ranks renewals at least as well as the best single signal, within the
    noise of a 63-renewal test set, and better than the usage-trap signals (usage alone,
    health alone). "Strictly better than every signal" held here only by luck: training on the
    renewals decided by each of 30 dates four days apart up to AS_OF, the best single signal
    (intent, goal pace or CSAT) beat it on 6, by 0.034 AUC at most, while the full model beat
    usage and health by 0.061 or more on all 30."""
    rows = dict(
        read_only.execute(
            "select signal, roc_auc from marts.fct_renewal_signal_evaluation"
        ).fetchall()
    )
    assert set(rows) == {*SIGNALS, "full_model"}
    best_single = max(v for k, v in rows.items() if k != "full_model")
    print("AUC by signal:", {k: round(v, 3) for k, v in rows.items()})
    assert rows["full_model"] >= best_single - 0.05
    assert rows["full_model"] > max(rows["usage"], rows["health_score"]) + 0.05


def test_same_data_and_seed_give_identical_predictions(built, read_only):
    features = _features(built.warehouse)
    settings = _stored_settings(built.warehouse)  # the build's: weekly training date
    assert settings.training_date == date(2026, 6, 29)  # AS_OF 2026-06-30 is a Tuesday
    first = run(features, settings)
    second = run(features.sample(frac=1, random_state=1), settings)
    pd.testing.assert_frame_equal(first.predictions, second.predictions)
    stored = read_only.execute(
        "select contract_id, renewal_probability from marts.fct_renewal_predictions order by 1"
    ).df()
    mine = first.predictions[["contract_id", "renewal_probability"]].sort_values("contract_id")
    assert stored["renewal_probability"].tolist() == pytest.approx(
        mine["renewal_probability"].tolist(), abs=0
    )


def test_fits_side_by_side_give_the_same_result_as_one_after_another(built):
    """The training run's fits and the drivers' predictions run on a thread pool: every frame
    it returns is the same with one worker as with two."""
    features = _features(built.warehouse)
    serial = run(features, ModelSettings(seed=42), workers=1)
    parallel = run(features, ModelSettings(seed=42), workers=2)
    assert (
        serial.model_type == parallel.model_type and serial.model_version == parallel.model_version
    )
    for name in ("predictions", "signals", "calibration"):
        pd.testing.assert_frame_equal(getattr(serial, name), getattr(parallel, name))
    assert parallel.predictions["top_drivers"].str.contains("pts)", regex=False).any()


def test_drivers_from_one_transform_equal_a_transform_per_swapped_feature(built, monkeypatch):
    """The drivers transform the pending rows once and swap each feature's transformed
    columns; the same run that transforms each swapped frame in full gives the same text."""
    features = _features(built.warehouse)
    mappings = []
    real = renewal_model._output_columns
    monkeypatch.setattr(
        renewal_model, "_output_columns", lambda *a: mappings.append(real(*a)) or mappings[-1]
    )
    fast = run(features, ModelSettings(seed=42), workers=1)
    assert mappings and all(m is not None for m in mappings)  # the one-transform path ran
    monkeypatch.setattr(renewal_model, "_output_columns", lambda prep, columns: None)
    slow = run(features, ModelSettings(seed=42), workers=1)
    pd.testing.assert_frame_equal(fast.predictions, slow.predictions)
    assert fast.predictions["top_drivers"].str.contains("pts)", regex=False).sum() > 0


def test_driver_values_read_with_their_units():
    cases = {
        ("csat_pct", 0.0): "0%",
        ("goal_pace_pct", 8.12): "8%",
        ("seat_utilization", 0.456): "46%",
        ("usage_trend_ratio", 0.85): "85%",
        ("user_days_per_seat_28d", 12.34): "12.3",
        ("nps_score", 10.0): "+10",
        ("nps_score", -20.0): "-20",
        ("tenure_days", 1234.0): "1,234 days",
        ("log_expiring_arr", 12_345_678.0): "12,345,678",
        ("health_score", 62.4): "62",
        ("open_triggers", 3.0): "3",
        ("latest_intent_answer", "not_sure"): "not sure",
        ("csat_pct", float("nan")): "unknown",
        ("segment", "missing"): "unknown",
    }
    assert {key: shown_value(*key) for key in cases} == cases


def test_an_arr_driver_reads_as_the_expiring_arr(built):
    """When ARR pulls a renewal down, the driver shows the contract's expiring ARR itself,
    not its logarithm the model uses: here every churned renewal had a large ARR."""
    features = _features(built.warehouse)
    churned = features["renewed_label"].eq(False)
    features["expiring_arr"] = features["expiring_arr"].where(~churned, 987_654.0)
    pending = features["renewed_label"].isna()
    features.loc[pending, "expiring_arr"] = 987_654.0
    result = run(features, ModelSettings(seed=42), workers=1)
    drivers = result.predictions["top_drivers"].dropna()
    assert drivers.str.contains("ARR 987,654 (", regex=False).any(), drivers.head().tolist()


def test_predictions_cover_pending_renewals_in_the_horizon(read_only):
    n_pred, n_due = read_only.execute(
        """select
            (select count(*) from marts.fct_renewal_predictions),
            (select count(*) from intermediate.int_renewal_features
             where not is_closed and is_in_horizon and is_model_cutoff)"""
    ).fetchone()
    assert n_pred == n_due > 0
    unknown = read_only.execute(
        """select count(*) from marts.fct_renewal_predictions
        where contract_id not in (select contract_id from marts.fct_renewals)"""
    ).fetchone()[0]
    assert unknown == 0
    drivers = read_only.execute(
        """select count(*) from marts.fct_renewal_predictions
        where risk_band = 'high' and top_drivers like '%pts)%'"""
    ).fetchone()[0]
    assert drivers > 0


def test_the_training_key_depends_on_the_values_not_the_row_order():
    """The stored training is found by a key of the rows' values only (not their order or
    memory layout), and any changed value is a new key."""
    frame = pd.DataFrame(
        {"contract_id": ["c2", "c1", "c3"], "arr": [1.5, 2.0, None], "segment": ["a", "b", "a"]}
    )
    shuffled = frame.sample(frac=1, random_state=3).copy()
    rebuilt = pd.DataFrame({c: list(frame[c]) for c in frame.columns})
    assert content_key(frame) == content_key(shuffled) == content_key(rebuilt)
    changed = frame.copy()
    changed.loc[0, "arr"] = 1.6
    assert content_key(changed) != content_key(frame)
    assert content_key(frame.rename(columns={"arr": "acv"})) != content_key(frame)


def _no_training(*args, **kwargs):
    raise RuntimeError("trained")


def test_training_is_kept_and_reused_while_the_closed_renewals_are_the_same(
    built, tmp_path, monkeypatch
):
    """A run with a cache directory stores its training; a later run whose closed renewals
    are the same reads it back and only scores (no fit), with the same output as a run that
    trains; a changed closed renewal is a new training, and only the newest are kept."""
    features = _features(built.warehouse)
    settings = ModelSettings(seed=42)
    first = run(features, settings, cache_dir=tmp_path)
    stored = list(tmp_path.glob("renewal-*.pkl"))
    assert len(stored) == 1

    later = features.copy()  # a later day: the pending renewals' features moved
    for col in ("intent_score", "goal_pace_pct", "health_score", "csat_pct"):
        later.loc[~later["is_closed"].astype(bool), col] = 0.0
    trained_again = run(later, settings)
    assert not trained_again.predictions.equals(first.predictions)
    monkeypatch.setattr(renewal_model, "_fit", _no_training)
    reused = run(later, settings, cache_dir=tmp_path)
    assert (reused.model_type, reused.model_version) == (
        trained_again.model_type,
        trained_again.model_version,
    )
    for name in ("predictions", "signals", "calibration"):
        pd.testing.assert_frame_equal(getattr(reused, name), getattr(trained_again, name))

    relabelled = features.copy()
    closed = relabelled.index[relabelled["is_closed"].astype(bool)]
    relabelled.loc[closed[0], "renewed_label"] = 1 - relabelled.loc[closed[0], "renewed_label"]
    with pytest.raises(RuntimeError, match="trained"):
        run(relabelled, settings, cache_dir=tmp_path)
    monkeypatch.undo()
    monkeypatch.setattr(renewal_model, "CACHE_KEEP", 1)
    run(relabelled, settings, cache_dir=tmp_path)
    kept = list(tmp_path.glob("renewal-*.pkl"))
    assert len(kept) == 1 and kept != stored


def test_an_unreadable_stored_training_is_trained_again(built, tmp_path):
    features = _features(built.warehouse)
    settings = ModelSettings(seed=42)
    first = run(features, settings, cache_dir=tmp_path)
    (stored,) = tmp_path.glob("renewal-*.pkl")
    stored.write_bytes(b"not a pickle")
    second = run(features, settings, cache_dir=tmp_path)
    for name in ("predictions", "signals", "calibration"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    assert stored.read_bytes() != b"not a pickle"


def _window_end(features: pd.DataFrame, grace: int = 30) -> pd.Series:
    """The day each renewal's outcome is known either way: renewal date + grace period."""
    return (pd.to_datetime(features["renewal_date"]) + pd.Timedelta(days=grace)).dt.date


def test_only_renewals_whose_outcome_window_closed_are_trained_on():
    """Training date 2026-06-01, grace 30 days: a renewal enters training or test only when
    renewal date + 30 < 2026-06-01 (a churn is known the day after its grace period), that is
    renewal date on or before 2026-05-01, whatever day it was decided. By hand: r1 renewed
    early (signed 03-01) for 04-15: window closed 05-15, in. r2 churned, renewal 05-02: window
    closes 06-01, the training date itself, out (its churn is known on 06-02). r3 renewed early
    (signed 04-20) for 05-10: window closes 06-09, out, although decided before the training
    date. r4 renewal 05-20, still pending in its grace period: out. r5 churned 03-01: in. r6
    renewed, renewal 2026-07-01 signed 05-01: out."""
    rows = pd.DataFrame(
        {
            "contract_id": ["r1", "r2", "r3", "r4", "r5", "r6"],
            "renewal_date": pd.to_datetime(
                ["2026-04-15", "2026-05-02", "2026-05-10", "2026-05-20", "2026-03-01", "2026-07-01"]
            ),
            "is_closed": [True, True, True, False, True, True],
            "decided_on": pd.to_datetime(
                ["2026-03-01", "2026-06-01", "2026-04-20", None, "2026-03-31", "2026-05-01"]
            ),
            "as_of_date": pd.to_datetime(["2026-06-03"] * 6),
        }
    )
    picked = renewal_model.training_set(rows, date(2026, 6, 1), grace_period_days=30)
    assert sorted(picked["contract_id"]) == ["r1", "r5"]
    # Without a training date, the rows' as-of date (2026-06-03): r2 is in, r3 still waits.
    assert sorted(renewal_model.training_set(rows, None, 30)["contract_id"]) == ["r1", "r2", "r5"]
    assert sorted(renewal_model.training_set(rows, date(2026, 6, 10), 30)["contract_id"]) == [
        "r1",
        "r2",
        "r3",
        "r5",
    ]


def test_renewals_whose_outcome_window_is_open_change_nothing(built):
    """On the demo data: flipping the label and a feature of every closed renewal whose window
    has not closed before the training date changes neither the training nor a score, and the
    training and test sets together hold exactly the closed renewals whose window closed."""
    features = _features(built.warehouse)
    closed = features["is_closed"].astype(bool)
    training_date = date.fromisoformat(AS_OF) - timedelta(days=60)
    open_window = closed & (_window_end(features) >= training_date)
    assert 0 < open_window.sum() < closed.sum()
    settings = ModelSettings(seed=42, training_date=training_date)
    baseline = run(features, settings)
    n = baseline.signals.iloc[0]
    at_model_cutoff = features["is_model_cutoff"].astype(bool)
    assert n["n_train"] + n["n_test"] == (closed & ~open_window & at_model_cutoff).sum()
    assert set(baseline.lead_time["n_train"] + baseline.lead_time["n_test"]) == {
        n["n_train"] + n["n_test"]
    }
    poisoned = features.copy()
    poisoned.loc[open_window, "renewed_label"] = 1 - poisoned.loc[open_window, "renewed_label"]
    poisoned.loc[open_window, "intent_score"] = 0.0
    result = run(poisoned, settings)
    assert result.model_version == baseline.model_version
    for name in ("predictions", "signals", "calibration", "lead_time"):
        pd.testing.assert_frame_equal(getattr(result, name), getattr(baseline, name))


def test_a_renewal_decided_during_the_week_reuses_the_weeks_training(built, tmp_path, monkeypatch):
    """A later day of the same week: a pending renewal has been decided since the Monday
    (closed, its outcome window still open) and the pending features moved. The weekly
    training date keeps the training set, so the stored training serves it (no fit); a
    training date on which another window has closed trains again."""
    features = _features(built.warehouse)
    monday = date(2026, 6, 29)
    weekly = ModelSettings(seed=42, training_date=monday)
    first = run(features, weekly, cache_dir=tmp_path)
    later = features.copy()
    pending = later.index[~later["is_closed"].astype(bool)]
    later.loc[pending, "intent_score"] = 0.0
    scored = later.loc[pending, "is_in_horizon"].astype(bool)
    contract = later.loc[pending[scored][0], "contract_id"]
    decided = later.index[later["contract_id"] == contract]  # at every cut-off
    later.loc[decided, ["is_closed", "renewed_label", "renewal_outcome"]] = [True, 0, "churned"]
    later["decided_on"] = later["decided_on"].astype(object)
    later.loc[decided, "decided_on"] = date(2026, 7, 1)
    monkeypatch.setattr(renewal_model, "_fit", _no_training)
    reused = run(later, weekly, cache_dir=tmp_path)
    assert reused.model_version == first.model_version
    pd.testing.assert_frame_equal(reused.signals, first.signals)
    # Decided since the Monday: scored before, now neither trained on nor scored.
    assert contract in set(first.predictions["contract_id"])
    assert contract not in set(reused.predictions["contract_id"])
    # The day after another outcome window has closed, the training runs again.
    next_close = min(d for d in _window_end(later)[later["is_closed"].astype(bool)] if d >= monday)
    next_day = next_close + timedelta(days=1)
    with pytest.raises(RuntimeError, match="trained"):
        run(later, ModelSettings(seed=42, training_date=next_day), cache_dir=tmp_path)


def test_the_training_is_found_by_its_rows_not_by_the_training_date(built, tmp_path, monkeypatch):
    """Two training dates with no outcome window closing between them choose the same rows:
    the second run reads the first one's training (no fit) and reports the same
    model_version, as the date is not part of the training's key."""
    features = _features(built.warehouse)
    ends = sorted(set(_window_end(features)[features["is_closed"].astype(bool)]))
    # The longest stretch between two windows closing before the as-of date: the day after
    # the first closes, and the day the second closes (it trains only the day after).
    gaps = [(b - a, a, b) for a, b in pairwise(ends) if b <= date(2026, 6, 30)]
    _, first_end, second_date = max(gaps)
    first_date = first_end + timedelta(days=1)
    assert second_date > first_date
    first = run(features, ModelSettings(seed=42, training_date=first_date), cache_dir=tmp_path)
    monkeypatch.setattr(renewal_model, "_fit", _no_training)
    second = run(features, ModelSettings(seed=42, training_date=second_date), cache_dir=tmp_path)
    assert second.model_version == first.model_version
    pd.testing.assert_frame_equal(second.signals, first.signals)


def test_settings_read_the_training_date_and_the_minimums():
    frame = pd.DataFrame(
        {
            "test_share": [0.3],
            "seed": [7],
            "risk_high_below": [0.5],
            "risk_medium_below": [0.75],
            "training_date": [pd.Timestamp("2026-03-02")],
        }
    )
    assert renewal_model.settings_from_frame(frame) == ModelSettings(
        seed=7, training_date=date(2026, 3, 2)
    )
    frame["training_date"] = [date(2026, 3, 2)]  # a date object, as some drivers return it
    assert renewal_model.settings_from_frame(frame).training_date == date(2026, 3, 2)
    assert renewal_model.settings_from_frame(frame.drop(columns="training_date")) == (
        ModelSettings(seed=7)
    )
    frame["grace_period_days"] = [45]
    frame["min_training"] = [10]
    frame["min_evaluated"] = [5]
    assert renewal_model.settings_from_frame(frame) == ModelSettings(
        seed=7,
        training_date=date(2026, 3, 2),
        grace_period_days=45,
        min_training=10,
        min_evaluated=5,
    )


def _statuses(result) -> dict[str, str]:
    return dict(zip(result.signals["signal"], result.signals["status"], strict=True))


def test_signals_without_data_are_not_scored(built):
    """A customer base with no NPS, no goals and no renewal-intent answers: those signals are
    no_data with no AUC or Brier score, and the others are still scored."""
    features = _features(built.warehouse)
    for col in ("nps_score", "goal_pace_pct", "goal_attainment_pct", "intent_score"):
        features[col] = None
    result = run(features, ModelSettings(seed=42))
    statuses = _statuses(result)
    assert {s: statuses[s] for s in ("nps", "goal_attainment", "renewal_intent")} == {
        "nps": "no_data",
        "goal_attainment": "no_data",
        "renewal_intent": "no_data",
    }
    silent = result.signals[result.signals["status"] != "ok"]
    assert silent["roc_auc"].isna().all() and silent["brier_score"].isna().all()
    assert statuses["usage"] == statuses["health_score"] == "ok"
    assert result.signals.set_index("signal").loc["nps", "n_with_signal"] == 0


def test_a_signal_on_too_few_or_one_class_renewals_is_not_scored(built):
    features = _features(built.warehouse)
    many = run(features, ModelSettings(seed=42, min_evaluated=10_000))
    assert set(_statuses(many).values()) <= {"too_few", "no_data"}
    assert _statuses(many)["full_model"] == "too_few"
    assert many.signals["roc_auc"].isna().all()
    one_class = features.copy()
    one_class["renewed_label"] = one_class["renewed_label"].where(
        ~one_class["is_closed"].astype(bool), 1
    )
    result = run(one_class, ModelSettings(seed=42))
    assert result.model_status == "one_class"
    assert set(result.signals["status"]) <= {"one_class", "no_data"}
    assert result.predictions["renewal_probability"].isna().all()


def test_a_model_that_learned_nothing_scores_nothing(built):
    """Every feature the same for every renewal: the model can keep no feature, its
    probabilities are the base rate. Its predictions say no_signal, with no probability, band,
    ARR at risk or drivers, and the full model's row has no score."""
    features = _features(built.warehouse)
    for col in renewal_model.NUMERIC:
        features[col] = 1.0 if col != "expiring_arr" else features[col]
    features["expiring_arr"] = 1000.0
    for col in renewal_model.CATEGORICAL:
        features[col] = "same"
    result = run(features, ModelSettings(seed=42))
    assert result.model_status == "no_signal"
    predictions = result.predictions
    assert len(predictions) > 0 and (predictions["model_status"] == "no_signal").all()
    for col in ("renewal_probability", "risk_band", "arr_at_risk", "top_drivers"):
        assert predictions[col].isna().all(), col
    full = result.signals.set_index("signal").loc["full_model"]
    assert full["status"] == "no_signal" and pd.isna(full["roc_auc"])


def test_a_training_set_below_the_minimum_trains_no_model(built):
    features = _features(built.warehouse)
    result = run(features, ModelSettings(seed=42, min_training=10_000))
    assert result.model_status == "too_few"
    assert (result.predictions["model_status"] == "too_few").all()
    assert result.predictions["renewal_probability"].isna().all()
    assert result.calibration.empty


def _lead_rows() -> pd.DataFrame:
    """40 closed renewals (r00-r39, 2026-01-01 on, renewed and churned in turn) and one whose
    outcome window is still open on the training date 2026-06-01 (late, 2026-05-20,
    renewed), each at the leads 30, 90 (the model's cut-off) and 180. NPS at 30 days is +100
    for a renewal, -100 for a churn (late: -100); at 180 days 0 for all; at 90 days missing.
    No other signal has data."""
    ids = [f"r{i:02d}" for i in range(40)] + ["late"]
    dates = [*pd.date_range("2026-01-01", periods=40), pd.Timestamp("2026-05-20")]
    labels = [1 - i % 2 for i in range(40)] + [1]
    rows = []
    for lead, nps in ((30, lambda y: 100.0 if y else -100.0), (90, None), (180, lambda y: 0.0)):
        for contract_id, renewal_date, y in zip(ids, dates, labels, strict=True):
            score = None if nps is None else nps(y)
            if contract_id == "late" and lead == 30:
                score = -100.0
            rows.append(
                {
                    "contract_id": contract_id,
                    "account_id": "a_" + contract_id,
                    "lead_days": lead,
                    "is_model_cutoff": lead == 90,
                    "is_lead_time_cutoff": True,
                    "renewal_date": renewal_date,
                    "cutoff_date": renewal_date - pd.Timedelta(days=lead),
                    "is_closed": True,
                    "renewed_label": y,
                    "is_in_horizon": False,
                    "expiring_arr": 1000.0,
                    "as_of_date": pd.Timestamp("2026-06-03"),
                    "nps_score": score,
                }
            )
    frame = pd.DataFrame(rows)
    for col in renewal_model.NUMERIC:
        if col not in frame:
            frame[col] = None
    for col in renewal_model.CATEGORICAL:
        frame[col] = None
    return frame


def test_each_signal_is_evaluated_at_each_lead_time_on_the_closed_renewals():
    """By hand: the 40 renewals whose window closed split 30 / 10 (test share 0.25: the newest
    10, r30-r39, five renewed and five churned); "late" is in neither. NPS 30 days ahead
    separates them perfectly: AUC 1.0 on 10 test renewals. 180 days ahead it is the same for
    all, so the fitted probabilities are all equal: AUC 0.5. At 90 days nobody carries it:
    no_data, no score. CSAT and the others carry no data at any lead."""
    settings = ModelSettings(
        seed=42, test_share=0.25, training_date=date(2026, 6, 1), min_training=1000, min_evaluated=5
    )
    result = run(_lead_rows(), settings, workers=1)
    lead = result.lead_time.set_index(["signal", "lead_days"])
    assert sorted(set(result.lead_time["lead_days"])) == [30, 90, 180]
    assert set(result.lead_time["n_test"]) == {10} and set(result.lead_time["n_train"]) == {30}
    assert lead.loc[("nps", 30), "status"] == "ok"
    assert lead.loc[("nps", 30), "roc_auc"] == 1.0
    assert lead.loc[("nps", 30), "n_with_signal"] == 10
    assert lead.loc[("nps", 180), "roc_auc"] == 0.5
    assert lead.loc[("nps", 90), "status"] == "no_data"
    assert pd.isna(lead.loc[("nps", 90), "roc_auc"])
    others = result.lead_time[result.lead_time["signal"] != "nps"]
    assert set(others["status"]) == {"no_data"} and others["roc_auc"].isna().all()
    # The model's own evaluation is the 90-day row, on the same renewals.
    nps = result.signals.set_index("signal").loc["nps"]
    assert nps["status"] == "no_data" and nps["n_test"] == 10


def test_the_lead_time_at_the_models_cutoff_is_the_signal_evaluation(read_only):
    """On the demo data: the 90-day row of every signal (the model's cut-off) is its row of
    fct_renewal_signal_evaluation, and every lead time is scored on the same test renewals."""
    lead = read_only.execute(
        """select signal, status, roc_auc, brier_score, n_with_signal, n_test, n_train
        from marts.fct_renewal_signal_lead_time where lead_days = 90 order by signal"""
    ).df()
    evaluation = read_only.execute(
        """select signal, status, roc_auc, brier_score, n_with_signal, n_test, n_train
        from marts.fct_renewal_signal_evaluation where signal <> 'full_model' order by signal"""
    ).df()
    assert len(lead) == len(SIGNALS)
    pd.testing.assert_frame_equal(lead, evaluation)
    leads, n_test = read_only.execute(
        """select list(distinct lead_days order by lead_days), count(distinct n_test)
        from marts.fct_renewal_signal_lead_time"""
    ).fetchone()
    assert list(leads) == [30, 60, 90, 180] and n_test == 1

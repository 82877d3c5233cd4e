"""Renewal prediction (docs/metrics.md): time-based backtest, model choice, scoring, signals.

Called by ``renewal_step`` (the Dagster asset ``renewal_model``) with the rows of
``int_renewal_features`` (features as of each renewal's cut-off). A renewal is trained and
evaluated on only once its outcome window has closed by the training date (renewal date + grace
period <= training date; by default the training date is the Monday of the as-of week, so the
training is the same all week): a renewal can be signed early, a churn is known only when the
grace period ends, so an earlier rule would see the recent renewals but not the recent churns.
Pending ones are only scored. Everything is seeded, and rows are sorted first, so the same data
and seed give the same output.

Signal lead time: the rows of ``int_renewal_features`` flagged ``is_lead_time_cutoff`` hold
the same renewals' features at other cut-offs (``lead_days`` before the renewal date); each
signal is evaluated at each lead on the same closed renewals and the same split.

Honest empty cases: a signal with no data, one class or too few test renewals gets a status
and no score; a model trained on too few renewals, on one class, or that learned nothing
(``no_signal``) scores nothing and says so in ``model_status``.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .config import threads

NUMERIC = [
    "health_score",
    "goal_pace_pct",
    "goal_attainment_pct",
    "intent_score",
    "nps_score",
    "csat_pct",
    "user_days_per_seat_28d",
    "seat_utilization",
    "usage_trend_ratio",
    "core_features_28d",
    "tenure_days",
    "log_expiring_arr",
    "open_triggers",
    "active_goals_off_track",
    "goals_total",
]
CATEGORICAL = ["segment", "value_realization_level", "health_band", "latest_intent_answer"]
# Each single signal the marts evaluate, and the feature that carries it.
SIGNALS = {
    "nps": "nps_score",
    "csat": "csat_pct",
    "health_score": "health_score",
    "usage": "user_days_per_seat_28d",
    "goal_attainment": "goal_pace_pct",
    "renewal_intent": "intent_score",
}
LABELS = {
    "health_score": "health score",
    "goal_pace_pct": "goal pace",
    "goal_attainment_pct": "goal attainment",
    "intent_score": "renewal intent score",
    "nps_score": "NPS",
    "csat_pct": "CSAT",
    "user_days_per_seat_28d": "user-days per seat in 28 days",
    "seat_utilization": "seat utilization",
    "usage_trend_ratio": "usage against the 28 days before",
    "core_features_28d": "core features used",
    "tenure_days": "tenure",
    "log_expiring_arr": "ARR",
    "open_triggers": "open intervention triggers",
    "active_goals_off_track": "goals off track",
    "goals_total": "goals recorded",
    "segment": "segment",
    "value_realization_level": "value realized",
    "health_band": "health band",
    "latest_intent_answer": "renewal intent",
}
# How a feature's value reads in a driver.
SHOWN = {
    "goal_pace_pct": "{:.0f}%",
    "goal_attainment_pct": "{:.0f}%",
    "csat_pct": "{:.0f}%",
    "seat_utilization": "{:.0%}",
    "usage_trend_ratio": "{:.0%}",
    "user_days_per_seat_28d": "{:.1f}",
    "nps_score": "{:+.0f}",
    "tenure_days": "{:,.0f} days",
    "log_expiring_arr": "{:,.0f}",  # the expiring ARR itself (see _drivers)
}


def shown_value(col: str, value) -> str:
    """A feature's value as a driver phrase shows it: percentages with %, ratios as
    percentages, ARR with thousands separators, categories in words, other numbers whole."""
    if value is None or value != value or (col in CATEGORICAL and value == "missing"):
        return "unknown"  # (prepare() names a missing category "missing")
    if col in CATEGORICAL:
        return str(value).replace("_", " ")
    return SHOWN.get(col, "{:.0f}").format(value)


@dataclass(frozen=True)
class Settings:
    test_share: float = 0.3
    seed: int = 42
    risk_high_below: float = 0.5
    risk_medium_below: float = 0.75
    # Train on the renewals whose outcome window (renewal date + grace_period_days) closed on
    # or before this date (None: the rows' as_of_date).
    training_date: date | None = None
    grace_period_days: int = 30
    # Fewer closed renewals than this in the training set: no model (model_status 'too_few').
    min_training: int = 40
    # Fewer test renewals carrying a signal than this: no score (status 'too_few').
    min_evaluated: int = 20


# A model whose probabilities on its training set all lie within this distance of the base
# rate (or of one another) has learned nothing that ranks accounts: model_status 'no_signal'.
NO_SIGNAL_BAND = 0.02


@dataclass
class Result:
    predictions: pd.DataFrame
    signals: pd.DataFrame
    calibration: pd.DataFrame
    model_version: str
    model_type: str
    model_status: str
    lead_time: pd.DataFrame


@dataclass
class Trained:
    """What the training set (the closed renewals whose outcome window closed by the training
    date) alone decides: the model chosen, refitted on all of it, its test-set evaluation and
    its status (ok, no_signal, too_few, one_class; ``final`` is None unless ok)."""

    model_type: str
    final: Pipeline | None
    signals: pd.DataFrame
    calibration: pd.DataFrame
    version: str
    status: str = "ok"
    lead_time: pd.DataFrame | None = None


def settings_from_frame(frame: pd.DataFrame) -> Settings:
    """Settings from the one-row model int_renewal_model_settings (the project vars)."""
    row = frame.iloc[0]
    optional = {
        name: int(row[name])
        for name in ("grace_period_days", "min_training", "min_evaluated")
        if name in frame.columns and pd.notna(row[name])
    }
    return Settings(
        test_share=float(row["test_share"]),
        seed=int(row["seed"]),
        risk_high_below=float(row["risk_high_below"]),
        risk_medium_below=float(row["risk_medium_below"]),
        training_date=(
            pd.Timestamp(row["training_date"]).date()
            if "training_date" in frame.columns and pd.notna(row["training_date"])
            else None
        ),
        **optional,
    )


def prepare(features: pd.DataFrame) -> pd.DataFrame:
    keys = ["renewal_date", "contract_id", *(["lead_days"] if "lead_days" in features else [])]
    df = features.copy().sort_values(keys).reset_index(drop=True)
    df["log_expiring_arr"] = np.log1p(pd.to_numeric(df["expiring_arr"], errors="coerce"))
    for col in NUMERIC:
        # Rounded: the warehouse sums floats in parallel, so the last bits of an average can
        # differ between runs; they must not change a prediction.
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64").round(6)
    for col in CATEGORICAL:
        df[col] = df[col].astype("object").where(df[col].notna(), "missing").astype(str)
    return df


def time_split(closed: pd.DataFrame, test_share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Oldest renewals train, newest test: never a random split."""
    n_test = max(1, math.ceil(len(closed) * test_share))
    return closed.iloc[: len(closed) - n_test], closed.iloc[len(closed) - n_test :]


def _preprocess(numeric: list[str], categorical: list[str]) -> ColumnTransformer:
    parts = [
        (
            "num",
            Pipeline(
                [
                    ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                    ("scale", StandardScaler()),
                ]
            ),
            numeric,
        )
    ]
    if categorical:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore"), categorical))
    return ColumnTransformer(parts)


def _candidates(seed: int) -> dict[str, Pipeline]:
    return {
        "logistic_regression": Pipeline(
            [
                ("prep", _preprocess(NUMERIC, CATEGORICAL)),
                (
                    "model",
                    LogisticRegression(
                        l1_ratio=1, C=0.05, solver="liblinear", max_iter=2000, random_state=seed
                    ),
                ),
            ]
        ),
        "gradient_boosting": Pipeline(
            [
                ("prep", _preprocess(NUMERIC, CATEGORICAL)),
                (
                    "model",
                    HistGradientBoostingClassifier(
                        max_depth=3, learning_rate=0.05, max_iter=150, random_state=seed
                    ),
                ),
            ]
        ),
    }


def _scores(y: pd.Series, p: np.ndarray) -> tuple[float | None, float | None]:
    if len(y) == 0:
        return None, None
    auc = float(roc_auc_score(y, p)) if y.nunique() == 2 else None
    return auc, float(brier_score_loss(y, p))


def _fit(pipe: Pipeline, frame: pd.DataFrame) -> Pipeline:
    y = frame["renewed_label"].astype(int)
    if y.nunique() < 2:
        raise ValueError("renewal model: the training set needs both renewed and churned renewals")
    return pipe.fit(frame[NUMERIC + CATEGORICAL], y)


def _output_columns(prep, columns: list[str]) -> dict[str, list[int]] | None:
    """The transformed columns each input column alone makes (its scaled value, its
    missing-value indicator, its one-hot block), by the names the preprocessing gives them;
    None if a name is not one of those, so the caller falls back to transforming every
    swapped frame."""
    names = list(prep.get_feature_names_out())
    owned: dict[str, list[int]] = {col: [] for col in columns}
    for i, name in enumerate(names):
        owners = [
            col
            for col in columns
            if name in (f"num__{col}", f"num__missingindicator_{col}")
            or (col in CATEGORICAL and name.startswith(f"cat__{col}_"))
        ]
        if len(owners) != 1:
            return None
        owned[owners[0]].append(i)
    return owned


def _drivers(
    pipe: Pipeline, rows: pd.DataFrame, reference: pd.DataFrame, pool: Executor | None = None
) -> list[str]:
    """Top 3 features pulling each probability down: the drop against a typical value.

    Every step of the preprocessing works column by column, so the transformed frame with one
    column set to its typical value is the transformed frame with that column's outputs set to
    the typical row's: the rows are transformed once, not once per feature (at 100 M events,
    11.6 K pending renewals: 1.8 s of the training run's 5.3 s before)."""
    columns = NUMERIC + CATEGORICAL
    x = rows[columns]
    typical = x.iloc[:1].copy()
    for col in columns:
        typical[col] = reference[col].median() if col in NUMERIC else reference[col].mode().iloc[0]
    prep, model = pipe[:-1], pipe[-1]
    owned = _output_columns(prep, columns)
    if owned is None:  # a preprocessing whose outputs cannot be told apart: swap and transform

        def swapped_probability(col: str) -> np.ndarray:
            swapped = x.copy()
            swapped[col] = typical[col].iloc[0]
            return pipe.predict_proba(swapped)[:, 1]

    else:
        xt = np.asarray(prep.transform(x))
        typical_t = np.asarray(prep.transform(typical))[0]

        def swapped_probability(col: str) -> np.ndarray:
            swapped = xt.copy()
            swapped[:, owned[col]] = typical_t[owned[col]]
            return model.predict_proba(swapped)[:, 1]

    base = pipe.predict_proba(x)[:, 1]
    swapped = pool.map(swapped_probability, columns) if pool else map(swapped_probability, columns)
    impacts = {col: base - p for col, p in zip(columns, swapped, strict=True)}
    # Column values as lists: reading them row by row through .iloc took 60 % of this
    # function at 12 K pending renewals.
    values = {col: x[col].tolist() for col in columns}
    # ARR reads as the expiring ARR, not as its (rounded) logarithm the model uses.
    values["log_expiring_arr"] = pd.to_numeric(rows["expiring_arr"], errors="coerce").tolist()
    out = []
    for i in range(len(x)):
        ranked = sorted(impacts, key=lambda c: (impacts[c][i], c))
        words = []
        for col in ranked[:3]:
            if impacts[col][i] >= -0.005:
                break
            shown = shown_value(col, values[col][i])
            words.append(f"{LABELS[col]} {shown} ({impacts[col][i] * 100:+.0f} pts)")
        out.append("; ".join(words) if words else "no feature pulls it down")
    return out


def _version(model_type: str, train: pd.DataFrame, settings: Settings) -> str:
    digest = hashlib.sha256()
    digest.update(repr((model_type, settings, NUMERIC, CATEGORICAL)).encode())
    digest.update(pd.util.hash_pandas_object(train[["contract_id", *NUMERIC]], index=False).values)
    return f"{model_type}-{digest.hexdigest()[:12]}"


def _fit_signal(col: str, train: pd.DataFrame, test: pd.DataFrame, seed: int):
    pipe = Pipeline(
        [
            ("prep", _preprocess([col], [])),
            ("model", LogisticRegression(max_iter=1000, random_state=seed)),
        ]
    )
    pipe.fit(train[[col]], train["renewed_label"].astype(int))
    return _scores(test["renewed_label"].astype(int), pipe.predict_proba(test[[col]])[:, 1])


def signal_status(
    col: str, train: pd.DataFrame, test: pd.DataFrame, min_evaluated: int
) -> tuple[str, int]:
    """Whether a single signal can be scored on this split, and the test renewals carrying it:
    ``no_data`` (absent from the training or the test renewals), ``too_few`` (fewer than
    ``min_evaluated`` test renewals carry it), ``one_class`` (its test or training renewals
    all renewed or all churned) or ``ok``."""
    present_test = test[test[col].notna()]
    present_train = train[train[col].notna()]
    if present_test.empty or present_train.empty:
        return "no_data", len(present_test)
    if len(present_test) < min_evaluated:
        return "too_few", len(present_test)
    if present_test["renewed_label"].nunique() < 2 or train["renewed_label"].nunique() < 2:
        return "one_class", len(present_test)
    return "ok", len(present_test)


def model_status(closed: pd.DataFrame, settings: Settings) -> str:
    """Whether the closed renewals can train a model: too_few, one_class or ok."""
    if len(closed) < settings.min_training:
        return "too_few"
    train, _ = time_split(closed, settings.test_share)
    fit_part, _ = time_split(train, settings.test_share)
    if any(part["renewed_label"].nunique() < 2 for part in (closed, train, fit_part)):
        return "one_class"
    return "ok"


def learned_nothing(pipe: Pipeline, frame: pd.DataFrame) -> bool:
    """A model that keeps no feature (every coefficient zero), or whose probabilities on its
    training rows all lie within NO_SIGNAL_BAND of the base rate or of their median (a
    penalized intercept can shift a constant prediction off the base rate)."""
    model = pipe[-1]
    if hasattr(model, "coef_") and not np.any(model.coef_):
        return True
    p = pipe.predict_proba(frame[NUMERIC + CATEGORICAL])[:, 1]
    base = frame["renewed_label"].astype(int).mean()
    return bool(
        np.max(np.abs(p - base)) < NO_SIGNAL_BAND
        or np.max(np.abs(p - np.median(p))) < NO_SIGNAL_BAND
    )


def run(
    features: pd.DataFrame,
    settings: Settings,
    workers: int | None = None,
    cache_dir: Path | None = None,
) -> Result:
    """The training run and the scoring of the pending renewals. The fits are independent of
    one another but for the model choice, so they run side by side on ``workers`` threads (by
    default OUTCOMES_THREADS, as DuckDB): each fit is seeded and reads its own rows, so the
    result is the same as one after the other.

    With ``cache_dir``, the training (everything the closed renewals alone decide) is kept
    there and reused while the closed renewals, the settings, this module and scikit-learn
    are the same: a daily run with no outcome window closed since the last training only
    scores (see ``_trained``)."""
    df, at_leads = cutoff_rows(prepare(features))
    closed = training_set(df, settings.training_date, settings.grace_period_days)
    pending = df[(~df["is_closed"].astype(bool)) & df["is_in_horizon"].astype(bool)]
    # The same closed renewals at the lead-time cut-offs.
    at_leads = at_leads[at_leads["contract_id"].isin(closed["contract_id"])]
    # The training depends on the training set, not on the date that chose it.
    settings_for_training = replace(settings, training_date=None)
    with ThreadPoolExecutor(max_workers=max(1, workers or threads())) as pool:
        trained = _trained(closed, at_leads, settings_for_training, pool, cache_dir)
        predictions = _predict(trained, pending, closed, settings, pool)
    predictions["model_version"] = trained.version
    return Result(
        predictions,
        trained.signals.copy(),
        trained.calibration.copy(),
        trained.version,
        trained.model_type,
        trained.status,
        trained.lead_time.copy(),
    )


def cutoff_rows(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows at the model's cut-off (one per renewal) and those at the lead-time cut-offs
    (one per renewal and lead). Rows without the flags are all the model's."""
    if "is_model_cutoff" not in df.columns:
        return df, df.iloc[0:0].assign(lead_days=pd.Series(dtype="int64"))
    model = df[df["is_model_cutoff"].astype(bool)].reset_index(drop=True)
    leads = df[df["is_lead_time_cutoff"].astype(bool)].reset_index(drop=True)
    return model, leads


def training_set(
    df: pd.DataFrame, training_date: date | None, grace_period_days: int = 30
) -> pd.DataFrame:
    """The closed renewals whose outcome window has closed by ``training_date``: renewal date
    + ``grace_period_days`` before it (None: the rows' as_of_date). Both outcomes are then
    equally observable: a churn is known the day after its grace period ends, so a renewal
    signed early waits as long as a churn would."""
    closed = df[df["is_closed"].astype(bool)]
    if training_date is None:
        if "as_of_date" not in df.columns or df["as_of_date"].isna().all():
            return closed
        training_date = pd.Timestamp(df["as_of_date"].max()).date()
    window_end = pd.to_datetime(closed["renewal_date"]) + pd.Timedelta(days=grace_period_days)
    return closed[window_end < pd.Timestamp(training_date)]


def training_key(
    closed: pd.DataFrame, settings: Settings, at_leads: pd.DataFrame | None = None
) -> str:
    """What a training run depends on: the closed renewals' rows as prepared (their values,
    by content_key) at the model's cut-off and at the lead times, the settings, this module's
    code and the scikit-learn version."""
    digest = hashlib.sha256()
    digest.update(repr((settings, sklearn.__version__)).encode())
    digest.update(Path(__file__).read_bytes())
    columns = ["contract_id", "renewal_date", "renewed_label", *NUMERIC, *CATEGORICAL]
    digest.update(content_key(closed[columns]).encode())
    if at_leads is not None and len(at_leads):
        digest.update(content_key(at_leads[["lead_days", *columns]]).encode())
    return digest.hexdigest()


# Trained models kept in the cache directory (the newest by write time).
CACHE_KEEP = 4


def _trained(
    closed: pd.DataFrame,
    at_leads: pd.DataFrame,
    settings: Settings,
    pool: Executor,
    cache_dir: Path | None,
) -> Trained:
    """The training, read from ``cache_dir`` when a run on the same closed renewals stored it
    there, else trained and stored. An unreadable file is trained again and overwritten."""
    path = None
    if cache_dir is not None:
        path = cache_dir / f"renewal-{training_key(closed, settings, at_leads)[:32]}.pkl"
        try:
            with path.open("rb") as f:
                return pickle.load(f)
        except FileNotFoundError:
            pass
        except Exception:  # a partial or foreign file: train again
            path.unlink(missing_ok=True)
    trained = _train(closed, settings, pool)
    trained.lead_time = _lead_time(closed, at_leads, settings, pool, trained.version)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        part.write_bytes(pickle.dumps(trained, protocol=pickle.HIGHEST_PROTOCOL))
        part.replace(path)
        kept = sorted(cache_dir.glob("renewal-*.pkl"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-CACHE_KEEP]:
            old.unlink(missing_ok=True)
    return trained


SIGNAL_COLUMNS = [
    "signal",
    "feature",
    "status",
    "roc_auc",
    "brier_score",
    "n_with_signal",
    "n_test",
    "n_train",
    "test_from_date",
]


def _signal_rows(
    train: pd.DataFrame, test: pd.DataFrame, settings: Settings, pool: Executor
) -> list[tuple]:
    statuses = {
        signal: signal_status(col, train, test, settings.min_evaluated)
        for signal, col in SIGNALS.items()
    }
    fits = {
        signal: pool.submit(_fit_signal, col, train, test, settings.seed)
        for signal, col in SIGNALS.items()
        if statuses[signal][0] == "ok"
    }
    rows = []
    for signal, col in SIGNALS.items():
        status, n_with = statuses[signal]
        auc, brier = fits[signal].result() if signal in fits else (None, None)
        rows.append((signal, col, status, auc, brier, n_with))
    return rows


# The signal evaluation's columns with the lead time after the feature.
LEAD_TIME_COLUMNS = [*SIGNAL_COLUMNS[:2], "lead_days", *SIGNAL_COLUMNS[2:]]


def _lead_time(
    closed: pd.DataFrame, at_leads: pd.DataFrame, settings: Settings, pool: Executor, version: str
) -> pd.DataFrame:
    """Each signal at each lead time: fitted on the training renewals' features at that lead,
    scored on the test renewals' (the split of the model's backtest), with the same statuses
    as the signal evaluation."""
    train, test = time_split(closed, settings.test_share) if len(closed) else (closed, closed)
    test_from = test["renewal_date"].min() if len(test) else None
    rows = []
    for lead, at_lead in at_leads.groupby("lead_days", sort=True):
        lead_train = at_lead[at_lead["contract_id"].isin(train["contract_id"])]
        lead_test = at_lead[at_lead["contract_id"].isin(test["contract_id"])]
        for signal, col, status, auc, brier, n_with in _signal_rows(
            lead_train, lead_test, settings, pool
        ):
            n_test, n_train = len(lead_test), len(lead_train)
            rows.append(
                (signal, col, int(lead), status, auc, brier, n_with, n_test, n_train, test_from)
            )
    frame = pd.DataFrame(rows, columns=LEAD_TIME_COLUMNS)
    frame["model_version"] = version
    return frame


def _train(closed: pd.DataFrame, settings: Settings, pool: Executor) -> Trained:
    train, test = time_split(closed, settings.test_share) if len(closed) else (closed, closed)
    status = model_status(closed, settings)
    rows = _signal_rows(train, test, settings, pool)
    calibration = pd.DataFrame(columns=["decile", "n", "mean_predicted", "observed_rate"])
    best, final = "none", None
    if status == "ok":
        y_test = test["renewed_label"].astype(int)
        # Choose the model on a validation window inside the training period (its newest
        # renewals), never on the test set; then report the chosen model on the test set.
        fit_part, validation = time_split(train, settings.test_share)
        y_validation = validation["renewed_label"].astype(int)
        candidates = {
            name: pool.submit(_fit, pipe, fit_part)
            for name, pipe in _candidates(settings.seed).items()
        }
        validation_auc = {}
        for name, fitted in candidates.items():
            p = fitted.result().predict_proba(validation[NUMERIC + CATEGORICAL])[:, 1]
            validation_auc[name] = _scores(y_validation, p)[0] or 0.0
        best = max(validation_auc, key=lambda n: (validation_auc[n], n == "logistic_regression"))
        chosen_fit = pool.submit(_fit, _candidates(settings.seed)[best], train)
        if best == "logistic_regression":
            # liblinear seeds one process-wide C generator: two of its fits side by side can
            # draw from each other's sequence, so the second waits for the first.
            chosen_fit.result()
        # The chosen model refitted on the whole training set scores the pending ones.
        final_fit = pool.submit(_fit, _candidates(settings.seed)[best], closed)
        test_p = chosen_fit.result().predict_proba(test[NUMERIC + CATEGORICAL])[:, 1]
        final = final_fit.result()
        if learned_nothing(final, closed):
            status, final = "no_signal", None
        if y_test.nunique() == 2:
            auc, brier = _scores(y_test, test_p)
            full_status = "ok" if len(test) >= settings.min_evaluated else "too_few"
        else:
            auc, brier, full_status = None, None, "one_class"
        if status == "no_signal":
            full_status = "no_signal"
        if full_status != "ok":
            auc, brier = None, None
        calibration = _calibration(y_test, test_p)
    else:
        auc, brier, full_status = None, None, status
    rows.append(("full_model", best, full_status, auc, brier, len(test)))
    signals = pd.DataFrame(
        [
            (*row, len(test), len(train), test["renewal_date"].min() if len(test) else None)
            for row in rows
        ],
        columns=SIGNAL_COLUMNS,
    )
    version = _version(best if status == "ok" else status, closed, settings)
    for frame in (signals, calibration):
        frame["model_version"] = version
    return Trained(best, final, signals, calibration, version, status)


def _predict(
    trained: Trained, pending, reference, settings: Settings, pool: Executor | None = None
) -> pd.DataFrame:
    """The pending renewals' probabilities, risk bands and drivers; all null, with the
    reason in model_status, when there is no model to trust."""
    cols = [
        "contract_id",
        "account_id",
        "renewal_date",
        "cutoff_date",
        "expiring_arr",
        "as_of_date",
    ]
    out = pending[cols].copy().reset_index(drop=True)
    out["model_status"] = trained.status
    pipe = trained.final
    if len(pending) == 0 or pipe is None:
        out["renewal_probability"] = pd.Series([np.nan] * len(out), dtype="float64")
        out["risk_band"] = pd.Series([None] * len(out), dtype="object")
        out["arr_at_risk"] = pd.Series([np.nan] * len(out), dtype="float64")
        out["top_drivers"] = pd.Series([None] * len(out), dtype="object")
        return out
    p = pipe.predict_proba(pending[NUMERIC + CATEGORICAL])[:, 1]
    out["renewal_probability"] = np.round(p, 6)
    out["risk_band"] = np.where(
        p < settings.risk_high_below,
        "high",
        np.where(p < settings.risk_medium_below, "medium", "low"),
    )
    arr = pd.to_numeric(out["expiring_arr"], errors="coerce").astype(float)
    out["arr_at_risk"] = np.round(arr * (1 - p), 2)
    out["top_drivers"] = _drivers(pipe, pending.reset_index(drop=True), reference, pool)
    return out


def _calibration(y: pd.Series, p: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"y": y.to_numpy(), "p": p}).sort_values("p", kind="mergesort")
    frame["decile"] = (np.arange(len(frame)) * 10 // max(1, len(frame))) + 1
    grouped = frame.groupby("decile").agg(
        n=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean")
    )
    return grouped.reset_index()


def content_key(features: pd.DataFrame) -> str:
    """A digest of the features' values and columns, independent of row order and of how the
    frame is laid out in memory (pickled bytes are not: string columns of two fetches of the
    same table can be chunked differently)."""
    keys = ["contract_id", *(["lead_days"] if "lead_days" in features else [])]
    ordered = features.sort_values(keys).reset_index(drop=True)
    digest = hashlib.sha256(",".join(f"{c}:{t}" for c, t in ordered.dtypes.items()).encode())
    digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    return digest.hexdigest()

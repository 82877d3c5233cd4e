"""Signal evaluation: which signals predict renewal in this customer base?"""

from __future__ import annotations

import altair as alt
import serve_data as sd
import streamlit as st

snap = sd.snapshot()

st.title("Signal evaluation")
signals = snap.df(
    """select signal, feature, status, roc_auc, brier_score, n_with_signal, n_test, n_train,
        test_from_date, model_version
    from marts.fct_renewal_signal_evaluation order by roc_auc desc nulls last"""
)
if signals.empty:
    st.info("No signal evaluation published (too few closed renewals to test on).")
    st.stop()
model_version = signals["model_version"].iloc[0]


def model_details() -> None:
    with st.expander("Model details"):
        st.caption(
            f"Full model version `{model_version}`. Each signal alone is a "
            "one-feature logistic regression fitted on the training renewals and scored on the "
            "test renewals (the newest closed ones)."
        )


NOT_SCORED = {
    "no_data": "no renewal in the data carries it",
    "too_few": "too few test renewals carry it",
    "one_class": "its renewals all had the same outcome",
    "no_signal": "the model found no signal in this data",
}
unscored = signals[signals["status"] != "ok"]
if not unscored.empty:
    st.info(
        "Not scored: "
        + "; ".join(
            f"{sd.humanize(r.signal)} ({NOT_SCORED.get(r.status, sd.humanize(r.status))})"
            for r in unscored.itertuples()
        )
        + "."
    )
signals = signals[signals["status"] == "ok"].assign(
    name=lambda frame: frame["signal"].map(sd.humanize)
)
if signals[signals["signal"] != "full_model"].empty:
    model_details()
    st.stop()


def below_chance(name: str, auc: float) -> str:
    """One plain line for a signal whose ROC AUC is below 0.5."""
    return (
        f"{name} (AUC {auc:.2f}) is below 0.5: fitted on the older renewals, it ranked the newer "
        "test renewals worse than a coin flip, so the pattern it learned did not hold and it "
        "does not predict renewal here."
    )


auc = dict(zip(signals["signal"], signals["roc_auc"], strict=True))
best_single = signals[signals["signal"] != "full_model"].iloc[0]
nps_auc = auc.get("nps")
st.caption(
    "ROC AUC of each signal alone on the same time-based test set "
    f"({int(signals['n_test'].iloc[0])} closed renewals from "
    f"{sd.day(signals['test_from_date'].iloc[0])}); 0.5 is a coin flip, 1 ranks every renewal "
    "above every churn."
)
columns = st.columns(3)
columns[0].metric("NPS AUC", sd.number(nps_auc, 3))
columns[1].metric(
    f"Best single signal: {best_single['name']}", sd.number(best_single["roc_auc"], 3)
)
columns[2].metric("Full model AUC", sd.number(auc.get("full_model"), 3))
if nps_auc is not None and nps_auc < best_single["roc_auc"]:
    verdict = "No" if nps_auc < 0.5 else "Weakly"
    st.markdown(
        f"**Does NPS predict renewal here?** {verdict}: AUC {nps_auc:.2f}, against "
        f"{best_single['roc_auc']:.2f} for *{best_single['name']}*."
    )

chart_data = signals.assign(
    is_model=signals["signal"] == "full_model",
    measured_as=signals["feature"].map(sd.humanize),
)
bars = (
    alt.Chart(chart_data)
    .mark_bar()
    .encode(
        x=alt.X("roc_auc:Q", title="ROC AUC", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("name:N", sort="-x", title=None),
        color=alt.Color("is_model:N", legend=None, scale=alt.Scale(range=["#4c78a8", "#f58518"])),
        tooltip=[
            sd.tip("name", title="Signal"),
            sd.tip("measured_as", title="Measured as"),
            sd.tip("roc_auc", type_="Q"),
            sd.tip("brier_score", type_="Q"),
            sd.tip("n_with_signal", type_="Q"),
        ],
    )
)
coin_flip = (
    alt.Chart({"values": [{"x": 0.5}]})
    .mark_rule(strokeDash=[6, 4])
    .encode(x=alt.X("x:Q", title="ROC AUC"))
)
st.altair_chart((bars + coin_flip).properties(height=300), width="stretch")
below = signals[signals["roc_auc"] < 0.5]
for row in below.itertuples():
    st.caption(below_chance(row.name, row.roc_auc))

signals["note"] = [
    "Worse than a coin flip on the test renewals: no predictor here" if value < 0.5 else None
    for value in signals["roc_auc"]
]
sd.show_table(
    signals,
    [
        "signal",
        "roc_auc",
        "note",
        "feature",
        "brier_score",
        "n_with_signal",
        "n_test",
        "n_train",
        "test_from_date",
    ],
    labels={"note": "Note"},
    widths={"note": "large"},
    helps={
        "roc_auc": "0.5 is a coin flip; 1 ranks every renewal above every churn.",
        "brier_score": "Mean squared error of the predicted probability (lower is better).",
    },
)
model_details()

# An AUC of 0.7 or more is the usual bar for a signal worth acting on.
USEFUL_AUC = 0.7
lead_time = snap.df(
    """select signal, lead_days, status, roc_auc, n_with_signal
    from marts.fct_renewal_signal_lead_time order by signal, lead_days"""
)
scored = lead_time[lead_time["status"] == "ok"].assign(
    name=lambda frame: frame["signal"].map(sd.humanize)
)
if not scored.empty:
    st.subheader("How early each signal warns")
    useful = scored[scored["roc_auc"] >= USEFUL_AUC]
    earliest = useful.groupby("name")["lead_days"].max().sort_values(ascending=False)
    st.caption(
        "ROC AUC of each signal taken 30 to 180 days before the renewal date, on the same "
        "test renewals. "
        + (
            "Earliest warning at AUC >= 0.70: "
            + ", ".join(f"{name} {days} days ahead" for name, days in earliest.items())
            + "."
            if not earliest.empty
            else "No signal reaches an AUC of 0.70 at any lead time."
        )
    )
    curves = (
        alt.Chart(scored)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "lead_days:Q",
                title="Days before the renewal date",
                scale=alt.Scale(reverse=True),
            ),
            y=alt.Y("roc_auc:Q", title="ROC AUC", scale=alt.Scale(domain=[0.2, 1])),
            color=alt.Color("name:N", title="Signal"),
            tooltip=[
                sd.tip("name", title="Signal"),
                sd.tip("lead_days", type_="Q"),
                sd.tip("roc_auc", type_="Q"),
                sd.tip("n_with_signal", type_="Q"),
            ],
        )
    )
    useful_rule = (
        alt.Chart({"values": [{"y": USEFUL_AUC}]})
        .mark_rule(strokeDash=[6, 4])
        .encode(y=alt.Y("y:Q", title="ROC AUC"))
    )
    st.altair_chart((curves + useful_rule).properties(height=300), width="stretch")
    lead_below = scored[scored["roc_auc"] < 0.5]
    if not lead_below.empty:
        at_leads = lead_below.groupby("name")["lead_days"].apply(
            lambda days: ", ".join(str(d) for d in sorted(days))
        )
        st.caption(
            "Below 0.5 at some lead time: "
            + "; ".join(f"{name} ({days} days ahead)" for name, days in at_leads.items())
            + ". There the signal ranked the test renewals worse than a coin flip: no "
            "warning at that lead time."
        )

calibration = snap.df(
    """select decile, n, mean_predicted, observed_rate
    from marts.fct_renewal_calibration order by decile"""
)
if not calibration.empty:
    st.subheader("Calibration of the full model")
    st.caption(
        "Test renewals in tenths by predicted renewal probability: a calibrated model's points "
        "lie on the dashed diagonal."
    )
    points = (
        alt.Chart(calibration)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "mean_predicted:Q",
                title="Mean predicted renewal probability",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format=".0%"),
            ),
            y=alt.Y(
                "observed_rate:Q",
                title="Observed renewal rate",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format=".0%"),
            ),
            tooltip=[
                sd.tip("decile", type_="Q"),
                sd.tip("n", type_="Q"),
                sd.tip("mean_predicted", type_="Q"),
                sd.tip("observed_rate", type_="Q"),
            ],
        )
    )
    diagonal = (
        alt.Chart({"values": [{"v": 0}, {"v": 1}]})
        .mark_line(strokeDash=[4, 4], color="#999")
        .encode(
            x=alt.X("v:Q", title="Mean predicted renewal probability"),
            y=alt.Y("v:Q", title="Observed renewal rate"),
        )
    )
    st.altair_chart((diagonal + points).properties(height=300), width="stretch")

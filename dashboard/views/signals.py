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
            f"{r.signal} ({NOT_SCORED.get(r.status, r.status)})" for r in unscored.itertuples()
        )
        + "."
    )
signals = signals[signals["status"] == "ok"]
if signals[signals["signal"] != "full_model"].empty:
    st.stop()
auc = dict(zip(signals["signal"], signals["roc_auc"], strict=True))
best_single = signals[signals["signal"] != "full_model"].iloc[0]
nps_auc = auc.get("nps")
st.caption(
    "ROC AUC of each signal alone on the same time-based test set "
    f"({int(signals['n_test'].iloc[0])} closed renewals from "
    f"{signals['test_from_date'].iloc[0]}); 0.5 is a coin flip."
)
columns = st.columns(3)
columns[0].metric("NPS AUC", sd.number(nps_auc, 3))
columns[1].metric(
    f"Best single signal: {best_single['signal']}", sd.number(best_single["roc_auc"], 3)
)
columns[2].metric("Full model AUC", sd.number(auc.get("full_model"), 3))
if nps_auc is not None and nps_auc < best_single["roc_auc"]:
    st.markdown(
        f"**Does NPS predict renewal here?** Weakly: AUC {nps_auc:.2f}, against "
        f"{best_single['roc_auc']:.2f} for *{best_single['signal']}*."
    )

chart_data = signals.assign(is_model=signals["signal"] == "full_model")
bars = (
    alt.Chart(chart_data)
    .mark_bar()
    .encode(
        x=alt.X("roc_auc:Q", title="ROC AUC", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("signal:N", sort="-x", title=None),
        color=alt.Color("is_model:N", legend=None, scale=alt.Scale(range=["#4c78a8", "#f58518"])),
        tooltip=[
            "signal",
            "feature",
            alt.Tooltip("roc_auc:Q", format=".3f"),
            alt.Tooltip("brier_score:Q", format=".3f"),
            "n_with_signal",
        ],
    )
)
coin_flip = alt.Chart({"values": [{"x": 0.5}]}).mark_rule(strokeDash=[6, 4]).encode(x="x:Q")
st.altair_chart((bars + coin_flip).properties(height=300), width="stretch")
st.dataframe(signals, hide_index=True, width="stretch")

# An AUC of 0.7 or more is the usual bar for a signal worth acting on.
USEFUL_AUC = 0.7
lead_time = snap.df(
    """select signal, lead_days, status, roc_auc, n_with_signal
    from marts.fct_renewal_signal_lead_time order by signal, lead_days"""
)
scored = lead_time[lead_time["status"] == "ok"]
if not scored.empty:
    st.subheader("How early each signal warns")
    useful = scored[scored["roc_auc"] >= USEFUL_AUC]
    earliest = useful.groupby("signal")["lead_days"].max().sort_values(ascending=False)
    st.caption(
        "ROC AUC of each signal taken 30 to 180 days before the renewal date, on the same "
        "test renewals. "
        + (
            "Earliest warning at AUC >= 0.70: "
            + ", ".join(f"{signal} {days} days ahead" for signal, days in earliest.items())
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
            color=alt.Color("signal:N", title="Signal"),
            tooltip=[
                "signal",
                "lead_days",
                alt.Tooltip("roc_auc:Q", format=".3f"),
                "n_with_signal",
            ],
        )
    )
    useful_rule = (
        alt.Chart({"values": [{"y": USEFUL_AUC}]}).mark_rule(strokeDash=[6, 4]).encode(y="y:Q")
    )
    st.altair_chart((curves + useful_rule).properties(height=300), width="stretch")

calibration = snap.df(
    """select decile, n, mean_predicted, observed_rate
    from marts.fct_renewal_calibration order by decile"""
)
if not calibration.empty:
    st.subheader("Calibration of the full model")
    points = (
        alt.Chart(calibration)
        .mark_line(point=True)
        .encode(
            x=alt.X("mean_predicted:Q", title="Mean predicted", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y(
                "observed_rate:Q", title="Observed renewal rate", scale=alt.Scale(domain=[0, 1])
            ),
            tooltip=["decile", "n", "mean_predicted", "observed_rate"],
        )
    )
    diagonal = (
        alt.Chart({"values": [{"v": 0}, {"v": 1}]})
        .mark_line(strokeDash=[4, 4], color="#999")
        .encode(x="v:Q", y="v:Q")
    )
    st.altair_chart((diagonal + points).properties(height=300), width="stretch")

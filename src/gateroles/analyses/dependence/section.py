"""The C5 section: dependence between gates and disentanglement."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles.report import Inputs, ci, cis, fmt, html_table

C5_LABELS = {"mig": "MIG", "modularity": "modularity", "dci_disentanglement": "DCI disentanglement"}



def c5_verdict_table(c5: pd.DataFrame) -> pd.DataFrame:
    if c5.empty:
        return pd.DataFrame({"note": ["no solved models: nothing to decide"]})
    labels = C5_LABELS
    return pd.DataFrame({
        "task": c5["task"], "arch": c5["arch"], "init": c5["init"],
        "question": c5["question"], "measure": c5["measure"].map(lambda m: labels.get(m, m)),
        "initial": c5["initial"].map(fmt),
        "trained [CI]": cis(c5, ["trained", "trained_ci_low", "trained_ci_high"]),
        "trained − initial [CI]": cis(c5, ["change", "change_ci_low", "change_ci_high"]),
        "direction": c5["direction"],
        "seeds agreeing": [f"{a} / {n}" for a, n in zip(c5["seeds_agreeing"], c5["n_seeds"],
                                                        strict=True)],
        "verdict": c5["verdict"],
    })



def c5_bins_table(dependence: pd.DataFrame) -> pd.DataFrame:
    """Same-unit MI change (trained − initial [CI]) for every representation x bin count."""
    sel = dependence[dependence["summary"] == "same_unit"] if len(dependence) else dependence
    if sel.empty:
        return pd.DataFrame({"note": ["no solved models"]})
    rows = []
    for key, group in sel.groupby(["task", "arch", "init", "pair"], sort=True):
        row = dict(zip(["task", "arch", "init", "pair"], key, strict=True))
        for rep, label in (("activation_equal_width", "activation, equal-width"),
                           ("activation", "activation"), ("logit", "logit")):
            for r in group[group["representation"] == rep].sort_values("bins").itertuples():
                row[f"{label}, {r.bins} bins"] = ci(r.change, r.change_ci_low,
                                                    r.change_ci_high, 2)
        rows.append(row)
    return pd.DataFrame(rows)



def c5_baseline_table(dependence: pd.DataFrame, bins: int) -> pd.DataFrame:
    """Same unit (also given the input) vs different units (logits) vs population means
    (activations), and the excess over the permutation null."""
    if dependence.empty:
        return pd.DataFrame({"note": ["no solved models"]})
    # Population means on the activations: a mean of logits is dominated by a few large ones.
    sel = dependence[(dependence["bins"] == bins) & (
        ((dependence["representation"] == "logit") & (dependence["summary"] != "population"))
        | ((dependence["representation"] == "activation")
           & (dependence["summary"] == "population")))]
    rows = []
    for key, group in sel.groupby(["task", "arch", "init", "pair"], sort=True):
        by = {r.summary: r for r in group.itertuples()}
        row = dict(zip(["task", "arch", "init", "pair"], key, strict=True))
        for summary, label in (("same_unit", "same unit"),
                               ("shifted_unit", "different units"),
                               ("same_unit_given_input", "same unit given input"),
                               ("shifted_unit_given_input", "different units given input"),
                               ("population", "population means")):
            r = by.get(summary)
            row[f"{label}: initial → trained"] = ("–" if r is None else
                                                   f"{fmt(r.initial)} → {fmt(r.trained)}")
        for summary, label in (("unit_specific", "unit-specific"),
                               ("unit_specific_given_input", "unit-specific given input")):
            r = by.get(summary)
            if r is not None:
                row[f"{label} (same − different), trained [CI]"] = ci(
                    r.trained, r.trained_ci_low, r.trained_ci_high, 2)
        for summary, label in (("same_unit", "same unit"),
                               ("same_unit_given_input", "given input")):
            r = by.get(summary)
            if r is not None and "excess" in group.columns:
                above = "–" if not np.isfinite(r.seeds_above_null) else int(r.seeds_above_null)
                row[f"{label}: excess over null, trained [CI] (seeds above)"] = (
                    f"{ci(r.excess, r.excess_ci_low, r.excess_ci_high, 2)} "
                    f"({above}/{r.n_seeds})")
        rows.append(row)
    return pd.DataFrame(rows)



def c5_scores_table(disent: pd.DataFrame) -> pd.DataFrame:
    """Every disentanglement score, initial → trained (change [CI]), one row per model group."""
    if disent.empty:
        return pd.DataFrame({"note": ["no solved models"]})
    order = ["mig", "modularity", "dci_disentanglement", "dci_completeness",
             "dci_informativeness", "sap"]
    rows = []
    for key, group in disent.groupby(["task", "arch", "init"], sort=True):
        row = dict(zip(["task", "arch", "init"], key, strict=True))
        by = {r.metric: r for r in group.itertuples()}
        for m in order:
            r = by.get(m)
            row[m.replace("_", " ")] = ("–" if r is None else
                                        f"{fmt(r.initial, 2)} → {fmt(r.trained, 2)} "
                                        f"({fmt(r.change, 2)} [{fmt(r.change_ci_low, 2)}, "
                                        f"{fmt(r.change_ci_high, 2)}])")
        row["seeds"] = int(group["n_seeds"].max())
        row["unsolved left out"] = int(group["n_unsolved"].max())
        rows.append(row)
    return pd.DataFrame(rows)



def c5_claim_rows(c5: pd.DataFrame) -> list[dict]:
    """Two summary lines: are the gates specialised, and are they independent?"""
    spec_name = "C5 specialised (disentanglement rises)"
    ind_name = "C5 statistically independent gates"
    if c5.empty:
        return [{"claim": n, "verdict": "not decided", "css": "", "basis": "no solved models"}
                for n in (spec_name, ind_name)]
    rows = []
    spec = c5[c5["question"] == "specialised"]
    parts, ups, downs = [], 0, 0
    for metric, group in spec.groupby("measure", sort=False):
        up = int((group["direction"] == "rises").sum())
        down = int((group["direction"] == "falls").sum())
        ups, downs = ups + up, downs + down
        parts.append(f"{C5_LABELS.get(metric, metric)} rises in {up}, falls in {down} "
                     f"of {len(group)}")
    overall = ("supported" if ups == len(spec) else "contradicted" if downs == len(spec)
               else "mixed")
    rows.append({"claim": spec_name, "verdict": overall,
                 "css": {"supported": "supported", "contradicted": "contradicted"}.get(
                     overall, "inconclusive"),
                 "basis": "; ".join(parts) + " task x architecture groups (trained − initial, "
                          "CI over solved seeds excludes 0)"})
    given = c5[c5["question"] == "independent given input"]
    dep = c5[c5["question"] == "independent"]
    n_dep = int((dep["verdict"] == "dependent").sum())
    n_ind = int((dep["verdict"] == "independent").sum())
    overall = ("contradicted" if n_dep == len(dep) else "supported" if n_ind == len(dep)
               else "mixed")
    rises = int((dep["direction"] == "rises").sum())
    falls = int((dep["direction"] == "falls").sum())
    rows.append({"claim": ind_name, "verdict": overall,
                 "css": {"supported": "supported", "contradicted": "contradicted"}.get(
                     overall, "inconclusive"),
                 "basis": f"same-unit MI between gate types (logits) above the permutation "
                          f"null in {n_dep} of {len(dep)} gate pairs x task x architecture "
                          f"(every solved seed); with training it rises in {rises}, falls in "
                          f"{falls}, no clear change in {len(dep) - rises - falls}"
                          + (f"; given the current input, still dependent in "
                             f"{int((given['verdict'] == 'dependent').sum())} of {len(given)}"
                             if len(given) else "")})
    return rows



def c5_reading(c5: pd.DataFrame, dependence: pd.DataFrame, bins: int) -> dict:
    """Numbers for the section's reading paragraph (computed here, so the text follows the run).

    Per question: how many task x arch x pair (or metric) groups rise / fall / show no clear
    change, and the range of the values at initialisation and after training.
    """
    out = {"available": not c5.empty, "input_share_init": "–", "equal_width_extra_drop": "–",
           "activation_vs_logit": "–", "bins_consistent": "–", "equal_width_flips": "–"}
    if c5.empty:
        return out
    for question, key in (("independent", "plain"), ("independent given input", "given"),
                          ("specialised", "spec")):
        part = c5[c5["question"] == question]
        out[key] = {"n": len(part), "rises": int((part["direction"] == "rises").sum()),
                    "falls": int((part["direction"] == "falls").sum()),
                    "dependent": int((part["verdict"] == "dependent").sum()),
                    "init_lo": fmt(part["initial"].min(), 2),
                    "init_hi": fmt(part["initial"].max(), 2),
                    "trained_lo": fmt(part["trained"].min(), 2),
                    "trained_hi": fmt(part["trained"].max(), 2)}
    out["spec_metrics"] = [
        {"metric": C5_LABELS.get(m, m), "rises": int((g["direction"] == "rises").sum()),
         "falls": int((g["direction"] == "falls").sum()), "n": len(g),
         "init": fmt(g["initial"].mean(), 2), "trained": fmt(g["trained"].mean(), 2)}
        for m, g in c5[c5["question"] == "specialised"].groupby("measure", sort=False)]
    logit = dependence[(dependence["representation"] == "logit") & (dependence["bins"] == bins)]
    wide = logit.pivot_table(index=["task", "arch", "init", "pair"], columns="summary",
                             values="initial")
    if {"same_unit", "same_unit_given_input"} <= set(wide.columns):
        share = 1 - wide["same_unit_given_input"] / wide["same_unit"]
        out["input_share_init"] = f"{100 * share.mean():.0f}%"
    trained = logit.pivot_table(index=["task", "arch", "init", "pair"], columns="summary",
                                values="trained")
    out["given_same_vs_shifted"] = "–"
    if {"same_unit_given_input", "shifted_unit_given_input"} <= set(trained.columns):
        gap = trained["same_unit_given_input"] - trained["shifted_unit_given_input"]
        out["given_same_vs_shifted"] = (f"{int((gap > 0).sum())} of {len(gap)}; mean gap "
                                        f"{fmt(gap.mean(), 2)} nats")
        out["given_shifted_trained"] = (f"{fmt(trained['shifted_unit_given_input'].min(), 2)}–"
                                        f"{fmt(trained['shifted_unit_given_input'].max(), 2)}")
    out.setdefault("given_shifted_trained", "–")
    for summary, key in (("unit_specific", "specific"),
                         ("unit_specific_given_input", "specific_given")):
        part = logit[logit["summary"] == summary]
        above = part[part["trained_ci_low"] > 0]
        below = part[~(part["trained_ci_low"] > 0)]
        out[key] = {"n": len(part), "above": len(above),
                    "not_above": ", ".join(f"{r.task} {r.arch.upper()} {r.pair}"
                                           for r in below.itertuples()) or "none",
                    "mean": fmt(part["trained"].mean(), 2),
                    "init_max": fmt(part["initial"].abs().max(), 2)}
    mig = c5[(c5["question"] == "specialised") & (c5["measure"] == "mig")]
    out["mig_max"] = fmt(mig["trained"].max(), 2)
    same = dependence[dependence["summary"] == "same_unit"]
    sweep = same.pivot_table(index=["task", "arch", "init", "pair", "bins"],
                             columns="representation", values="change")
    out["bins_consistent"] = out["equal_width_flips"] = "–"
    if "logit" in sweep.columns:
        dirs = (same[same["representation"] == "logit"]
                .groupby(["task", "arch", "init", "pair"])["direction"].nunique())
        out["bins_consistent"] = f"{int((dirs == 1).sum())} of {len(dirs)}"
    if {"activation_equal_width", "logit"} <= set(sweep.columns):
        sign = np.sign(sweep[["activation_equal_width", "logit"]])
        flips = int((sign["activation_equal_width"] != sign["logit"]).sum())
        out["equal_width_flips"] = f"{flips} of {len(sign)}"
        out["equal_width_extra_drop"] = fmt(
            (sweep["logit"] - sweep["activation_equal_width"]).mean(), 2)
        out["activation_vs_logit"] = fmt(
            (sweep["activation"] - sweep["logit"]).abs().max(), 3)
    return out



def section(inputs: Inputs) -> dict:
    c5 = inputs.table("c5")
    dependence = inputs.table("c5_dependence")
    info = inputs.config["information"]
    return {"template": "analyses/dependence/section.html.j2", "claims": c5_claim_rows(c5),
            "verdict_table": html_table(c5_verdict_table(c5)),
            "bins_table": html_table(c5_bins_table(dependence)),
            "baseline_table": html_table(c5_baseline_table(dependence, info["main_bins"])),
            "scores_table": html_table(c5_scores_table(inputs.table("c5_scores"))),
            "info": info, "reading": c5_reading(c5, dependence, info["main_bins"]),
            "figures": inputs.figures("c5_gate_mi", "c5_disentanglement",
                                      "c5_unit_factor_mi")}


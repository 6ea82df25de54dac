"""The self-contained HTML report: verdicts, tables, embedded figures and provenance.

Everything shown comes from the tables the workflow wrote; the report computes nothing new
except formatting. Config text is HTML-escaped (Jinja autoescape; tables via pandas' escaping).
"""

from __future__ import annotations

import base64
import importlib.metadata
import platform
import subprocess
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import yaml

from gateroles import storage
from gateroles.config import config_hash

PACKAGES = ("gateroles", "torch", "numpy", "scipy", "pandas", "scikit-learn", "matplotlib",
            "seaborn", "snakemake")


def provenance(config: dict, repo: str | Path) -> dict:
    """Package versions, config hash and git commit; no timestamps or host names."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"config_hash": config_hash(config), "git_commit": git_commit(repo),
            "python": platform.python_version(), "packages": versions}


def git_commit(repo: str | Path) -> str:
    """HEAD of the checkout the workflow came from (+ '-dirty'), or 'none' outside git."""
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain",
                                "--untracked-files=no"], check=True, capture_output=True,
                               text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "none"
    return head + ("-dirty" if dirty else "")


def fmt(x, decimals: int = 3) -> str:
    """Fixed decimals (comparable down a column); '–' for missing values."""
    if isinstance(x, float | np.floating | int | np.integer):
        return "–" if not np.isfinite(x) else f"{x:.{decimals}f}"
    return str(x)


def ci(mean, lo, hi, decimals: int = 3) -> str:
    return f"{fmt(mean, decimals)} [{fmt(lo, decimals)}, {fmt(hi, decimals)}]"


def cis(frame: pd.DataFrame, columns: list[str], decimals: int = 3) -> list[str]:
    """'mean [low, high]' strings from three columns of `frame`."""
    return [ci(*row, decimals=decimals) for row in frame[columns].to_numpy(dtype=float)]


def html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, border=0, na_rep="–")


def solved_table(solved: pd.DataFrame) -> pd.DataFrame:
    decimals = np.where(solved["metric"] == "mse", 4, 3)
    return pd.DataFrame({
        "task": solved["task"], "arch": solved["arch"], "init": solved["init"],
        "metric": solved["metric"], "chance": [fmt(c, d) for c, d in
                                               zip(solved["chance"], decimals, strict=True)],
        "threshold": solved["threshold"].map(lambda t: f"{t:g}"),
        "solved seeds": [f"{s} / {n}" for s, n in zip(solved["n_solved"], solved["n_seeds"],
                                                      strict=True)],
        "test score, mean [95% CI]": [ci(*row, decimals=d) for row, d in zip(
            solved[["test_score", "ci_low", "ci_high"]].to_numpy(), decimals, strict=True)],
        "unsolved seeds": solved["unsolved_seeds"].fillna("").astype(str),
    })


def c2_table(c2: pd.DataFrame) -> pd.DataFrame:
    if c2.empty:
        return pd.DataFrame({"note": ["no solved models: nothing to decide"]})
    return pd.DataFrame({
        "task": c2["task"], "arch": c2["arch"], "init": c2["init"],
        "prediction": [f"{g} {p} at {e}" for g, p, e in
                       zip(c2["gate"], c2["predicted"], c2["event"], strict=True)],
        "effect, trained [CI]": cis(c2, ["effect", "ci_low", "ci_high"]),
        "Cohen's d [CI]": cis(c2, ["cohens_d", "d_ci_low", "d_ci_high"], 2),
        "seeds agreeing": [f"{a} / {n}" for a, n in zip(c2["seeds_agreeing"], c2["n_seeds"],
                                                        strict=True)],
        "verdict": c2["verdict"],
        "effect at init [CI]": cis(c2, ["effect_at_init", "init_ci_low", "init_ci_high"]),
        "sign at init": c2["verdict_at_init"],
    })


def saturation_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per task x arch x init x gate; initial and trained side by side."""
    keys = ["task", "arch", "init", "gate"]
    rows = []
    for key, group in summary.groupby(keys, sort=True):
        row = dict(zip(keys, key, strict=True))
        for phase in ("initial", "trained"):
            part = group[group["phase"] == phase]
            for side in ("left", "right"):
                row[f"{side}, {phase} [CI]"] = (
                    cis(part, [side, f"{side}_ci_low", f"{side}_ci_high"])[0]
                    if len(part) else "–")
        row["seeds"] = int(group["n_seeds"].max())
        rows.append(row)
    return pd.DataFrame(rows)


def runtime_table(benchmark_paths: list[str]) -> pd.DataFrame:
    """Jobs and wall-clock seconds per rule, from Snakemake's benchmark files."""
    rows = []
    for path in benchmark_paths:
        parts = Path(path).parts
        rule = parts[parts.index("benchmarks") + 1].removesuffix(".tsv")
        seconds = pd.read_csv(path, sep="\t")["s"].iloc[0]
        rows.append({"rule": rule, "s": float(seconds)})
    if not rows:
        return pd.DataFrame({"rule": [], "jobs": [], "total s": [], "mean s": []})
    frame = pd.DataFrame(rows).groupby("rule")["s"].agg(["count", "sum", "mean"]).reset_index()
    return pd.DataFrame({"rule": frame["rule"], "jobs": frame["count"],
                         "total s": frame["sum"].map(lambda s: f"{s:.1f}"),
                         "mean s": frame["mean"].map(lambda s: f"{s:.1f}")})


def claim_rows(c2: pd.DataFrame) -> list[dict]:
    """One summary line per claim decided so far."""
    if c2.empty:
        return [{"claim": "C2 event-locked dynamics", "verdict": "not decided", "css": "",
                 "basis": "no solved models"}]
    counts = c2["verdict"].value_counts()
    n = len(c2)
    supported = int(counts.get("supported", 0))
    overall = ("supported" if supported == n else
               "contradicted" if counts.get("contradicted", 0) == n else "mixed")
    basis = (f"{supported} of {n} predictions supported, "
             f"{int(counts.get('contradicted', 0))} contradicted, "
             f"{int(counts.get('inconclusive', 0))} inconclusive (table below)")
    css = {"supported": "supported", "contradicted": "contradicted"}.get(overall, "inconclusive")
    return [{"claim": "C2 event-locked dynamics", "verdict": overall, "css": css, "basis": basis}]


def figure_entry(name: str, png: str, captions_dir: str | Path) -> dict:
    """An embedded figure; its caption file's first sentence is the title."""
    data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
    text = " ".join((Path(captions_dir) / f"{name}.rst").read_text().split())
    title, _, caption = text.partition(". ")
    return {"id": name, "title": title, "caption": caption, "data": data}


class Inputs:
    """What a section builder may read: the report rule's tables and figures, and the config."""

    def __init__(self, config: dict, tables: dict[str, str], figures: dict[str, str],
                 captions_dir: str | Path):
        self.config, self.tables, self.figure_paths = config, tables, figures
        self.captions_dir = captions_dir

    def table(self, name: str, **kwargs) -> pd.DataFrame:
        return storage.read_csv(self.tables[name], **kwargs)

    def figures(self, *names: str) -> dict[str, dict]:
        return {n: figure_entry(n, self.figure_paths[n], self.captions_dir) for n in names}


def tasks_section(inputs: Inputs) -> dict:
    runs = inputs.table("runs")
    unsolved = runs[~runs["solved"]]
    note = ""
    if len(unsolved):
        names = ", ".join(f"{r.task}/{r.arch}/{r.init}/seed {r.seed}" for r in
                          unsolved.itertuples())
        note = (f"{len(unsolved)} of {len(runs)} models did not solve their task and are "
                f"excluded from the verdicts: {names}.")
    solved = inputs.table("solved", dtype={"unsolved_seeds": str})
    return {"template": "sections/tasks.html.j2", "claims": [],
            "solved_table": html_table(solved_table(solved)), "unsolved_note": note,
            "figures": inputs.figures("training_curves")}


def c2_section(inputs: Inputs) -> dict:
    c2 = inputs.table("c2")
    return {"template": "sections/c2.html.j2", "claims": claim_rows(c2),
            "c2_table": html_table(c2_table(c2)), "figures": inputs.figures("event_averages")}


def saturation_section(inputs: Inputs) -> dict:
    analysis = inputs.config["analysis"]
    return {"template": "sections/saturation.html.j2", "claims": [],
            "saturation_table": html_table(saturation_table(inputs.table("saturation_summary"))),
            "low": analysis["saturation_low"], "high": analysis["saturation_high"],
            "figures": inputs.figures("saturation")}


def c1_table(c1: pd.DataFrame) -> pd.DataFrame:
    if c1.empty:
        return pd.DataFrame({"note": ["no solved models: nothing to decide"]})
    return pd.DataFrame({
        "task": c1["task"], "arch": c1["arch"], "init": c1["init"],
        "prediction": [f"{g} carries {v} ({r})" for g, v, r in
                       zip(c1["gate"], c1["variable"], c1["role"], strict=True)],
        "selectivity of predicted gate [CI]": cis(c1, ["selectivity", "sel_ci_low",
                                                       "sel_ci_high"]),
        "vs best other gate, trained [CI]": cis(c1, ["effect", "ci_low", "ci_high"]),
        "seeds agreeing": [f"{a} / {n}" for a, n in zip(c1["seeds_agreeing"], c1["n_seeds"],
                                                        strict=True)],
        "verdict": c1["verdict"],
        "same at step 0 [CI]": cis(c1, ["effect_at_init", "init_ci_low", "init_ci_high"]),
        "preference at step 0": c1["verdict_at_init"].map(
            {"supported": "predicted gate ahead", "contradicted": "another gate ahead",
             "inconclusive": "none (CI spans 0)"}),
        "unsolved seeds left out": c1["n_unsolved"],
    })


def c1_ranking_table(ranking: pd.DataFrame) -> pd.DataFrame:
    if ranking.empty:
        return pd.DataFrame({"note": ["no solved models"]})
    ranking = ranking.sort_values(["task", "arch", "init", "variable", "phase"])
    return pd.DataFrame({
        "task": ranking["task"], "arch": ranking["arch"], "init": ranking["init"],
        "variable": ranking["variable"], "phase": ranking["phase"],
        "most selective source": ranking["best_source"],
        "its selectivity [CI]": cis(ranking, ["best", "best_ci_low", "best_ci_high"]),
        "runner-up": ranking["runner_up"],
        "margin over runner-up [CI]": cis(ranking, ["margin", "margin_ci_low",
                                                    "margin_ci_high"]),
        "seeds where best": [f"{a} / {n}" for a, n in zip(ranking["seeds_best"],
                                                          ranking["n_seeds"], strict=True)],
        "input window": ranking["input_window"].map(fmt),
    })


def c1_controls_table(controls: pd.DataFrame) -> pd.DataFrame:
    """Single-token vs token-window control, trained phase, one row per task x arch x variable."""
    if controls.empty:
        return pd.DataFrame({"note": ["no solved models"]})
    rows = []
    keys = ["task", "arch", "init", "variable"]
    trained = controls[controls["phase"] == "trained"]
    for key, group in trained.groupby(keys, sort=True):
        rec = group[group["group"] == "recurrent"].iloc[0]
        win = group[group["group"] == "input_window"]
        win = win.iloc[0] if len(win) else None
        rows.append({
            **dict(zip(keys, key, strict=True)), "task score": fmt(rec["task_score"]),
            "control, 1 token": fmt(rec["control_score_token"]),
            "selectivity, 1 token": fmt(rec["selectivity_token"]),
            "control, window": fmt(rec["control_score"]),
            "selectivity, window": fmt(rec["selectivity"]),
            "spread across sources, window": fmt(rec["selectivity_spread"]),
            "input window: selectivity 1 token / window":
                "–" if win is None else f"{fmt(win['selectivity_token'])} / "
                                        f"{fmt(win['selectivity'])}",
        })
    return pd.DataFrame(rows)


def c1_claim_rows(c1: pd.DataFrame) -> list[dict]:
    name = "C1 role emergence (probes)"
    if c1.empty:
        return [{"claim": name, "verdict": "not decided", "css": "", "basis": "no solved models"}]
    counts = c1["verdict"].value_counts()
    n = len(c1)
    supported, contradicted = int(counts.get("supported", 0)), int(counts.get("contradicted", 0))
    overall = ("supported" if supported == n else "not supported" if supported == 0 else "mixed")
    at_init = int((c1["verdict_at_init"] != "inconclusive").sum())
    basis = (f"{supported} of {n} role predictions supported (predicted gate more selective "
             f"than every other gate after training), {contradicted} contradicted, "
             f"{n - supported - contradicted} inconclusive; largest trained effect "
             f"{c1['effect'].max():+.3f}; at step 0, {at_init} of {n} already show a "
             f"preference of either sign (table below)")
    css = {"supported": "supported", "not supported": "contradicted"}.get(overall,
                                                                          "inconclusive")
    return [{"claim": name, "verdict": overall, "css": css, "basis": basis}]


def c1_findings(c1: pd.DataFrame, ranking: pd.DataFrame, controls: pd.DataFrame) -> dict:
    """Numbers the C1 text quotes (all read from the aggregate tables)."""
    if c1.empty or ranking.empty or controls.empty:
        return {}
    recurrent = controls[controls["group"] == "recurrent"]
    events = recurrent[recurrent["variable"].str.startswith("is_")]
    states = recurrent[~recurrent["variable"].str.startswith("is_")]
    trained = ranking[ranking["phase"] == "trained"]
    kinds = trained["best_source"].map(
        lambda s: "state" if s in ("hidden", "cell") else "input window"
        if s == "input_window" else "gate")
    return {
        "event_task_initial": fmt(events.loc[events["phase"] == "initial", "task_score"].min()),
        "event_task_trained": fmt(events.loc[events["phase"] == "trained", "task_score"].min()),
        "n_rows": len(trained), "best_state": int((kinds == "state").sum()),
        "best_gate": int((kinds == "gate").sum()),
        "best_window": int((kinds == "input window").sum()),
        "max_margin": fmt(trained["margin"].max()),
        "effect_low": fmt(c1["effect"].min()), "effect_high": fmt(c1["effect"].max()),
        "n_supported": int((c1["verdict"] == "supported").sum()),
        "n_contradicted": int((c1["verdict"] == "contradicted").sum()), "n_pred": len(c1),
        "n_init_pref": int((c1["verdict_at_init"] != "inconclusive").sum()),
        "sel_low": fmt(c1["selectivity"].min()), "sel_high": fmt(c1["selectivity"].max()),
        "small": bool(c1["effect"].abs().max() < 0.05),
        "state_initial": fmt(states.loc[states["phase"] == "initial", "selectivity"].mean()),
        "state_trained": fmt(states.loc[states["phase"] == "trained", "selectivity"].mean()),
    }


def c1_section(inputs: Inputs) -> dict:
    c1 = inputs.table("c1")
    probes = inputs.config["probes"]
    ranking, controls = inputs.table("c1_ranking"), inputs.table("c1_controls")
    return {"template": "sections/c1.html.j2", "claims": c1_claim_rows(c1),
            "findings": c1_findings(c1, ranking, controls),
            "c1_table": html_table(c1_table(c1)),
            "ranking_table": html_table(c1_ranking_table(ranking)),
            "controls_table": html_table(c1_controls_table(controls)),
            "control_window": probes["control_window"], "input_window": probes["input_window"],
            "n_sequences": probes["n_sequences"],
            "figures": inputs.figures("c1_selectivity_heatmap", "c1_emergence",
                                      "c1_task_vs_control")}


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


def c5_section(inputs: Inputs) -> dict:
    c5 = inputs.table("c5")
    dependence = inputs.table("c5_dependence")
    info = inputs.config["information"]
    return {"template": "sections/c5.html.j2", "claims": c5_claim_rows(c5),
            "verdict_table": html_table(c5_verdict_table(c5)),
            "bins_table": html_table(c5_bins_table(dependence)),
            "baseline_table": html_table(c5_baseline_table(dependence, info["main_bins"])),
            "scores_table": html_table(c5_scores_table(inputs.table("c5_scores"))),
            "info": info, "reading": c5_reading(c5, dependence, info["main_bins"]),
            "figures": inputs.figures("c5_gate_mi", "c5_disentanglement",
                                      "c5_unit_factor_mi")}


# The report's sections in order; a new analysis adds its builder (and template) here.
SECTIONS = [tasks_section, c1_section, c2_section, c5_section, saturation_section]


def render(*, config: dict, tables: dict[str, str], figures: dict[str, str],
           captions_dir: str | Path, benchmarks: list[str], prov: dict) -> str:
    """The report's HTML text from the aggregate tables and the figure PNGs."""
    inputs = Inputs(config, tables, figures, captions_dir)
    sections = [build(inputs) for build in SECTIONS]
    env = jinja2.Environment(loader=jinja2.PackageLoader("gateroles", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    return env.get_template("report.html.j2").render(
        n_models=len(inputs.table("runs")), n_seeds=len(config["study"]["seeds"]),
        confidence_pct=f"{100 * config['analysis']['confidence']:g}",
        claims=[row for section in sections for row in section["claims"]],
        sections=sections,
        config_yaml=yaml.safe_dump(config, sort_keys=False, default_flow_style=None),
        provenance=prov, runtime_table=html_table(runtime_table(benchmarks)),
    )

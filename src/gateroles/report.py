"""The report shell: the self-contained HTML page that collects the analyses' sections.

Each analysis renders its own section (`gateroles.analyses.<name>.section`, registered in its
rules file); this module holds the page around them (the answer assembled from the claims'
rows and sentences, configuration, provenance, runtimes) and the formatting helpers the
sections share. It names no claim and imports no analysis: the caller passes the claims
registry and the section modules in. Everything shown comes from the tables the workflow
wrote; the report computes nothing new except formatting. Config text is HTML-escaped (Jinja
autoescape; tables via pandas' escaping).
"""

from __future__ import annotations

import base64
import importlib
import importlib.metadata
import platform
import subprocess
from collections.abc import Callable, Mapping, Sequence
from html import escape
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import NamedTuple

import jinja2
import numpy as np
import pandas as pd
import yaml

from gateroles import stats, storage
from gateroles.config import config_hash
from gateroles.stats import PRIMARY, SANITY

ROOT = Path(__file__).resolve().parent  # templates and captions are found from here

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


# --------------------------------------------------------------------------- the answer

TESTED = ("supported", "contradicted", "inconclusive")
CSS = {"supported": "supported", "contradicted": "contradicted"}


UNDECIDED = ("untestable", "insufficient seeds")
UNDECIDED_WORDS = {"untestable": "untestable", "insufficient seeds": "with too few seeds"}


def overall_verdict(verdicts) -> str:
    """One verdict from several: the common verdict of the decided rows (e.g. every one
    supported -> supported); a mixture of contradicted, inconclusive and not supported -> not
    supported; any other mixture (some supported, a line itself mixed, or lines answering in
    other words, such as dependent / independent) -> mixed; with none decided:
    untestable if any row is, else insufficient seeds / not decided."""
    verdicts = list(verdicts)
    tested = [v for v in verdicts if v not in UNDECIDED]
    if not tested:
        for fallback in ("untestable", "insufficient seeds"):
            if fallback in verdicts:
                return fallback
        return "not decided"
    if all(v == tested[0] for v in tested):
        return tested[0]
    failing = {"contradicted", "inconclusive", "not supported"}
    return "not supported" if set(tested) <= failing else "mixed"


def _effect_text(row, value: str, decimals: int) -> str:
    """'prediction (task, arch), what: mean [CI]' of one verdict row."""
    interval = ci(row[value], row[f"{value}_ci_low"], row[f"{value}_ci_high"], decimals)
    what = row.get("decided_on") or "change from step 0"
    if value != "change":
        what = value
    return f"{row['prediction']} ({row['task']}, {row['arch']}), {what}: {interval}"


def _text(value) -> str:
    """A table's text cell: '' for a missing one (an empty string reads back as NaN)."""
    return value if isinstance(value, str) else ""


def _control_text(row, decimals: int) -> str:
    """'control: effect [CI], verdict' of a primary prediction's negative control."""
    if not _text(row.get("control_verdict")):
        return _text(row.get("control")) or "no negative control"
    interval = ci(row["control_change"], row["control_ci_low"], row["control_ci_high"],
                  decimals)
    return f"{row['control']}: {interval}, {row['control_verdict']}"


def evidence_row(verdicts: pd.DataFrame, claim: str, evidence: str, decimals: int = 3,
                 value: str = "change") -> dict:
    """One line of evidence for a claim in the report's answer table, from a verdict table
    (`stats.VERDICT_COLUMNS`).

    Only the line's *counted* primary predictions decide it (`stats.counted`: a negative
    control ran and did not come out supported): its overall verdict, how many hold, the
    weakest one's effect [CI] (`value`: the decided effect, `change`, or `trained`) with its
    negative control beside it, and the fewest seeds agreeing. Primary predictions that pass
    their control ("not a test") or have none ("no control") and the sanity checks are
    counted apart and never decide the line (`sanity`: the sanity rows, for the report's
    table of sanity checks)."""
    rows = verdicts[verdicts["claim"] == claim] if len(verdicts) else verdicts
    base = {"claim": claim, "evidence": evidence, "css": "", "effect": "–", "control": "–",
            "seeds": "–", "n_predictions": 0, "n_tested": 0, "n_supported": 0,
            "n_contradicted": 0, "undecided": {}, "not_a_test": [], "uncontrolled": [],
            "sanity": rows[rows["test"] == SANITY] if len(rows) else rows}
    primary = rows[rows["test"] == PRIMARY] if len(rows) else rows
    base["n_primary"] = len(primary)
    if primary.empty:
        return {**base, "verdict": "not decided",
                "basis": "no primary prediction" if len(rows) else "no solved models"}
    decided = primary[primary["counted"].astype(bool)]
    passed = primary[~primary["counted"].astype(bool)
                     & primary["control_verdict"].isin([stats.SUPPORTED])]
    without = primary[~primary["counted"].astype(bool) & ~primary.index.isin(passed.index)]
    extra = []
    if len(passed):
        extra.append(f"{len(passed)} not a test (passes its negative control)")
    if len(without):
        extra.append(f"{len(without)} whose negative control did not run or had too few seeds")
    base.update(not_a_test=[_effect_text(r, value, decimals) + "; " + _control_text(r, decimals)
                            for _, r in passed.iterrows()],
                uncontrolled=[_effect_text(r, value, decimals) + "; " + _control_text(r,
                                                                                     decimals)
                              for _, r in without.iterrows()])
    if decided.empty:
        return {**base, "verdict": "not decided",
                "basis": "no counted prediction: " + ", ".join(extra)}
    verdict = overall_verdict(decided["verdict"])
    counts = decided["verdict"].value_counts()
    basis = ", ".join(f"{int(n)} {v}" for v, n in counts.items())
    tested = decided[~decided["verdict"].isin(UNDECIDED)]
    effect, control, seeds = "–", "–", "–"
    if len(tested):
        p = tested["p_adjusted"]
        weakest = tested.loc[p.idxmax()] if p.notna().any() else tested.iloc[0]
        effect = _effect_text(weakest, value, decimals)
        control = _control_text(weakest, decimals)
        agree = tested["seeds_agreeing"] / tested["n_seeds"]
        low = tested.loc[agree.idxmin()]
        seeds = f"{int(low['seeds_agreeing'])} / {int(low['n_seeds'])}"
    return {**base, "verdict": verdict, "css": CSS.get(verdict, ""), "effect": effect,
            "control": control, "seeds": seeds,
            "basis": f"{len(decided)} primary prediction{'s' if len(decided) != 1 else ''}: "
                     f"{basis}"
                     + (f" ({'; '.join(extra)})" if extra else ""),
            "n_predictions": len(decided), "n_tested": len(tested),
            "n_supported": int(counts.get("supported", 0)),
            "n_contradicted": int(counts.get("contradicted", 0)),
            "undecided": {v: int(counts[v]) for v in UNDECIDED if v in counts}}


def sanity_table(lines: list[dict], decimals: int = 3) -> pd.DataFrame:
    """Every line's sanity checks, one row each: shown apart, never counted."""
    frames = [line["sanity"] for line in lines if len(line["sanity"])]
    if not frames:
        return pd.DataFrame({"note": ["no sanity checks in this run"]})
    table = pd.concat(frames, ignore_index=True)
    return pd.DataFrame({
        "claim": table["claim"], "task": table["task"], "arch": table["arch"],
        "check": table["prediction"],
        "trained [CI]": cis(table, ["trained", "trained_ci_low", "trained_ci_high"], decimals),
        "step 0 [CI]": cis(table, ["initial", "initial_ci_low", "initial_ci_high"], decimals),
        "verdict": table["verdict"], "why it cannot fail": table["note"].fillna("")})


def verdict_table(verdicts: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """A verdict table (`stats.VERDICT_COLUMNS`) for the page: one row per prediction, the
    primary ones first (each with what its verdict tests, its negative control and whether it
    counts), then the sanity checks."""
    if verdicts.empty:
        return pd.DataFrame({"note": ["no solved models: nothing to decide"]})
    v = verdicts.assign(_order=(verdicts["test"] != PRIMARY)).sort_values("_order",
                                                                           kind="stable")
    controls = [_control_text(r, decimals) if r["test"] == PRIMARY else "–"
                for _, r in v.iterrows()]
    return pd.DataFrame({
        "test": v["test"], "task": v["task"], "arch": v["arch"], "init": v["init"],
        "prediction": v["prediction"],
        "trained [CI]": cis(v, ["trained", "trained_ci_low", "trained_ci_high"], decimals),
        "step 0 [CI]": cis(v, ["initial", "initial_ci_low", "initial_ci_high"], decimals),
        "tested effect [CI]": cis(v, ["change", "change_ci_low", "change_ci_high"], decimals),
        "tested on": v["decided_on"].fillna(""),
        "d_z": v["cohens_dz"].map(lambda d: fmt(d, 1)),
        "seeds agreeing": [f"{int(a)} / {int(n)}" if n else "–" for a, n in
                           zip(v["seeds_agreeing"], v["n_seeds"], strict=True)],
        "p (Holm)": v["p_adjusted"].map(lambda p: "–" if not np.isfinite(p) else f"{p:.2g}"),
        "verdict": v["verdict"],
        "negative control": controls,
        "counted": ["yes" if c else "no" for c in v["counted"].astype(bool)],
        "rival predicts": v["rival"].fillna(""),
        "note": v["note"].fillna(""),
    })


def folded(html: str, summary: str, rows: int, fold_above: int = 12) -> str:
    """`html` inside a `<details>` element when it has more than `fold_above` rows."""
    if rows <= fold_above:
        return html
    return (f"<details><summary>{escape(summary)} ({rows} rows)</summary>{html}</details>")


def counts_sentence(verdicts: pd.DataFrame, what: str = "predictions") -> str:
    """'Of n counted primary predictions: k supported, ...' from a verdict table, with the
    uncounted primary predictions and the sanity checks named apart (generated text)."""
    if verdicts.empty:
        return f"No solved model: no {what} could be decided."
    primary = verdicts[verdicts["test"] == PRIMARY]
    counted = primary[primary["counted"].astype(bool)]
    counts = counted["verdict"].value_counts()
    parts = [f"{int(n)} {v}" for v, n in counts.items()]
    text = (f"Of {len(counted)} counted primary {what}: " + ", ".join(parts) + "."
            if len(counted) else f"No primary {what} counted.")
    uncounted = len(primary) - len(counted)
    if uncounted:
        text += (f" {uncounted} more not counted (their negative control came out supported "
                 f"or did not run).")
    sanity = int((verdicts["test"] == SANITY).sum())
    if sanity:
        text += f" {sanity} sanity checks, shown apart."
    return text


def family_sentence(verdicts: pd.DataFrame, shown: pd.DataFrame, elsewhere: str) -> str:
    """Which Holm family the counted rows of `shown` (some lines of evidence of a claim's
    verdict table `verdicts`, index kept) belong to, in words: with the claim's other counted
    rows (`elsewhere`: where the page shows them), one family per claim (`stats.FAMILIES`);
    '' where `shown` counts none."""
    if verdicts.empty:
        return ""
    claim = verdicts["claim"].iloc[0]
    counted = verdicts[(verdicts["test"] == PRIMARY) & verdicts["counted"].astype(bool)]
    here = counted.index.isin(shown.index)
    if not here.any():
        return ""
    others = int((~here).sum())
    if not others:
        return f"The counted ones are one Holm family, claim {claim}'s."
    return (f"The counted ones are one Holm family, claim {claim}'s, with its {others} other "
            f"counted prediction{'s' if others != 1 else ''} ({elsewhere}).")


def caption_text(name: str, settings=None) -> str:
    """Figure `name`'s caption, `analyses/<analysis>/captions/<name>.rst` (figure names are
    unique), rendered with that analysis's typed `settings`, whitespace collapsed.

    A caption that states a setting (bins, sequences, trees) reads it as
    `{{ snakemake.config.<analysis>.<key> }}`: here from the typed settings, in Snakemake's
    own report (`snakemake --report`) from the config section of the same name, which the same
    declarations describe (`gateroles.settings`), so neither report can state a value the run
    did not use, and a caption can state only its own analysis's settings.
    """
    captions = list(ROOT.glob(f"analyses/*/captions/{name}.rst"))
    if len(captions) != 1:
        raise FileNotFoundError(f"expected one caption file for figure {name!r}, found "
                                f"{[str(c) for c in captions]}")
    analysis = captions[0].parent.parent.name
    config = {} if settings is None else {analysis: settings}
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        captions[0].read_text())
    return " ".join(template.render(snakemake=SimpleNamespace(config=config)).split())


def figure_entry(name: str, png: str, settings=None) -> dict:
    """An embedded figure; its caption's first sentence is the title."""
    data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
    text = caption_text(name, settings)
    title, _, caption = text.partition(". ")
    return {"id": name, "title": title, "caption": caption, "data": data}


class Inputs:
    """What a section builder may read: the report rule's tables and figures, and the config
    (which a section reads through its analysis's typed `Settings.from_config`)."""

    def __init__(self, config: dict, tables: dict[str, str], figures: dict[str, str]):
        self.config, self.tables, self.figure_paths = config, tables, figures

    def table(self, name: str, **kwargs) -> pd.DataFrame:
        return storage.read_csv(self.tables[name], **kwargs)

    def figures(self, *names: str, settings=None) -> dict[str, dict]:
        """The figures `names`, their captions rendered with the section's typed `settings`."""
        return {n: figure_entry(n, self.figure_paths[n], settings) for n in names}


PHRASES = {"supported": "yes", "contradicted": "no: the opposite holds",
           "mixed": "partly", "inconclusive": "not shown either way",
           "not supported": "no: none holds",
           "untestable": "untestable by this measure",
           "insufficient seeds": "too few solved seeds to decide",
           "not decided": "not decided", "independent": "independent",
           "dependent": "dependent", "not shown": "not shown either way"}


class Sentence(NamedTuple):
    """One sentence of the report's answer, with `groups` (`which_lines_hold`) listed under it."""

    text: str
    groups: Sequence[dict] = ()


# A claim's sentence: written from the answer-table rows of the claims it answers (those with
# a line of evidence, registry order; maybe none), or None to say nothing.
Writer = Callable[[list[dict]], Sentence | None]


def answer_writers(modules: list[ModuleType]) -> dict[str, Writer]:
    """Claim -> the function writing its sentence, from the `ANSWERS` of the section modules
    (the section of the analysis that owns a claim maps it; one function may answer several
    claims together)."""
    writers: dict[str, Writer] = {}
    for module in modules:
        for claim, write in getattr(module, "ANSWERS", {}).items():
            if writers.setdefault(claim, write) is not write:
                raise ValueError(f"two sentences for claim {claim!r}: {module.__name__} maps "
                                 f"it and so does {writers[claim].__module__}")
    return writers


def answer(evidence: list[dict], claims: Mapping[str, str],
           writers: Mapping[str, Writer]) -> dict:
    """The report's opening: one row per claim of the registry `claims` (claim -> its name, in
    the answer table's order) with its lines of evidence, and the sentences written from their
    verdicts by `writers` (`answer_sentences`)."""
    rows = []
    for claim, name in claims.items():
        # a line with sanity checks only is not a line of evidence (its checks are listed apart)
        lines = [row for row in evidence if row["claim"] == claim and row["n_primary"]]
        if not lines:
            continue
        deciding = [row["verdict"] for row in lines if row["n_predictions"]]
        verdict = overall_verdict(deciding) if deciding else "not decided"
        rows.append({"claim": claim, "name": name, "verdict": verdict,
                     "css": CSS.get(verdict, ""), "lines": lines})
    every_line = list(evidence)
    return {"claims": rows, "sentences": answer_sentences(rows, list(claims), writers),
            "not_a_test": [(row["claim"], text) for row in every_line
                           for text in row["not_a_test"]],
            "uncontrolled": [(row["claim"], text) for row in every_line
                             for text in row["uncontrolled"]],
            "sanity": sanity_table(every_line),
            "n_sanity": sum(len(row["sanity"]) for row in every_line)}


def answer_sentences(rows: list[dict], order: list[str],
                     writers: Mapping[str, Writer]) -> list[Sentence]:
    """The answer's sentences: each writer once, at the first claim of `order` it answers,
    given the rows of its claims present (it may still answer with none: 'not decided'). A
    claim with rows and no writer is an error: a new claim must say what it found."""
    silent = [row["claim"] for row in rows if row["claim"] not in writers]
    if silent:
        raise ValueError(f"no sentence for claim(s) {silent}: map each in the `ANSWERS` of "
                         f"the section of the analysis that owns it")
    out = []
    for write in dict.fromkeys(writers[claim] for claim in order if claim in writers):
        sentence = write([row for row in rows if writers.get(row["claim"]) is write])
        if sentence is not None:
            out.append(sentence)
    return out


def asked(question: str, rows: list[dict]) -> Sentence | None:
    """'question line: its verdict in words (basis); ...' over the lines of the claims' `rows`
    (the answer table's); None without any."""
    if not rows:
        return None
    lines = "; ".join(f"{line['evidence']}: {PHRASES.get(line['verdict'], line['verdict'])} "
                      f"({line['basis']})" for row in rows for line in row["lines"])
    return Sentence(f"{question} {lines}.")


def which_lines_hold(lines: list[dict]) -> list[dict]:
    """Lines of evidence (`evidence_row`) grouped by the share of their tested predictions
    supported, each group `{"heading", "items"}`: "Most predictions hold for" (A (its claim:
    14 of 16), ...), "Half or fewer hold for" (B (its claim: 2 of 18; 10 more untestable)),
    "Untestable here" (C (its claim: 4 untestable)). Untestable predictions and those with too
    few seeds are named, not counted as failures; empty groups are left out."""
    def undecided(row, more: str = "") -> str:
        return ", ".join(f"{n}{more} {UNDECIDED_WORDS[v]}" for v, n in row["undecided"].items())

    def item(row):
        extra = f", {row['n_contradicted']} contradicted" if row["n_contradicted"] else ""
        more = f"; {undecided(row, ' more')}" if row["undecided"] else ""
        return (f"{row['evidence']} ({row['claim']}: {row['n_supported']} of "
                f"{row['n_tested']}{extra}{more})")

    tested = [row for row in lines if row["n_tested"]]
    groups = [("Most predictions hold for",
               [item(r) for r in tested if 2 * r["n_supported"] > r["n_tested"]]),
              ("Half or fewer hold for",
               [item(r) for r in tested if 2 * r["n_supported"] <= r["n_tested"]]),
              ("Untestable here", [f"{r['evidence']} ({r['claim']}: {undecided(r)})"
                                   for r in lines if r["n_predictions"] and not r["n_tested"]])]
    return [{"heading": heading, "items": items} for heading, items in groups if items]


def render(*, config: dict, claims: Mapping[str, str], sections: list[str],
           tables: dict[str, str], figures: dict[str, str], benchmarks: list[str], prov: dict,
           viewer: str | None = None) -> str:
    """The report's HTML text from the aggregate tables and the figure PNGs; `viewer`: the
    link (relative to the report) of the viewer page beside it (`gateroles.viewer`), if any.

    `claims`: the claims registry, claim -> its name in the answer table's order. `sections`:
    the section modules (`gateroles.analyses.<name>.section`) in report order, as the rules
    files registered them; each `section(inputs)` returns its template's context, with
    `claims`: its rows of the answer table (`evidence_row`); a module's `ANSWERS` maps the
    claims it owns to their sentences (`answer_writers`).
    """
    inputs = Inputs(config, tables, figures)
    modules = [importlib.import_module(name) for name in sections]
    built = [module.section(inputs) for module in modules]
    runtime = runtime_table(benchmarks)
    opening = answer([row for section in built for row in section["claims"]], claims,
                     answer_writers(modules))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    statistics = stats.Settings.from_config(config)
    return env.get_template("templates/report.html.j2").render(
        n_models=len(inputs.table("runs")), n_seeds=len(config["study"]["seeds"]),
        confidence_pct=f"{100 * statistics.confidence:g}", min_seeds=statistics.min_seeds,
        answer=opening, sanity_table=html_table(opening["sanity"]),
        sections=built, viewer=viewer,
        config_yaml=yaml.safe_dump(config, sort_keys=False, default_flow_style=None),
        provenance=prov, runtime_table=folded(html_table(runtime), "Job seconds per rule",
                                              len(runtime)),
    )

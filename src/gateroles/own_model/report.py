"""The report of a user model: one self-contained HTML page from its tables and figures."""

from __future__ import annotations

import base64
from pathlib import Path

import jinja2
import pandas as pd

from gateroles import report
from gateroles.own_model.figures import FIGURES

WORDS = {"supported": "yes", "contradicted": "the opposite", "inconclusive": "not shown",
         "insufficient seeds": "too few sequences",
         "untestable": "untestable (no change in any sequence)"}


def _verdict_words(frame: pd.DataFrame) -> pd.Series:
    return frame["verdict"].map(WORDS).fillna(frame["verdict"])


def _holm_p(frame: pd.DataFrame) -> pd.Series:
    """The Holm-adjusted p of the side that decided (the smaller of the two directions)."""
    return frame[["p_adjusted", "p_opposite_adjusted"]].min(axis=1).map(report.fmt)


def tables_html(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """The report's tables, formatted: effects with their t-intervals, Holm-adjusted p."""
    population = tables["event_population"]
    out = {"population": report.html_table(pd.DataFrame({
        "gate": population["point"], "event": population["event"],
        "sequences": population["n_sequences"],
        "event - quiet [CI]": report.cis(population, ["mean", "ci_low", "ci_high"]),
        "p (Holm)": _holm_p(population),
        "response": population["response"],
        "units rising": population["share_rising"].map(lambda x: f"{x:.0%}"),
        "units dropping": population["share_dropping"].map(lambda x: f"{x:.0%}")}))}
    matrix = tables["perturbation"]
    out["perturbation"] = report.html_table(pd.DataFrame({
        "gate": matrix["point"], "event": matrix["event"], "behaviour": matrix["behaviour"],
        "sequences": matrix["n_sequences"],
        "damage at event": matrix["damage_event"].map(report.fmt),
        "damage at quiet": matrix["damage_control"].map(report.fmt),
        "difference [CI]": report.cis(matrix, ["mean", "ci_low", "ci_high"]),
        "p (Holm)": _holm_p(matrix),
        "event hurts more": _verdict_words(matrix)}))
    shares = tables["attribution"]
    out["attribution"] = "<p>None: the module has no gated state.</p>" if shares.empty else \
        report.html_table(pd.DataFrame({
            "layer, direction": shares["point"], "event": shares["event"],
            "sequences": shares["n_sequences"],
            "share at event [CI]": report.cis(shares, ["share_event", "share_event_ci_low",
                                                       "share_event_ci_high"]),
            "share at quiet [CI]": report.cis(shares, ["share_quiet", "share_quiet_ci_low",
                                                       "share_quiet_ci_high"]),
            "difference [CI]": report.cis(shares, ["mean", "ci_low", "ci_high"]),
            "p (Holm)": _holm_p(shares),
            "erases more at the event": _verdict_words(shares)}))
    return out


def counts(frame: pd.DataFrame) -> str:
    """'3 yes, 1 the opposite, 8 not shown (of 12)'."""
    if frame.empty:
        return "none"
    tally = _verdict_words(frame).value_counts()
    return ", ".join(f"{n} {w}" for w, n in tally.items()) + f" (of {len(frame)})"


def render(summary: dict, tables: dict[str, pd.DataFrame], figures: dict[str, str]) -> str:
    """The HTML page: what was analysed, how to read it, then each analysis."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(report.ROOT / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    embedded = {name: {"data": base64.b64encode(Path(path).read_bytes()).decode("ascii"),
                       "caption": " ".join(FIGURES[name].__doc__.split())}
                for name, path in figures.items()}
    return env.get_template("own_model.html.j2").render(
        s=summary, tables=tables_html(tables), figures=embedded,
        confidence_pct=round(100 * summary["confidence"]),
        counts={name: counts(tables[name]) for name in ("perturbation", "attribution")},
        responses=tables["event_population"]["response"].value_counts().to_dict())


def write(inputs: dict, html_path: str) -> None:
    """The workflow's `user_model_report` job: the page from the summary, tables, figures."""
    from gateroles import storage

    tables = {name: storage.read_csv(inputs[name]) for name in
              ("event_units", "event_population", "event_aligned", "perturbation",
               "attribution")}
    figures = {key.removeprefix("figure_"): path for key, path in inputs.items()
               if key.startswith("figure_")}
    html = render(storage.read_json(inputs["summary"]), tables, figures)
    with storage.atomic_path(html_path) as tmp:
        tmp.write_text(html, encoding="utf-8")

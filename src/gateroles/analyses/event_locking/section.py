"""The C2 section: event-locked effects with verdicts, the answer-table rows of claim C2."""

from __future__ import annotations

from gateroles import report
from gateroles.analyses.event_locking import Settings
from gateroles.analyses.event_locking.aggregate import POPULATION, UNITS
from gateroles.analyses.roles.section import role_answer
from gateroles.report import Inputs, html_table


def section(inputs: Inputs) -> dict:
    c2 = inputs.table("c2")
    settings = Settings.from_config(inputs.config)
    lines = {evidence: c2[c2["evidence"] == evidence] for evidence in (POPULATION, UNITS)}
    return {"template": "analyses/event_locking/section.html.j2",
            "claims": [report.evidence_row(rows, "C2", f"gate activation at events "
                                                       f"({evidence})")
                       for evidence, rows in lines.items()],
            "sentences": {evidence: report.counts_sentence(rows)
                          for evidence, rows in lines.items()},
            "c2_table": report.folded(html_table(report.verdict_table(c2)),
                                      "All C2 predictions", len(c2)),
            "unit_alpha": settings.unit_alpha,
            "figures": inputs.figures("event_averages", settings=settings)}


ANSWERS = {"C2": role_answer}  # answered with the other role claims, in one sentence

"""The C1 role-tests section: attribution of state changes and context dependence."""

from __future__ import annotations

from gateroles import report
from gateroles.analyses.roles import Settings
from gateroles.analyses.roles.aggregate import ATTRIBUTION, CONTEXT
from gateroles.report import Inputs, html_table


def section(inputs: Inputs) -> dict:
    roles = inputs.table("c1_roles")
    settings = Settings.from_config(inputs.config)
    lines = {evidence: roles[roles["evidence"] == evidence] if len(roles) else roles
             for evidence in (ATTRIBUTION, CONTEXT)}
    return {"template": "analyses/roles/section.html.j2",
            "claims": [report.evidence_row(rows, "C1", evidence)
                       for evidence, rows in lines.items()],
            "sentences": {evidence: report.counts_sentence(rows)
                          for evidence, rows in lines.items()},
            "table": report.folded(html_table(report.verdict_table(roles)),
                                   "All C1 role-test predictions", len(roles)),
            "memory_units": settings.memory_units,
            "figures": inputs.figures("c1_attribution", "c1_context", settings=settings)}


def role_answer(claims: list[dict]) -> report.Sentence:
    """The answer's first sentence: do the gates come to play the roles their positions name?
    Answered together by the claims that test it (each maps itself here in its section's
    `ANSWERS`), from their verdicts (`claims`: their rows of the answer table), with their
    lines of evidence listed under it by how many of their predictions hold."""
    if not claims:
        return report.Sentence("Not decided: these runs hold no primary test of the gates' "
                               "roles.")
    decided = [c["verdict"] for c in claims
               if c["verdict"] not in (*report.UNDECIDED, "not decided")]
    if not decided:
        lead = ("Not decided: in these runs no primary test of the gates' roles could be "
                "decided (too few solved seeds, no negative control that ran, or measures "
                "that cannot tell the hypotheses apart)")
    elif all(v == "supported" for v in decided):
        lead = ("Yes: in these runs the gates come to play the roles their positions name, "
                "by every primary test decided, each failing on its negative control")
    elif any(v in ("supported", "mixed") for v in decided):
        lead = ("In part: the gates come to play the roles their positions name by some "
                "primary tests and not by others")
    elif "contradicted" in decided:
        lead = ("No: where the primary tests decide, they go against the gates playing the "
                "roles their positions name")
    else:
        lead = ("No: no primary test in these runs shows the gates playing the roles their "
                "positions name")
    return report.Sentence(f"{lead}.", report.which_lines_hold(
        [line for c in claims for line in c["lines"]]))


ANSWERS = {"C1": role_answer}  # claim -> its sentence in the report's answer

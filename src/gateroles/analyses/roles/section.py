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

"""The toy analysis's report section."""

from gateroles.report import Inputs, html_table


def section(inputs: Inputs) -> dict:
    means = inputs.table("gate_means")
    return {"template": "analyses/gate_means/section.html.j2", "claims": [],
            "table": html_table(means), "figures": inputs.figures("gate_means")}

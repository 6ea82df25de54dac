"""The toy analysis's report section."""

from gateroles.analyses.gate_means import Settings
from gateroles.report import Inputs, html_table


def section(inputs: Inputs) -> dict:
    settings = Settings.from_config(inputs.config)
    return {"template": "analyses/gate_means/section.html.j2", "claims": [],
            "table": html_table(inputs.table("means")),
            "n_sequences": settings.n_sequences,
            "figures": inputs.figures("gate_means", settings=settings)}

"""Figure: selectivity of each gate for its role's variable against training step (C1)."""

from gateroles import jobs, plots, storage
from gateroles.aggregate import C1_ROLES
from gateroles.events import SIGMOID_GATES
from gateroles.tasks import EVENTS

jobs.start(snakemake.threads, snakemake.log[0])
fig = plots.emergence_curves(storage.read_csv(snakemake.input.probes), C1_ROLES, EVENTS,
                             SIGMOID_GATES)
plots.save(fig, snakemake.output.png, snakemake.output.pdf)

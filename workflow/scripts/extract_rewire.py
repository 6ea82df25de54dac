"""Gate files of the rewired models of one grid cell: every fine-tuning checkpoint, and the
frozen-blocks control's last checkpoint (C4)."""

from gateroles import pipeline
from gateroles.extraction import extract_run
from gateroles.study import Cell

pipeline.start(snakemake.threads, snakemake.log[0])
w, inp, out = snakemake.wildcards, snakemake.input, snakemake.output
runs = Cell(w.task, w.arch, w.init).runs(snakemake.params.seeds)
for run, tuned, tuned_gates, frozen, frozen_gates in zip(
        runs, inp.checkpoints, out.gates, inp.frozen, out.frozen, strict=True):
    for checkpoints, gates in ((tuned, tuned_gates), (frozen, frozen_gates)):
        extract_run(snakemake.params.config, run, checkpoints_path=checkpoints,
                    gates_path=gates, logits=False)  # the wiring analysis reads gates only

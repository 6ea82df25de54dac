# The offline viewer (gateroles.viewer): every gate of the study's models on a few held-out
# sequences, step 0 against trained, model against model, free against perturbed (claim C3's
# perturbations); one self-contained page beside the report, which links it. What it shows
# is the config's `viewer` section (gateroles.viewer.shown). It makes the shown models' gates
# from their checkpoints in memory: reading the (temporary) gate files would keep every shown
# cell's on disk until the end of the study.
from gateroles import viewer

VIEWER_SHOWN = viewer.shown(config)
# the C3 tables of the cells whose perturbations it shows (their scores over the study)
VIEWER_CAUSAL = per_cell(
    cell_table("causal", "matrix"),
    list(dict.fromkeys(run.cell for run, perturb in VIEWER_SHOWN if perturb)),
)


rule viewer:
    input:
        code=lib("gateroles.viewer.study"),
        page=code_deps.data_files("viewer/viewer.html"),
        runs="results/tables/runs.csv",
        checkpoints=[f"results/runs/{run.path}/checkpoints.pt" for run, _ in VIEWER_SHOWN],
        causal=VIEWER_CAUSAL,
    output:
        html="results/viewer.html",
    log:
        log("viewer", per_cell_job=False),
    benchmark:
        bench("viewer", per_cell_job=False)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        config=sections("study", "viewer", "data", "task_params", "extraction"),
        shown=[[*run.columns.values(), perturb] for run, perturb in VIEWER_SHOWN],
    script:
        "../scripts/viewer.py"

# Claim C4's rewired models (gateroles.analyses.wiring.rewire): each trained lstm / default
# model of a C4 task with its forget and input blocks swapped, fine-tuned, and fine-tuned again
# with the moved blocks frozen (the control); their gates extracted. What C4 measures on them
# is declared in src/gateroles/analyses/wiring/jobs.py.
from gateroles.analyses.wiring.jobs import rewire_cells

REWIRE_CELLS = rewire_cells(GRID)


rule rewire:
    input:
        code=lib("gateroles.analyses.wiring.rewire"),
        checkpoints=per_seed("checkpoints.pt"),
    output:
        checkpoints=per_seed("rewire/checkpoints.pt"),
        train_log=per_seed("rewire/train_log.csv"),
        scores=per_seed("rewire/scores.csv"),
        test=per_seed("rewire/test.json"),
        frozen=per_seed("rewire/frozen.pt"),
        frozen_log=per_seed("rewire/frozen_log.csv"),
    log:
        log("rewire"),
    benchmark:
        bench("rewire")
    wildcard_constraints:
        arch="lstm",
        init="default",
    priority: PRIORITY["rewire"]
    conda:
        ENV
    threads: config["resources"]["train_threads"]
    resources:
        mem_mb=2000,
        runtime=60,
        gpu=1 if config["training"]["device"] == "cuda" else 0,
    params:
        seeds=SEEDS,
        config=sections("data", "task_params", "model", "training", "wiring", "roles"),
    script:
        "../scripts/rewire.py"


rule extract_rewire:
    input:
        code=lib("gateroles.extraction"),
        checkpoints=per_seed("rewire/checkpoints.pt"),
        frozen=per_seed("rewire/frozen.pt"),
    output:
        gates=temp(per_seed("rewire/gates.npz")),
        frozen=temp(per_seed("rewire/frozen_gates.npz")),
    log:
        log("extract_rewire"),
    benchmark:
        bench("extract_rewire")
    wildcard_constraints:
        arch="lstm",
        init="default",
    priority: PRIORITY["extract"]
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        seeds=SEEDS,
        config=sections("data", "task_params", "extraction"),
    script:
        "../scripts/extract_rewire.py"

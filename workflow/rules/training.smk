# Tasks and training (gateroles.training, gateroles.extraction), the shared stages: every seed
# of a grid cell trained in one job, its gates extracted in another, and the runs table (solved
# flags, read by every aggregate). The training curves are an analysis (analyses/training).


rule train:
    input:
        code=lib("gateroles.training"),
    output:
        checkpoints=per_seed("checkpoints.pt"),
        train_log=per_seed("train_log.csv"),
        test=per_seed("test.json"),
    log:
        log("train"),
    benchmark:
        bench("train")
    priority: PRIORITY["train"]
    conda:
        ENV
    threads: config["resources"]["train_threads"]
    resources:
        mem_mb=2000,
        runtime=120,
        # A GPU only when the config insists on CUDA (a SLURM job then gets `--gpus=1`);
        # per-rule memory and time for clusters live in profiles/slurm.
        gpu=1 if config["training"]["device"] == "cuda" else 0,
    params:
        seeds=SEEDS,
        config=sections("data", "task_params", "model", "training"),
    script:
        "../scripts/train.py"


rule extract_gates:
    input:
        code=lib("gateroles.extraction"),
        checkpoints=per_seed("checkpoints.pt"),
    output:
        gates=temp(per_seed("gates.npz")),
    log:
        log("extract_gates"),
    benchmark:
        bench("extract_gates")
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
        logits=lambda w: study.Cell(w.task, w.arch, w.init) in LOGIT_CELLS,
    script:
        "../scripts/extract_gates.py"


rule runs_table:
    input:
        code=lib("gateroles.analyses.training.aggregate"),
        tests=per_run("test.json"),
    output:
        runs="results/tables/runs.csv",
        solved="results/tables/solved_by_task.csv",
    log:
        log("runs_table", per_cell_job=False),
    benchmark:
        bench("runs_table", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        config=sections("analysis"),
    script:
        "../scripts/runs_table.py"

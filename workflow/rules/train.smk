PER_MODEL_RULES += ["train", "extract_gates"]


rule train:
    input:
        lib("tasks", "models", "training", "runs"),
    output:
        checkpoints="results/runs/{task}/{arch}/{init}/seed{seed}/checkpoints.pt",
        train_log="results/runs/{task}/{arch}/{init}/seed{seed}/train_log.csv",
        test="results/runs/{task}/{arch}/{init}/seed{seed}/test.json",
    log:
        log("train"),
    benchmark:
        bench("train")
    params:
        config=sections("data", "task_params", "model", "training"),
    threads: config["resources"]["train_threads"]
    resources:
        mem_mb=2000,
        runtime=60,
        # A GPU only when the config insists on CUDA (a SLURM job then gets `--gpus=1`);
        # per-rule memory and time for clusters live in profiles/slurm.
        gpu=1 if config["training"]["device"] == "cuda" else 0,
    conda:
        ENV
    script:
        "../scripts/train.py"


rule extract_gates:
    input:
        lib("tasks", "models", "gates", "runs", "experiment"),
        checkpoints="results/runs/{task}/{arch}/{init}/seed{seed}/checkpoints.pt",
    output:
        gates="results/runs/{task}/{arch}/{init}/seed{seed}/gates.npz",
        performance="results/runs/{task}/{arch}/{init}/seed{seed}/performance.csv",
    log:
        log("extract_gates"),
    benchmark:
        bench("extract_gates")
    params:
        config=sections("data", "task_params", "extraction"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    script:
        "../scripts/extract_gates.py"

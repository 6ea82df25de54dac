rule train:
    input:
        lib("tasks", "models", "training", "experiment"),
    output:
        checkpoints=RUNS_DIR + "/checkpoints.pt",
        train_log=RUNS_DIR + "/train_log.csv",
        test=RUNS_DIR + "/test.json",
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
    conda:
        ENV
    script:
        "../scripts/train.py"


rule extract_gates:
    input:
        lib("tasks", "models", "gates", "experiment"),
        checkpoints=RUNS_DIR + "/checkpoints.pt",
    output:
        gates=RUNS_DIR + "/gates.npz",
        performance=RUNS_DIR + "/performance.csv",
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

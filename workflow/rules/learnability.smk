# Claim C6, the highway functionally: the longest hold each architecture learns
# (gateroles.analyses.learnability). Its own models: one job per task x architecture x init
# trains every seed at each hold of the task's sweep (config `learnability`), nothing else
# reads them, and they keep no checkpoints. What it writes from them is declared in
# src/gateroles/analyses/learnability/jobs.py.
from gateroles.analyses.learnability import Settings as LearnabilitySettings
from gateroles.analyses.learnability.jobs import sweep_arms

SWEEPS = LearnabilitySettings.from_config(config).sweeps()
SWEEP_BENCHMARKS = [f"results/benchmarks/learnability/{arm}.tsv" for arm in sweep_arms(config)]


rule learnability:
    input:
        code=lib("gateroles.analyses.learnability.measure"),
    output:
        sweep="results/learnability/{sweep}/{arch}/{init}/sweep.csv",
    log:
        "results/logs/learnability/{sweep}/{arch}/{init}.log",
    benchmark:
        "results/benchmarks/learnability/{sweep}/{arch}/{init}.tsv"
    wildcard_constraints:
        sweep="|".join(SWEEPS) or "(?!)",
    conda:
        ENV
    threads: config["resources"]["train_threads"]
    resources:
        mem_mb=2000,
        runtime=240,
    params:
        names=lambda w: SWEEPS[w.sweep],
        seeds=SEEDS,
        config=sections("data", "task_params", "model", "training"),
    script:
        "../scripts/learnability.py"

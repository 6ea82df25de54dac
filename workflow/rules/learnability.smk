# Claim C6, the highway functionally: the longest hold each architecture learns
# (gateroles.analyses.learnability). Its own models: one job per task x architecture x init
# trains every seed at each hold of the task's sweep (config `learnability`), nothing else
# reads them, and they keep no checkpoints. Its predictions (before Holm) join C6's one verdict
# table, results/tables/c6_verdicts.csv (aggregate_gradient_flow: one Holm family per claim),
# which its report section reads too.
from gateroles.analyses.learnability import Settings as LearnabilitySettings

LEARNABILITY = LearnabilitySettings.from_config(config)
SWEEPS = LEARNABILITY.sweeps()
SWEEP_ARMS = [f"{task}/{arch}/{init}" for task in SWEEPS for arch, init in LEARNABILITY.arms()]
SWEEP_FILES = [f"results/learnability/{arm}/sweep.csv" for arm in SWEEP_ARMS]
if SWEEPS:
    REPORT_SECTIONS.append("gateroles.analyses.learnability.section")
    REPORT_TABLES.update(
        learnability_longest="results/tables/learnability_longest.csv",
        learnability_holds="results/tables/learnability_holds.csv",
    )
    REPORT_FIGURES.update(c6_learnability="results/figures/c6_learnability.png")
    FIGURES += figure_outputs("c6_learnability")
    SINGLE_RULES += ["aggregate_learnability", "fig_c6_learnability"]
    OTHER_BENCHMARKS.extend(f"results/benchmarks/learnability/{arm}.tsv" for arm in SWEEP_ARMS)


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


rule aggregate_learnability:
    input:
        code=lib("gateroles.analyses.learnability.aggregate"),
        sweeps=SWEEP_FILES,
    output:
        reach="results/tables/learnability_reach.csv",
        holds="results/tables/learnability_holds.csv",
        longest="results/tables/learnability_longest.csv",
        predictions="results/tables/learnability_predictions.csv",
    log:
        log("aggregate_learnability", per_cell_job=False),
    benchmark:
        bench("aggregate_learnability", per_cell_job=False)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        module="gateroles.analyses.learnability.aggregate",
        config=sections("analysis", "learnability"),
    script:
        "../scripts/aggregate.py"


rule fig_c6_learnability:
    input:
        code=lib("gateroles.analyses.learnability.figures"),
        holds="results/tables/learnability_holds.csv",
    output:
        png=report(
            "results/figures/c6_learnability.png",
            caption=caption("learnability", "c6_learnability"),
            category="C6 gradient highway",
        ),
        pdf="results/figures/c6_learnability.pdf",
    log:
        log("fig_c6_learnability", per_cell_job=False),
    benchmark:
        bench("fig_c6_learnability", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.learnability.figures",
        name="c6_learnability",
        config=sections("learnability"),
    script:
        "../scripts/figure.py"

PER_MODEL_RULES.append("analyse_events")
SINGLE_RULES.append("aggregate")
REPORT_TABLES.update(
    runs="results/tables/runs.csv",
    solved="results/tables/solved_by_task.csv",
    c2="results/tables/c2_verdicts.csv",
    saturation_summary="results/tables/saturation_summary.csv",
)


rule analyse_events:
    input:
        lib("events", "experiment"),
        gates="results/runs/{task}/{arch}/{init}/seed{seed}/gates.npz",
    output:
        contrast="results/runs/{task}/{arch}/{init}/seed{seed}/eta_contrast.csv",
        aligned="results/runs/{task}/{arch}/{init}/seed{seed}/eta_aligned.csv",
        saturation="results/runs/{task}/{arch}/{init}/seed{seed}/saturation.csv",
    log:
        log("analyse_events"),
    benchmark:
        bench("analyse_events")
    params:
        config=sections("analysis"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        ENV
    script:
        "../scripts/analyse_events.py"


rule aggregate:
    input:
        lib("stats", "aggregate"),
        tests=per_run("results/runs/{task}/{arch}/{init}/seed{seed}/test.json"),
        train_logs=per_run("results/runs/{task}/{arch}/{init}/seed{seed}/train_log.csv"),
        performance=per_run("results/runs/{task}/{arch}/{init}/seed{seed}/performance.csv"),
        contrast=per_run("results/runs/{task}/{arch}/{init}/seed{seed}/eta_contrast.csv"),
        aligned=per_run("results/runs/{task}/{arch}/{init}/seed{seed}/eta_aligned.csv"),
        saturation=per_run("results/runs/{task}/{arch}/{init}/seed{seed}/saturation.csv"),
    output:
        runs="results/tables/runs.csv",
        solved="results/tables/solved_by_task.csv",
        training="results/tables/training_curves.csv",
        performance="results/tables/checkpoint_performance.csv",
        contrast="results/tables/eta_contrast.csv",
        aligned="results/tables/eta_aligned.csv",
        saturation="results/tables/saturation.csv",
        saturation_summary="results/tables/saturation_summary.csv",
        c2="results/tables/c2_verdicts.csv",
    log:
        log("aggregate", per_run_job=False),
    benchmark:
        bench("aggregate", per_run_job=False)
    params:
        config=sections("analysis"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ENV
    script:
        "../scripts/aggregate.py"

# Claim C1: linear probes with control tasks from every gate, every checkpoint (step 0 included).
PER_MODEL_RULES.append("probe_gates")
SINGLE_RULES.append("aggregate_probes")
REPORT_TABLES.update(
    c1="results/tables/c1_verdicts.csv",
    c1_ranking="results/tables/c1_ranking.csv",
    c1_controls="results/tables/c1_controls.csv",
)


rule probe_gates:
    input:
        lib("probes", "tasks", "experiment"),
        gates="results/runs/{task}/{arch}/{init}/seed{seed}/gates.npz",
    output:
        probes="results/runs/{task}/{arch}/{init}/seed{seed}/probes.csv",
    log:
        log("probe_gates"),
    benchmark:
        bench("probe_gates")
    params:
        config=sections("data", "task_params", "probes"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    script:
        "../scripts/probe_gates.py"


rule aggregate_probes:
    input:
        lib("stats", "aggregate"),
        runs="results/tables/runs.csv",
        probes=per_run("results/runs/{task}/{arch}/{init}/seed{seed}/probes.csv"),
    output:
        probes="results/tables/probes.csv",
        ranking="results/tables/c1_ranking.csv",
        c1="results/tables/c1_verdicts.csv",
        controls="results/tables/c1_controls.csv",
    log:
        log("aggregate_probes", per_run_job=False),
    benchmark:
        bench("aggregate_probes", per_run_job=False)
    params:
        config=sections("analysis"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ENV
    script:
        "../scripts/aggregate_probes.py"


# C1 figures (one rule each); registered with the `figures` target and the report.
C1_FIGURES = ["c1_selectivity_heatmap", "c1_emergence", "c1_task_vs_control"]
FIGURES += expand("results/figures/{name}.{ext}", name=C1_FIGURES, ext=["png", "pdf"])
SINGLE_RULES += [f"fig_{name}" for name in C1_FIGURES]
REPORT_FIGURES.update({name: f"results/figures/{name}.png" for name in C1_FIGURES})


rule fig_c1_selectivity_heatmap:
    input:
        lib("plots"),
        probes="results/tables/probes.csv",
    output:
        png=report("results/figures/c1_selectivity_heatmap.png",
                   caption="../report/c1_selectivity_heatmap.rst", category="C1 probes"),
        pdf="results/figures/c1_selectivity_heatmap.pdf",
    log:
        log("fig_c1_selectivity_heatmap", per_run_job=False),
    benchmark:
        bench("fig_c1_selectivity_heatmap", per_run_job=False)
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_c1_selectivity_heatmap.py"


rule fig_c1_emergence:
    input:
        lib("plots", "aggregate", "events"),
        probes="results/tables/probes.csv",
    output:
        png=report("results/figures/c1_emergence.png",
                   caption="../report/c1_emergence.rst", category="C1 probes"),
        pdf="results/figures/c1_emergence.pdf",
    log:
        log("fig_c1_emergence", per_run_job=False),
    benchmark:
        bench("fig_c1_emergence", per_run_job=False)
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_c1_emergence.py"


rule fig_c1_task_vs_control:
    input:
        lib("plots"),
        probes="results/tables/probes.csv",
    output:
        png=report("results/figures/c1_task_vs_control.png",
                   caption="../report/c1_task_vs_control.rst", category="C1 probes"),
        pdf="results/figures/c1_task_vs_control.pdf",
    log:
        log("fig_c1_task_vs_control", per_run_job=False),
    benchmark:
        bench("fig_c1_task_vs_control", per_run_job=False)
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_c1_task_vs_control.py"

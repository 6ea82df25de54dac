# Claim C5: mutual information between gates, unit x variable MI and disentanglement metrics
# per model and checkpoint (step 0 included); the verdict across seeds; its figures.
PER_MODEL_RULES.append("information")
SINGLE_RULES.append("aggregate_information")
REPORT_TABLES.update(
    c5="results/tables/c5_verdicts.csv",
    c5_dependence="results/tables/c5_dependence.csv",
    c5_scores="results/tables/c5_disentanglement.csv",
)


rule information:
    input:
        lib("information", "disentanglement", "gate_information", "experiment", "tasks"),
        gates="results/runs/{task}/{arch}/{init}/seed{seed}/gates.npz",
    output:
        gate_mi="results/runs/{task}/{arch}/{init}/seed{seed}/gate_mi.csv",
        unit_factor="results/runs/{task}/{arch}/{init}/seed{seed}/unit_factor_mi.csv",
        disentanglement="results/runs/{task}/{arch}/{init}/seed{seed}/disentanglement.csv",
    log:
        log("information"),
    benchmark:
        bench("information")
    params:
        config=sections("data", "task_params", "information"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    script:
        "../scripts/information.py"


rule aggregate_information:
    input:
        lib("stats", "aggregate"),
        runs="results/tables/runs.csv",
        gate_mi=per_run("results/runs/{task}/{arch}/{init}/seed{seed}/gate_mi.csv"),
        unit_factor=per_run("results/runs/{task}/{arch}/{init}/seed{seed}/unit_factor_mi.csv"),
        disentanglement=per_run(
            "results/runs/{task}/{arch}/{init}/seed{seed}/disentanglement.csv"),
    output:
        gate_mi="results/tables/gate_mi.csv",
        unit_factor="results/tables/unit_factor_mi.csv",
        disentanglement="results/tables/disentanglement.csv",
        dependence="results/tables/c5_dependence.csv",
        disent_change="results/tables/c5_disentanglement.csv",
        c5="results/tables/c5_verdicts.csv",
    log:
        log("aggregate_information", per_run_job=False),
    benchmark:
        bench("aggregate_information", per_run_job=False)
    params:
        config=sections("analysis", "information"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ENV
    script:
        "../scripts/aggregate_information.py"


# C5 figures (one rule each); registered with the `figures` target and the report.
C5_FIGURES = ["c5_gate_mi", "c5_disentanglement", "c5_unit_factor_mi"]
FIGURES += expand("results/figures/{name}.{ext}", name=C5_FIGURES, ext=["png", "pdf"])
SINGLE_RULES += [f"fig_{name}" for name in C5_FIGURES]
REPORT_FIGURES.update({name: f"results/figures/{name}.png" for name in C5_FIGURES})


rule fig_c5_gate_mi:
    input:
        lib("plots"),
        gate_mi="results/tables/gate_mi.csv",
    output:
        png=report("results/figures/c5_gate_mi.png",
                   caption="../report/c5_gate_mi.rst", category="C5 disentanglement"),
        pdf="results/figures/c5_gate_mi.pdf",
    log:
        log("fig_c5_gate_mi", per_run_job=False),
    benchmark:
        bench("fig_c5_gate_mi", per_run_job=False)
    params:
        config=sections("information"),
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_c5_gate_mi.py"


rule fig_c5_disentanglement:
    input:
        lib("plots"),
        disentanglement="results/tables/disentanglement.csv",
    output:
        png=report("results/figures/c5_disentanglement.png",
                   caption="../report/c5_disentanglement.rst", category="C5 disentanglement"),
        pdf="results/figures/c5_disentanglement.pdf",
    log:
        log("fig_c5_disentanglement", per_run_job=False),
    benchmark:
        bench("fig_c5_disentanglement", per_run_job=False)
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_c5_disentanglement.py"


rule fig_c5_unit_factor_mi:
    input:
        lib("plots"),
        unit_factor="results/tables/unit_factor_mi.csv",
    output:
        png=report("results/figures/c5_unit_factor_mi.png",
                   caption="../report/c5_unit_factor_mi.rst", category="C5 disentanglement"),
        pdf="results/figures/c5_unit_factor_mi.pdf",
    log:
        log("fig_c5_unit_factor_mi", per_run_job=False),
    benchmark:
        bench("fig_c5_unit_factor_mi", per_run_job=False)
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_c5_unit_factor_mi.py"

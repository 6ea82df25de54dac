# Claim C6, the cell state as a gradient highway (gateroles.analyses.gradient_flow).
REPORT_SECTIONS.append("gateroles.analyses.gradient_flow.section")
REPORT_TABLES.update(
    c6="results/tables/c6_verdicts.csv",
    c6_efold="results/tables/c6_efold.csv",
    c6_intervals="results/tables/c6_intervals.csv",
)
C6_FIGURES = ["c6_interval_gradients", "c6_gradient_by_lag", "c6_gradient_paths"]
REPORT_FIGURES.update({name: f"results/figures/{name}.png" for name in C6_FIGURES})
FIGURES += [f for name in C6_FIGURES for f in figure_outputs(name)]
# The main grid (wiring.all_analyses: all) and, where the grid trains them, the architectures
# C6 reads beyond it (gradient_flow.EXTRA_ARCHS): the tanh RNN (P3), lstm_nfg (f = 1, shown)
# and the highway's negative controls lstm_ffg / gru_fug (config `controls`). Not
# TESTED_CELLS: the other control architectures (lstm_nig, lstm_nog) test no C6 prediction.
from gateroles.analyses.gradient_flow import EXTRA_ARCHS

GRADIENT_CELLS = list(dict.fromkeys(ANALYSIS_CELLS + [c for c in CELLS if c.arch in EXTRA_ARCHS]))
RULE_CELLS["gradient_flow"] = GRADIENT_CELLS
SINGLE_RULES += ["aggregate_gradient_flow"] + [f"fig_{name}" for name in C6_FIGURES]


# Claim C6's rows from the learnability sweep (learnability.smk), where the config runs one:
# C6 is one Holm family, so its one verdict table is adjusted here over both.
C6_OTHER_ROWS = (
    {"learnability": ["results/tables/learnability_predictions.csv"]}
    if config["learnability"]["tasks"]
    else {}
)


rule gradient_flow:
    input:
        code=lib("gateroles.analyses.gradient_flow.measure"),
        gates=per_seed("gates.npz"),
        checkpoints=per_seed("checkpoints.pt"),
    output:
        by_lag=cell_table("gradient_flow", "by_lag"),
        efold=cell_table("gradient_flow", "efold"),
        interval_lag=cell_table("gradient_flow", "interval_lag"),
        interval_store=cell_table("gradient_flow", "interval_store"),
    log:
        log("gradient_flow"),
    benchmark:
        bench("gradient_flow")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        module="gateroles.analyses.gradient_flow.measure",
        seeds=SEEDS,
        config=sections("gradient_flow", "roles"),
    script:
        "../scripts/measure.py"


rule aggregate_gradient_flow:
    input:
        unpack(lambda wildcards: C6_OTHER_ROWS),
        code=lib("gateroles.analyses.gradient_flow.aggregate"),
        runs="results/tables/runs.csv",
        by_lag=per_cell(cell_table("gradient_flow", "by_lag"), GRADIENT_CELLS),
        efold=per_cell(cell_table("gradient_flow", "efold"), GRADIENT_CELLS),
        interval_lag=per_cell(cell_table("gradient_flow", "interval_lag"), GRADIENT_CELLS),
        interval_store=per_cell(cell_table("gradient_flow", "interval_store"), GRADIENT_CELLS),
    output:
        by_lag="results/tables/gradient_by_lag.csv",
        efold="results/tables/gradient_efold.csv",
        summary="results/tables/c6_efold.csv",
        interval_lag="results/tables/gradient_interval_lag.csv",
        interval_store="results/tables/gradient_interval_store.csv",
        intervals="results/tables/c6_intervals.csv",
        c6="results/tables/c6_verdicts.csv",
    log:
        log("aggregate_gradient_flow", per_cell_job=False),
    benchmark:
        bench("aggregate_gradient_flow", per_cell_job=False)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        module="gateroles.analyses.gradient_flow.aggregate",
        config=sections("analysis", "gradient_flow", "roles"),
    script:
        "../scripts/aggregate.py"


rule fig_c6_gradient_by_lag:
    input:
        code=lib("gateroles.analyses.gradient_flow.figures"),
        by_lag="results/tables/gradient_by_lag.csv",
    output:
        png=report(
            "results/figures/c6_gradient_by_lag.png",
            caption=caption("gradient_flow", "c6_gradient_by_lag"),
            category="C6 gradient highway",
        ),
        pdf="results/figures/c6_gradient_by_lag.pdf",
    log:
        log("fig_c6_gradient_by_lag", per_cell_job=False),
    benchmark:
        bench("fig_c6_gradient_by_lag", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.gradient_flow.figures",
        name="c6_gradient_by_lag",
        config=sections("gradient_flow", "roles"),
    script:
        "../scripts/figure.py"


rule fig_c6_gradient_paths:
    input:
        code=lib("gateroles.analyses.gradient_flow.figures"),
        by_lag="results/tables/gradient_by_lag.csv",
    output:
        png=report(
            "results/figures/c6_gradient_paths.png",
            caption=caption("gradient_flow", "c6_gradient_paths"),
            category="C6 gradient highway",
        ),
        pdf="results/figures/c6_gradient_paths.pdf",
    log:
        log("fig_c6_gradient_paths", per_cell_job=False),
    benchmark:
        bench("fig_c6_gradient_paths", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.gradient_flow.figures",
        name="c6_gradient_paths",
        config=sections("gradient_flow", "roles"),
    script:
        "../scripts/figure.py"


rule fig_c6_interval_gradients:
    input:
        code=lib("gateroles.analyses.gradient_flow.figures"),
        interval_lag="results/tables/gradient_interval_lag.csv",
    output:
        png=report(
            "results/figures/c6_interval_gradients.png",
            caption=caption("gradient_flow", "c6_interval_gradients"),
            category="C6 gradient highway",
        ),
        pdf="results/figures/c6_interval_gradients.pdf",
    log:
        log("fig_c6_interval_gradients", per_cell_job=False),
    benchmark:
        bench("fig_c6_interval_gradients", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.gradient_flow.figures",
        name="c6_interval_gradients",
        config=sections("gradient_flow", "roles"),
    script:
        "../scripts/figure.py"

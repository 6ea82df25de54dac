# Claim C1, first line of evidence: decodability by linear probes with control tasks
# (gateroles.analyses.decodability).
REPORT_SECTIONS.append("gateroles.analyses.decodability.section")
REPORT_TABLES.update(
    c1="results/tables/c1_verdicts.csv",
    c1_ranking="results/tables/c1_ranking.csv",
    c1_controls="results/tables/c1_controls.csv",
    probes="results/tables/probes.csv",
)
DECODABILITY_FIGURES = ["c1_selectivity_heatmap", "c1_emergence", "c1_task_vs_control"]
REPORT_FIGURES.update({name: f"results/figures/{name}.png" for name in DECODABILITY_FIGURES})
FIGURES += [f for name in DECODABILITY_FIGURES for f in figure_outputs(name)]
RULE_CELLS["decodability"] = ANALYSIS_CELLS  # main grid (wiring.all_analyses: all)
SINGLE_RULES += ["aggregate_decodability"] + [f"fig_{name}" for name in DECODABILITY_FIGURES]


rule decodability:
    input:
        code=lib("gateroles.analyses.decodability.measure"),
        gates=per_seed("gates.npz"),
    output:
        probes=cell_table("decodability", "probes"),
    log:
        log("decodability"),
    benchmark:
        bench("decodability")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        module="gateroles.analyses.decodability.measure",
        seeds=SEEDS,
        config=sections("decodability"),
    script:
        "../scripts/measure.py"


rule aggregate_decodability:
    input:
        code=lib("gateroles.analyses.decodability.aggregate"),
        runs="results/tables/runs.csv",
        probes=per_cell(cell_table("decodability", "probes"), ANALYSIS_CELLS),
    output:
        probes="results/tables/probes.csv",
        ranking="results/tables/c1_ranking.csv",
        c1="results/tables/c1_verdicts.csv",
        controls="results/tables/c1_controls.csv",
    log:
        log("aggregate_decodability", per_cell_job=False),
    benchmark:
        bench("aggregate_decodability", per_cell_job=False)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        module="gateroles.analyses.decodability.aggregate",
        config=sections("analysis", "decodability"),
    script:
        "../scripts/aggregate.py"


rule fig_c1_selectivity_heatmap:
    input:
        code=lib("gateroles.analyses.decodability.figures"),
        probes="results/tables/probes.csv",
    output:
        png=report(
            "results/figures/c1_selectivity_heatmap.png",
            caption=caption("decodability", "c1_selectivity_heatmap"),
            category="C1 probes",
        ),
        pdf="results/figures/c1_selectivity_heatmap.pdf",
    log:
        log("fig_c1_selectivity_heatmap", per_cell_job=False),
    benchmark:
        bench("fig_c1_selectivity_heatmap", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.decodability.figures",
        name="c1_selectivity_heatmap",
        config=sections("decodability"),
    script:
        "../scripts/figure.py"


rule fig_c1_emergence:
    input:
        code=lib("gateroles.analyses.decodability.figures"),
        probes="results/tables/probes.csv",
    output:
        png=report(
            "results/figures/c1_emergence.png",
            caption=caption("decodability", "c1_emergence"),
            category="C1 probes",
        ),
        pdf="results/figures/c1_emergence.pdf",
    log:
        log("fig_c1_emergence", per_cell_job=False),
    benchmark:
        bench("fig_c1_emergence", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.decodability.figures",
        name="c1_emergence",
        config=sections("decodability"),
    script:
        "../scripts/figure.py"


rule fig_c1_task_vs_control:
    input:
        code=lib("gateroles.analyses.decodability.figures"),
        probes="results/tables/probes.csv",
    output:
        png=report(
            "results/figures/c1_task_vs_control.png",
            caption=caption("decodability", "c1_task_vs_control"),
            category="C1 probes",
        ),
        pdf="results/figures/c1_task_vs_control.pdf",
    log:
        log("fig_c1_task_vs_control", per_cell_job=False),
    benchmark:
        bench("fig_c1_task_vs_control", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.decodability.figures",
        name="c1_task_vs_control",
        config=sections("decodability"),
    script:
        "../scripts/figure.py"

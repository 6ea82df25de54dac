# Claim C3, causal roles (gateroles.analyses.causal): matched interchanges at events and unit
# ablation (primary; on the analysis cells at step 0 and trained, on the negative controls'
# cells trained only), role-off clamps and weight-block swaps (sanity; analysis cells only).
REPORT_SECTIONS.append("gateroles.analyses.causal.section")
REPORT_TABLES.update(
    c3="results/tables/c3_verdicts.csv",
    causal_ablation="results/tables/causal_ablation.csv",
    causal_swaps="results/tables/causal_swaps.csv",
)
REPORT_FIGURES.update(
    causal_matrix="results/figures/causal_matrix.png",
    causal_null="results/figures/causal_null.png",
)
FIGURES += figure_outputs("causal_matrix") + figure_outputs("causal_null")
# The analysis cells (main grid; wiring.all_analyses: all) and the negative controls' cells.
RULE_CELLS["causal"] = TESTED_CELLS
SINGLE_RULES += ["aggregate_causal", "fig_causal_matrix", "fig_causal_null"]


rule causal:
    input:
        code=lib("gateroles.analyses.causal.measure"),
        gates=per_seed("gates.npz"),
        checkpoints=per_seed("checkpoints.pt"),
    output:
        matrix=cell_table("causal", "matrix"),
        ablation=cell_table("causal", "ablation"),
        ablation_null=cell_table("causal", "ablation_null"),
        swaps=cell_table("causal", "swaps"),
    log:
        log("causal"),
    benchmark:
        bench("causal")
    priority: PRIORITY["read_gates"]
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        module="gateroles.analyses.causal.measure",
        seeds=SEEDS,
        # a cell that is only a negative control runs the primary measures, trained only
        config=lambda w: {
            **sections("causal"),
            "control_only": study.Cell(w.task, w.arch, w.init) not in ANALYSIS_CELLS,
        },
    script:
        "../scripts/measure.py"


rule aggregate_causal:
    input:
        code=lib("gateroles.analyses.causal.aggregate"),
        runs="results/tables/runs.csv",
        matrix=per_cell(cell_table("causal", "matrix"), TESTED_CELLS),
        ablation=per_cell(cell_table("causal", "ablation"), TESTED_CELLS),
        ablation_null=per_cell(cell_table("causal", "ablation_null"), TESTED_CELLS),
        swaps=per_cell(cell_table("causal", "swaps"), TESTED_CELLS),
    output:
        c3="results/tables/c3_verdicts.csv",
        matrix="results/tables/causal_matrix.csv",
        ablation="results/tables/causal_ablation.csv",
        ablation_models="results/tables/causal_ablation_models.csv",
        ablation_null="results/tables/causal_ablation_null.csv",
        swaps="results/tables/causal_swaps.csv",
    log:
        log("aggregate_causal", per_cell_job=False),
    benchmark:
        bench("aggregate_causal", per_cell_job=False)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        module="gateroles.analyses.causal.aggregate",
        config=sections("analysis", "causal"),
    script:
        "../scripts/aggregate.py"


rule fig_causal_matrix:
    input:
        code=lib("gateroles.analyses.causal.figures"),
        matrix="results/tables/causal_matrix.csv",
    output:
        png=report(
            "results/figures/causal_matrix.png",
            caption=caption("causal", "causal_matrix"),
            category="C3 causal roles",
        ),
        pdf="results/figures/causal_matrix.pdf",
    log:
        log("fig_causal_matrix", per_cell_job=False),
    benchmark:
        bench("fig_causal_matrix", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.causal.figures",
        name="causal_matrix",
        config=sections("causal"),
    script:
        "../scripts/figure.py"


rule fig_causal_null:
    input:
        code=lib("gateroles.analyses.causal.figures"),
        ablation_models="results/tables/causal_ablation_models.csv",
        ablation_null="results/tables/causal_ablation_null.csv",
    output:
        png=report(
            "results/figures/causal_null.png",
            caption=caption("causal", "causal_null"),
            category="C3 causal roles",
        ),
        pdf="results/figures/causal_null.pdf",
    log:
        log("fig_causal_null", per_cell_job=False),
    benchmark:
        bench("fig_causal_null", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.causal.figures",
        name="causal_null",
        config=sections("causal"),
    script:
        "../scripts/figure.py"

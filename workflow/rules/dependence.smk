# Claim C5, dependence between gates and disentanglement (gateroles.analyses.dependence).
REPORT_SECTIONS.append("gateroles.analyses.dependence.section")
REPORT_TABLES.update(
    c5="results/tables/c5_verdicts.csv",
    c5_dependence="results/tables/c5_dependence.csv",
    c5_scores="results/tables/c5_disentanglement.csv",
)
DEPENDENCE_FIGURES = ["c5_gate_mi", "c5_disentanglement", "c5_unit_factor_mi"]
REPORT_FIGURES.update({name: f"results/figures/{name}.png" for name in DEPENDENCE_FIGURES})
FIGURES += [f for name in DEPENDENCE_FIGURES for f in figure_outputs(name)]
RULE_CELLS["dependence"] = ANALYSIS_CELLS  # main grid (wiring.all_analyses: all)
LOGIT_CELLS.update(ANALYSIS_CELLS)  # MI on the logits
SINGLE_RULES += ["aggregate_dependence"] + [f"fig_{name}" for name in DEPENDENCE_FIGURES]


rule dependence:
    input:
        code=lib("gateroles.analyses.dependence.measure"),
        gates=per_seed("gates.npz"),
    output:
        gate_mi=cell_table("dependence", "gate_mi"),
        unit_factor=cell_table("dependence", "unit_factor"),
        disentanglement=cell_table("dependence", "disentanglement"),
    log:
        log("dependence"),
    benchmark:
        bench("dependence")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        module="gateroles.analyses.dependence.measure",
        seeds=SEEDS,
        config=sections("dependence"),
    script:
        "../scripts/measure.py"


rule aggregate_dependence:
    input:
        code=lib("gateroles.analyses.dependence.aggregate"),
        runs="results/tables/runs.csv",
        gate_mi=per_cell(cell_table("dependence", "gate_mi"), ANALYSIS_CELLS),
        unit_factor=per_cell(cell_table("dependence", "unit_factor"), ANALYSIS_CELLS),
        disentanglement=per_cell(cell_table("dependence", "disentanglement"), ANALYSIS_CELLS),
    output:
        gate_mi="results/tables/gate_mi.csv",
        unit_factor="results/tables/unit_factor_mi.csv",
        disentanglement="results/tables/disentanglement.csv",
        dependence="results/tables/c5_dependence.csv",
        disent_change="results/tables/c5_disentanglement.csv",
        c5="results/tables/c5_verdicts.csv",
    log:
        log("aggregate_dependence", per_cell_job=False),
    benchmark:
        bench("aggregate_dependence", per_cell_job=False)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        module="gateroles.analyses.dependence.aggregate",
        config=sections("analysis", "dependence"),
    script:
        "../scripts/aggregate.py"


rule fig_c5_gate_mi:
    input:
        code=lib("gateroles.analyses.dependence.figures"),
        table="results/tables/gate_mi.csv",
    output:
        png=report(
            "results/figures/c5_gate_mi.png",
            caption=caption("dependence", "c5_gate_mi"),
            category="C5 disentanglement",
        ),
        pdf="results/figures/c5_gate_mi.pdf",
    log:
        log("fig_c5_gate_mi", per_cell_job=False),
    benchmark:
        bench("fig_c5_gate_mi", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.dependence.figures",
        name="c5_gate_mi",
        config=sections("dependence"),
    script:
        "../scripts/figure.py"


rule fig_c5_disentanglement:
    input:
        code=lib("gateroles.analyses.dependence.figures"),
        table="results/tables/disentanglement.csv",
    output:
        png=report(
            "results/figures/c5_disentanglement.png",
            caption=caption("dependence", "c5_disentanglement"),
            category="C5 disentanglement",
        ),
        pdf="results/figures/c5_disentanglement.pdf",
    log:
        log("fig_c5_disentanglement", per_cell_job=False),
    benchmark:
        bench("fig_c5_disentanglement", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.dependence.figures",
        name="c5_disentanglement",
        config=sections("dependence"),
    script:
        "../scripts/figure.py"


rule fig_c5_unit_factor_mi:
    input:
        code=lib("gateroles.analyses.dependence.figures"),
        table="results/tables/unit_factor_mi.csv",
    output:
        png=report(
            "results/figures/c5_unit_factor_mi.png",
            caption=caption("dependence", "c5_unit_factor_mi"),
            category="C5 disentanglement",
        ),
        pdf="results/figures/c5_unit_factor_mi.pdf",
    log:
        log("fig_c5_unit_factor_mi", per_cell_job=False),
    benchmark:
        bench("fig_c5_unit_factor_mi", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.dependence.figures",
        name="c5_unit_factor_mi",
        config=sections("dependence"),
    script:
        "../scripts/figure.py"

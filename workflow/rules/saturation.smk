# Gate saturation per unit (gateroles.analyses.saturation).
REPORT_SECTIONS.append("gateroles.analyses.saturation.section")
REPORT_TABLES.update(saturation_summary="results/tables/saturation_summary.csv")
REPORT_FIGURES.update(saturation="results/figures/saturation.png")
FIGURES += figure_outputs("saturation")
RULE_CELLS["saturation"] = ANALYSIS_CELLS  # main grid (wiring.all_analyses: all)
SINGLE_RULES += ["aggregate_saturation", "fig_saturation"]


rule saturation:
    input:
        code=lib("gateroles.analyses.saturation.measure"),
        gates=per_seed("gates.npz"),
    output:
        saturation=cell_table("saturation", "saturation"),
    log:
        log("saturation"),
    benchmark:
        bench("saturation")
    priority: PRIORITY["read_gates"]
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        module="gateroles.analyses.saturation.measure",
        seeds=SEEDS,
        config=sections("saturation"),
    script:
        "../scripts/measure.py"


rule aggregate_saturation:
    input:
        code=lib("gateroles.analyses.saturation.aggregate"),
        runs="results/tables/runs.csv",
        saturation=per_cell(cell_table("saturation", "saturation"), ANALYSIS_CELLS),
    output:
        saturation="results/tables/saturation.csv",
        summary="results/tables/saturation_summary.csv",
    log:
        log("aggregate_saturation", per_cell_job=False),
    benchmark:
        bench("aggregate_saturation", per_cell_job=False)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        module="gateroles.analyses.saturation.aggregate",
        config=sections("analysis", "saturation"),
    script:
        "../scripts/aggregate.py"


rule fig_saturation:
    input:
        code=lib("gateroles.analyses.saturation.figures"),
        saturation="results/tables/saturation.csv",
    output:
        png=report(
            "results/figures/saturation.png",
            caption=caption("saturation", "saturation"),
            category="Saturation",
        ),
        pdf="results/figures/saturation.pdf",
    log:
        log("fig_saturation", per_cell_job=False),
    benchmark:
        bench("fig_saturation", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.saturation.figures",
        name="saturation",
        config=sections("saturation"),
    script:
        "../scripts/figure.py"

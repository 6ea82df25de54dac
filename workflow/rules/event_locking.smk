# Claim C2, event-locked gate dynamics (gateroles.analyses.event_locking).
REPORT_SECTIONS.append("gateroles.analyses.event_locking.section")
REPORT_TABLES.update(c2="results/tables/c2_verdicts.csv")
REPORT_FIGURES.update(event_averages="results/figures/event_averages.png")
FIGURES += figure_outputs("event_averages")
RULE_CELLS["event_locking"] = TESTED_CELLS  # main grid (wiring.all_analyses: all), controls
SINGLE_RULES += ["aggregate_event_locking", "fig_event_averages"]


rule event_locking:
    input:
        code=lib("gateroles.analyses.event_locking.measure"),
        gates=per_seed("gates.npz"),
    output:
        contrast=cell_table("event_locking", "contrast"),
        aligned=cell_table("event_locking", "aligned"),
        units=cell_table("event_locking", "units"),
    log:
        log("event_locking"),
    benchmark:
        bench("event_locking")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        module="gateroles.analyses.event_locking.measure",
        seeds=SEEDS,
        config=sections("event_locking"),
    script:
        "../scripts/measure.py"


rule aggregate_event_locking:
    input:
        unpack(control_inputs("event_locking", "contrast", "units")),
        code=lib("gateroles.analyses.event_locking.aggregate"),
        runs="results/tables/runs.csv",
        contrast=per_cell(cell_table("event_locking", "contrast"), ANALYSIS_CELLS),
        aligned=per_cell(cell_table("event_locking", "aligned"), ANALYSIS_CELLS),
        units=per_cell(cell_table("event_locking", "units"), ANALYSIS_CELLS),
    output:
        contrast="results/tables/eta_contrast.csv",
        aligned="results/tables/eta_aligned.csv",
        units="results/tables/eta_units.csv",
        c2="results/tables/c2_verdicts.csv",
    log:
        log("aggregate_event_locking", per_cell_job=False),
    benchmark:
        bench("aggregate_event_locking", per_cell_job=False)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        module="gateroles.analyses.event_locking.aggregate",
        config=sections("analysis", "event_locking"),
    script:
        "../scripts/aggregate.py"


rule fig_event_averages:
    input:
        code=lib("gateroles.analyses.event_locking.figures"),
        aligned="results/tables/eta_aligned.csv",
    output:
        png=report(
            "results/figures/event_averages.png",
            caption=caption("event_locking", "event_averages"),
            category="C2 event-locked dynamics",
        ),
        pdf="results/figures/event_averages.pdf",
    log:
        log("fig_event_averages", per_cell_job=False),
    benchmark:
        bench("fig_event_averages", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.event_locking.figures",
        name="event_averages",
        config=sections("event_locking"),
    script:
        "../scripts/figure.py"

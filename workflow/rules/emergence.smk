# Claim C7, how a gate becomes its role (gateroles.analyses.emergence): the push each gate
# receives at its events (a backward pass per checkpoint on the analysis cells, step 0 on the
# negative controls) and over the replayed first steps of training.
REPORT_SECTIONS.append("gateroles.analyses.emergence.section")
REPORT_TABLES.update(
    c7="results/tables/c7_verdicts.csv",
    c7_controls="results/tables/c7_controls.csv",
    c7_replay="results/tables/c7_replay.csv",
    c7_by_step="results/tables/c7_by_step.csv",
)
REPORT_FIGURES.update(c7_mechanism="results/figures/c7_mechanism.png")
FIGURES += figure_outputs("c7_mechanism")
# The analysis cells, the swapped initial blocks where the grid trains them (wiring
# two_positions: a sanity check), and the negative controls' cells.
EMERGENCE_CELLS = list(
    dict.fromkeys(ANALYSIS_CELLS + [c for c in CELLS if c.init == "swap_forget_input"])
)
RULE_CELLS["emergence"] = list(dict.fromkeys(EMERGENCE_CELLS + CONTROL_CELLS))
SINGLE_RULES += ["aggregate_emergence", "fig_c7_mechanism"]
EMERGENCE_TABLES = ("push", "updates", "units", "outcome", "replay")


rule emergence:
    input:
        code=lib("gateroles.analyses.emergence.measure"),
        gates=per_seed("gates.npz"),
        checkpoints=per_seed("checkpoints.pt"),
    output:
        push=cell_table("emergence", "push"),
        updates=cell_table("emergence", "updates"),
        units=cell_table("emergence", "units"),
        outcome=cell_table("emergence", "outcome"),
        replay=cell_table("emergence", "replay"),
    log:
        log("emergence"),
    benchmark:
        bench("emergence")
    priority: PRIORITY["read_gates"]
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        module="gateroles.analyses.emergence.measure",
        seeds=SEEDS,
        # a cell that is only a negative control: the push at step 0 and at the end of the
        # replayed window only (and the replay)
        config=lambda w: {
            **sections("emergence", "roles", "data", "task_params", "training", "model"),
            "every_checkpoint": study.Cell(w.task, w.arch, w.init) in EMERGENCE_CELLS,
        },
    script:
        "../scripts/measure.py"


rule aggregate_emergence:
    input:
        unpack(control_inputs("emergence", "push", "updates", "replay")),
        code=lib("gateroles.analyses.emergence.aggregate"),
        runs="results/tables/runs.csv",
        push=per_cell(cell_table("emergence", "push"), EMERGENCE_CELLS),
        updates=per_cell(cell_table("emergence", "updates"), EMERGENCE_CELLS),
        units=per_cell(cell_table("emergence", "units"), EMERGENCE_CELLS),
        outcome=per_cell(cell_table("emergence", "outcome"), EMERGENCE_CELLS),
        replay=per_cell(cell_table("emergence", "replay"), EMERGENCE_CELLS),
    output:
        push="results/tables/c7_push.csv",
        updates="results/tables/c7_updates.csv",
        units="results/tables/c7_units.csv",
        fate="results/tables/c7_fate.csv",
        replay="results/tables/c7_replay.csv",
        controls="results/tables/c7_controls.csv",
        holds="results/tables/c7_holds.csv",
        by_step="results/tables/c7_by_step.csv",
        c7="results/tables/c7_verdicts.csv",
    log:
        log("aggregate_emergence", per_cell_job=False),
    benchmark:
        bench("aggregate_emergence", per_cell_job=False)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        module="gateroles.analyses.emergence.aggregate",
        config=sections("analysis", "emergence", "roles"),
    script:
        "../scripts/aggregate.py"


rule fig_c7_mechanism:
    input:
        code=lib("gateroles.analyses.emergence.figures"),
        push="results/tables/c7_push.csv",
        updates="results/tables/c7_updates.csv",
    output:
        png=report(
            "results/figures/c7_mechanism.png",
            caption=caption("emergence", "c7_mechanism"),
            category="C7 how roles are written",
        ),
        pdf="results/figures/c7_mechanism.pdf",
    log:
        log("fig_c7_mechanism", per_cell_job=False),
    benchmark:
        bench("fig_c7_mechanism", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.emergence.figures",
        name="c7_mechanism",
        config=sections("emergence", "roles"),
    script:
        "../scripts/figure.py"

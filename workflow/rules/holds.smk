# Claim C8, where the memory lives and how strong the keep gate's role at resets is, by hold
# length (gateroles.analyses.holds).
from gateroles import tasks as task_registry

REPORT_SECTIONS.append("gateroles.analyses.holds.section")
REPORT_TABLES.update(
    c8="results/tables/c8_verdicts.csv", holds_by_hold="results/tables/holds_by_hold.csv"
)
HOLDS_FIGURES = ["holds_memory", "holds_roles"]
REPORT_FIGURES.update({name: f"results/figures/{name}.png" for name in HOLDS_FIGURES})
FIGURES += [f for name in HOLDS_FIGURES for f in figure_outputs(name)]


# Where the memory lives: every cell C6 measures whose task has store-to-query intervals (STORE
# and QUERY events; the gradient at the store comes from gradient_flow's tables of the same
# cells). The role trends: the hold tasks' analysis cells and negative controls, from roles'
# and causal's tables.
MEMORY_CELLS = [c for c in GRADIENT_CELLS if not task_registry.get(c.task).lacks("holds")]
HOLD_CELLS = [c for c in ANALYSIS_CELLS if task_registry.get(c.task).has_hold]
HOLD_CONTROL_CELLS = [c for c in CONTROL_CELLS if task_registry.get(c.task).has_hold]
RULE_CELLS["holds"] = MEMORY_CELLS
SINGLE_RULES += ["aggregate_holds"] + [f"fig_{name}" for name in HOLDS_FIGURES]
# The aggregate's per-cell tables (a table with no cell is left out).
HOLDS_TABLES = {
    name: files
    for name, files in {
        "keep": per_cell(cell_table("holds", "keep"), MEMORY_CELLS),
        "interval_store": per_cell(cell_table("gradient_flow", "interval_store"), MEMORY_CELLS),
        "shares": per_cell(cell_table("roles", "shares"), HOLD_CELLS),
        "context": per_cell(cell_table("roles", "context"), HOLD_CELLS),
        "matrix": per_cell(cell_table("causal", "matrix"), HOLD_CELLS),
        "control_shares": per_cell(cell_table("roles", "shares"), HOLD_CONTROL_CELLS),
        "control_context": per_cell(cell_table("roles", "context"), HOLD_CONTROL_CELLS),
        "control_matrix": per_cell(cell_table("causal", "matrix"), HOLD_CONTROL_CELLS),
    }.items()
    if files
}


rule holds:
    input:
        code=lib("gateroles.analyses.holds.measure"),
        gates=per_seed("gates.npz"),
    output:
        keep=cell_table("holds", "keep"),
    log:
        log("holds"),
    benchmark:
        bench("holds")
    priority: PRIORITY["read_gates"]
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        module="gateroles.analyses.holds.measure",
        seeds=SEEDS,
        config=sections("holds", "roles"),
    script:
        "../scripts/measure.py"


rule aggregate_holds:
    input:
        unpack(lambda wildcards: HOLDS_TABLES),
        code=lib("gateroles.analyses.holds.aggregate"),
        runs="results/tables/runs.csv",
    output:
        values="results/tables/holds_values.csv",
        by_hold="results/tables/holds_by_hold.csv",
        c8="results/tables/c8_verdicts.csv",
    log:
        log("aggregate_holds", per_cell_job=False),
    benchmark:
        bench("aggregate_holds", per_cell_job=False)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        module="gateroles.analyses.holds.aggregate",
        config=sections("analysis", "holds", "roles"),
    script:
        "../scripts/aggregate.py"


rule fig_holds_memory:
    input:
        code=lib("gateroles.analyses.holds.figures"),
        by_hold="results/tables/holds_by_hold.csv",
    output:
        png=report(
            "results/figures/holds_memory.png",
            caption=caption("holds", "holds_memory"),
            category="C8 hold length",
        ),
        pdf="results/figures/holds_memory.pdf",
    log:
        log("fig_holds_memory", per_cell_job=False),
    benchmark:
        bench("fig_holds_memory", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.holds.figures",
        name="holds_memory",
        config=sections("holds", "roles"),
    script:
        "../scripts/figure.py"


rule fig_holds_roles:
    input:
        code=lib("gateroles.analyses.holds.figures"),
        by_hold="results/tables/holds_by_hold.csv",
    output:
        png=report(
            "results/figures/holds_roles.png",
            caption=caption("holds", "holds_roles"),
            category="C8 hold length",
        ),
        pdf="results/figures/holds_roles.pdf",
    log:
        log("fig_holds_roles", per_cell_job=False),
    benchmark:
        bench("fig_holds_roles", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.holds.figures",
        name="holds_roles",
        config=sections("holds", "roles"),
    script:
        "../scripts/figure.py"

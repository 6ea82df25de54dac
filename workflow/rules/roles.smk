# Claim C1, role tests: attribution of state changes and context dependence
# (gateroles.analyses.roles).
REPORT_SECTIONS.append("gateroles.analyses.roles.section")
REPORT_TABLES.update(c1_roles="results/tables/c1_roles.csv")
ROLES_FIGURES = ["c1_attribution", "c1_context"]
REPORT_FIGURES.update({name: f"results/figures/{name}.png" for name in ROLES_FIGURES})
FIGURES += [f for name in ROLES_FIGURES for f in figure_outputs(name)]
RULE_CELLS["roles"] = TESTED_CELLS  # main grid (wiring.all_analyses: all), controls
SINGLE_RULES += ["aggregate_roles"] + [f"fig_{name}" for name in ROLES_FIGURES]


rule roles:
    input:
        code=lib("gateroles.analyses.roles.measure"),
        gates=per_seed("gates.npz"),
    output:
        shares=cell_table("roles", "shares"),
        context=cell_table("roles", "context"),
    log:
        log("roles"),
    benchmark:
        bench("roles")
    priority: PRIORITY["read_gates"]
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        module="gateroles.analyses.roles.measure",
        seeds=SEEDS,
        config=sections("roles"),
    script:
        "../scripts/measure.py"


rule aggregate_roles:
    input:
        unpack(control_inputs("roles", "shares", "context")),
        code=lib("gateroles.analyses.roles.aggregate"),
        runs="results/tables/runs.csv",
        shares=per_cell(cell_table("roles", "shares"), ANALYSIS_CELLS),
        context=per_cell(cell_table("roles", "context"), ANALYSIS_CELLS),
    output:
        shares="results/tables/c1_shares.csv",
        context="results/tables/c1_context.csv",
        c1_roles="results/tables/c1_roles.csv",
    log:
        log("aggregate_roles", per_cell_job=False),
    benchmark:
        bench("aggregate_roles", per_cell_job=False)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        module="gateroles.analyses.roles.aggregate",
        config=sections("analysis", "roles"),
    script:
        "../scripts/aggregate.py"


rule fig_c1_attribution:
    input:
        code=lib("gateroles.analyses.roles.figures"),
        table="results/tables/c1_shares.csv",
    output:
        png=report(
            "results/figures/c1_attribution.png",
            caption=caption("roles", "c1_attribution"),
            category="C1 role tests",
        ),
        pdf="results/figures/c1_attribution.pdf",
    log:
        log("fig_c1_attribution", per_cell_job=False),
    benchmark:
        bench("fig_c1_attribution", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.roles.figures",
        name="c1_attribution",
        config=sections("roles"),
    script:
        "../scripts/figure.py"


rule fig_c1_context:
    input:
        code=lib("gateroles.analyses.roles.figures"),
        table="results/tables/c1_context.csv",
    output:
        png=report(
            "results/figures/c1_context.png",
            caption=caption("roles", "c1_context"),
            category="C1 role tests",
        ),
        pdf="results/figures/c1_context.pdf",
    log:
        log("fig_c1_context", per_cell_job=False),
    benchmark:
        bench("fig_c1_context", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.roles.figures",
        name="c1_context",
        config=sections("roles"),
    script:
        "../scripts/figure.py"

# Claim C1, role tests: attribution of state changes and context dependence
# (gateroles.analyses.roles).
REPORT_SECTIONS.append("gateroles.analyses.roles.section")
REPORT_TABLES.update(c1_roles="results/tables/c1_roles.csv")
ROLES_FIGURES = {"c1_attribution": "attribution", "c1_context": "context"}
REPORT_FIGURES.update({name: f"results/figures/{name}.png" for name in ROLES_FIGURES})
FIGURES += [f for name in ROLES_FIGURES for f in figure_outputs(name)]
CELL_RULES.append("roles")
SINGLE_RULES += ["aggregate_roles"] + [f"fig_{name}" for name in ROLES_FIGURES]


rule roles:
    input:
        code=lib("gateroles.analyses.roles.measure"),
        gates=per_seed("gates.npz"),
    output:
        attribution=cell_table("roles", "attribution"),
        context=cell_table("roles", "context"),
    log:
        log("roles"),
    benchmark:
        bench("roles")
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
        code=lib("gateroles.analyses.roles.aggregate"),
        runs="results/tables/runs.csv",
        attribution=per_cell(cell_table("roles", "attribution")),
        context=per_cell(cell_table("roles", "context")),
    output:
        attribution="results/tables/c1_attribution.csv",
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


rule fig_roles:
    input:
        code=lib("gateroles.analyses.roles.figures"),
        table=lambda w: f"results/tables/c1_{ROLES_FIGURES[w.figure]}.csv",
    output:
        png=report(
            "results/figures/{figure}.png",
            caption="../../src/gateroles/analyses/roles/captions/{figure}.rst",
            category="C1 role tests",
        ),
        pdf="results/figures/{figure}.pdf",
    log:
        "results/logs/fig_{figure}.log",
    benchmark:
        "results/benchmarks/fig_{figure}.tsv"
    wildcard_constraints:
        figure="|".join(ROLES_FIGURES),
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.roles.figures",
        name="{figure}",
        config=sections("roles"),
    script:
        "../scripts/figure.py"

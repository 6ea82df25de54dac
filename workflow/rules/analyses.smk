# Every analysis's rules, made from its declaration (src/gateroles/analyses/<name>/jobs.py,
# gateroles.analyses.declare): a per-model job per cell, one aggregate with its verdict rows,
# one job per figure. PLAN (common.smk) works out the cells and inputs.


for job in PLAN.per_cell_jobs():

    rule:
        name:
            job.rule
        input:
            **{name: per_seed(file) for name, file in job.spec.reads.items()},
            code=lib(job.module),
        output:
            **{table: cell_table(job.analysis.name, table) for table in job.spec.tables},
        log:
            log(job.rule),
        benchmark:
            bench(job.rule)
        priority: PRIORITY["read_gates"]
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=2000,
            runtime=job.spec.runtime,
        params:
            module=job.module,
            seeds=SEEDS,
            config=measure_config(job),
        script:
            "../scripts/measure.py"


for analysis in PLAN.declared.values():
    if analysis.aggregate is None:
        continue

    rule:
        name:
            f"aggregate_{analysis.name}"
        input:
            **({"runs": "results/tables/runs.csv"} if analysis.aggregate.runs else {}),
            **PLAN.aggregate_inputs(analysis),
            code=lib(f"{analysis.package}.aggregate"),
        output:
            **{name: analysis.table_path(name) for name in analysis.aggregate.outputs},
        log:
            log(f"aggregate_{analysis.name}", per_cell_job=False),
        benchmark:
            bench(f"aggregate_{analysis.name}", per_cell_job=False)
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=analysis.aggregate.mem_mb,
            runtime=analysis.aggregate.runtime,
        params:
            module=f"{analysis.package}.aggregate",
            config=sections("analysis", *analysis.sections),
        script:
            "../scripts/aggregate.py"


for analysis, figure, drawn in PLAN.figures():

    rule:
        name:
            f"fig_{figure}"
        input:
            **{name: table_path(analysis, name) for name in drawn.reads},
            code=lib(f"{analysis.package}.figures"),
        output:
            png=report(
                f"results/figures/{figure}.png",
                caption=caption(analysis.name, figure),
                category=analysis.category,
            ),
            pdf=f"results/figures/{figure}.pdf",
        log:
            log(f"fig_{figure}", per_cell_job=False),
        benchmark:
            bench(f"fig_{figure}", per_cell_job=False)
        conda:
            ENV
        threads: 1
        params:
            module=f"{analysis.package}.figures",
            name=figure,
            config=sections(*analysis.sections),
        script:
            "../scripts/figure.py"

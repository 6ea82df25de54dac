# The report: every registered section, the answer first (gateroles.report), linking the
# viewer (viewer.smk) that sits beside it.


rule report_html:
    input:
        unpack(report_inputs),
        code=lib("gateroles.report", "gateroles.analyses.registry", *PLAN.sections()),
        templates=code_deps.data_files("**/*.j2"),
        captions=code_deps.data_files("analyses/*/captions/*.rst"),
        viewer="results/viewer.html",
    output:
        html="results/report.html",
        provenance="results/provenance.json",
    log:
        log("report_html", per_cell_job=False),
    conda:
        ENV
    threads: 1
    params:
        config=sorted_keys(config),
        sections=PLAN.sections(),
        tables=list(PLAN.report_tables()),
        figures=list(PLAN.report_figures()),
    script:
        "../scripts/report_html.py"

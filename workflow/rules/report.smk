# The report: every registered section, the answer first (gateroles.report), linking the
# viewer (viewer.smk) that sits beside it.


rule report_html:
    input:
        unpack(report_inputs),
        code=lib("gateroles.report", *REPORT_SECTIONS),
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
        sections=REPORT_SECTIONS,
        tables=list(REPORT_TABLES),
        figures=list(REPORT_FIGURES),
    script:
        "../scripts/report_html.py"

rule report_html:
    input:
        unpack(report_inputs),
        code=lib("report"),
        templates=sorted(map(str, (REPO / "src" / "gateroles" / "templates").rglob("*.j2"))),
    output:
        html="results/report.html",
        provenance="results/provenance.json",
    log:
        log("report_html", per_run_job=False),
    params:
        config=config,
        tables=list(REPORT_TABLES),
        figures=list(REPORT_FIGURES),
    threads: 1
    conda:
        ENV
    script:
        "../scripts/report_html.py"

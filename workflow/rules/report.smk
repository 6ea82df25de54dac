# The report: every registered section, the answer first (gateroles.report).


rule report_html:
    input:
        unpack(report_inputs),
        code=lib("gateroles.report", *REPORT_SECTIONS),
        templates=sorted(map(str, (REPO / "src" / "gateroles").rglob("*.j2"))),
        captions=sorted(map(str, (REPO / "src" / "gateroles").glob("analyses/*/captions/*.rst"))),
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

rule report_html:
    input:
        lib("report"),
        str(REPO / "src" / "gateroles" / "templates" / "report.html.j2"),
        runs="results/tables/runs.csv",
        solved="results/tables/solved_by_task.csv",
        c2="results/tables/c2_verdicts.csv",
        saturation_summary="results/tables/saturation_summary.csv",
        training_curves="results/figures/training_curves.png",
        event_averages="results/figures/event_averages.png",
        saturation="results/figures/saturation.png",
        benchmarks=benchmark_files(),
    output:
        html="results/report.html",
        provenance="results/provenance.json",
    log:
        log("report_html", per_run_job=False),
    params:
        config=config,
    threads: 1
    conda:
        ENV
    script:
        "../scripts/report_html.py"

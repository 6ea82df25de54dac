# One rule per figure: editing one figure's script reruns that figure only.
FIGURE_NAMES = ["training_curves", "event_averages", "saturation"]
FIGURES = expand("results/figures/{name}.{ext}", name=FIGURE_NAMES, ext=["png", "pdf"])
SINGLE_RULES += [f"fig_{name}" for name in FIGURE_NAMES]
REPORT_FIGURES.update({name: f"results/figures/{name}.png" for name in FIGURE_NAMES})


rule fig_training_curves:
    input:
        lib("plots"),
        training="results/tables/training_curves.csv",
        runs="results/tables/runs.csv",
    output:
        png=report("results/figures/training_curves.png",
                   caption="../report/training_curves.rst", category="Training"),
        pdf="results/figures/training_curves.pdf",
    log:
        log("fig_training_curves", per_run_job=False),
    benchmark:
        bench("fig_training_curves", per_run_job=False)
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_training_curves.py"


rule fig_event_averages:
    input:
        lib("plots"),
        aligned="results/tables/eta_aligned.csv",
    output:
        png=report("results/figures/event_averages.png",
                   caption="../report/event_averages.rst", category="C2 event-locked dynamics"),
        pdf="results/figures/event_averages.pdf",
    log:
        log("fig_event_averages", per_run_job=False),
    benchmark:
        bench("fig_event_averages", per_run_job=False)
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_event_averages.py"


rule fig_saturation:
    input:
        lib("plots"),
        saturation="results/tables/saturation.csv",
    output:
        png=report("results/figures/saturation.png",
                   caption="../report/saturation.rst", category="Saturation"),
        pdf="results/figures/saturation.pdf",
    log:
        log("fig_saturation", per_run_job=False),
    benchmark:
        bench("fig_saturation", per_run_job=False)
    params:
        config=sections("analysis"),
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_saturation.py"

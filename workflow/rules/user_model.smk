# A user's own model (gateroles.own_model, docs/own-model.md): the role analyses on its events
# and their report, and the viewer of its gates (gateroles.viewer.user). Its rules exist only
# for a config with a `user_model` section, and then `all` builds its report and viewer
# instead of the study's (Snakefile).
USER = config.get("user_model")
USER_TARGETS = []

if USER:
    USER_DIR = f"results/user_model/{USER['name']}"
    USER_TABLES = [
        "event_units",
        "event_population",
        "event_aligned",
        "perturbation",
        "attribution",
    ]
    USER_FIGURES = ["event_aligned", "event_units", "perturbation", "attribution"]
    USER_TARGETS += [f"{USER_DIR}/report.html", f"{USER_DIR}/viewer.html"]

    rule user_model_measure:
        input:
            code=lib("gateroles.own_model.measure"),
            checkpoint=USER["checkpoint"],
            inputs=USER["inputs"],
            events=USER["events"],
        output:
            **{name: f"{USER_DIR}/tables/{name}.csv" for name in USER_TABLES},
            summary=f"{USER_DIR}/summary.json",
        log:
            f"results/logs/user_model/{USER['name']}/measure.log",
        benchmark:
            f"results/benchmarks/user_model/{USER['name']}/measure.tsv"
        conda:
            ENV
        threads: 1
        params:
            config=sections("user_model"),
        script:
            "../scripts/user_model_measure.py"

    rule user_model_figure:
        input:
            **{name: f"{USER_DIR}/tables/{name}.csv" for name in USER_TABLES},
            code=lib("gateroles.own_model.figures"),
        output:
            png=f"{USER_DIR}/figures/{{figure}}.png",
            pdf=f"{USER_DIR}/figures/{{figure}}.pdf",
        log:
            f"results/logs/user_model/{USER['name']}/figure_{{figure}}.log",
        benchmark:
            f"results/benchmarks/user_model/{USER['name']}/figure_{{figure}}.tsv"
        wildcard_constraints:
            figure="|".join(USER_FIGURES),
        conda:
            ENV
        threads: 1
        params:
            config=sections("user_model"),
        script:
            "../scripts/user_model_figure.py"

    rule user_model_report:
        input:
            **{name: f"{USER_DIR}/tables/{name}.csv" for name in USER_TABLES},
            **{f"figure_{name}": f"{USER_DIR}/figures/{name}.png" for name in USER_FIGURES},
            code=lib("gateroles.own_model.report"),
            template=code_deps.data_files("templates/own_model.html.j2"),
            summary=f"{USER_DIR}/summary.json",
        output:
            html=f"{USER_DIR}/report.html",
        log:
            f"results/logs/user_model/{USER['name']}/report.log",
        conda:
            ENV
        threads: 1
        params:
            config=sections("user_model"),
        script:
            "../scripts/user_model_report.py"

    rule user_model_viewer:
        input:
            code=lib("gateroles.viewer.user"),
            page=code_deps.data_files("viewer/viewer.html"),
            checkpoint=USER["checkpoint"],
            inputs=USER["inputs"],
            events=USER["events"],
        output:
            html=f"{USER_DIR}/viewer.html",
        log:
            f"results/logs/user_model/{USER['name']}/viewer.log",
        benchmark:
            f"results/benchmarks/user_model/{USER['name']}/viewer.tsv"
        conda:
            ENV
        threads: 1
        params:
            config=sections("user_model", "viewer"),
        script:
            "../scripts/user_model_viewer.py"

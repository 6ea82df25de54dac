# Claim C4, roles come from wiring (gateroles.analyses.wiring): every C4 model scored behaviour
# by behaviour (the variants as double dissociations, and how selectively each writes), the
# same initial blocks in two positions (lstm / swap_forget_input, a symmetry demonstration), and
# rewiring: each trained lstm / default model with its forget and input blocks swapped,
# fine-tuned, and fine-tuned again with the moved blocks frozen (the control), its gates
# extracted and measured. The C4 cells themselves are trained and extracted by the other rules
# files (study.cells adds them to the grid).
from gateroles.study import Cell

WIRING_TASKS = config["wiring"]["tasks"]
REWIRE_CELLS = (
    [Cell(task, "lstm", "default") for task in WIRING_TASKS]
    if config["wiring"]["rewire"]["enabled"]
    else []
)
# The models scored behaviour by behaviour: the reference LSTM and every variant.
BEHAVIOUR_CELLS = [
    Cell(task, arch, "default")
    for task in WIRING_TASKS
    for arch in ["lstm", *config["wiring"]["architectures"]]
]
POSITION_CELLS = (
    [Cell(task, "lstm", init) for task in WIRING_TASKS for init in ("default", "swap_forget_input")]
    if config["wiring"]["two_positions"]
    else []
)
WIRING_FIGURES = ["c4_variants", "c4_behaviours", "c4_rewire"]
if POSITION_CELLS:
    WIRING_FIGURES.append("c4_two_positions")
if WIRING_TASKS:
    REPORT_SECTIONS.append("gateroles.analyses.wiring.section")
    REPORT_TABLES.update(
        c4="results/tables/c4_verdicts.csv",
        c4_summary="results/tables/c4_variants.csv",
        c4_behaviour_summary="results/tables/c4_behaviour_summary.csv",
        c4_ranking="results/tables/c4_ranking.csv",
        c4_gap="results/tables/c4_gap.csv",
        c4_rewire_summary="results/tables/c4_rewire_summary.csv",
    )
    REPORT_FIGURES.update({name: f"results/figures/{name}.png" for name in WIRING_FIGURES})
    FIGURES += [f for name in WIRING_FIGURES for f in figure_outputs(name)]
    RULE_CELLS.update(
        rewire=REWIRE_CELLS,
        extract_rewire=REWIRE_CELLS,
        wiring=REWIRE_CELLS,
        behaviours=BEHAVIOUR_CELLS,
    )
    # The two-positions comparison reads the C2 tables of the swap arm as well.
    RULE_CELLS["event_locking"] = list(dict.fromkeys(RULE_CELLS["event_locking"] + POSITION_CELLS))
    SINGLE_RULES += ["aggregate_wiring"] + [f"fig_{name}" for name in WIRING_FIGURES]


# The aggregate's tables: only those the config asks for (none may be empty).
WIRING_INPUTS = {
    name: files
    for name, files in {
        "behaviours": per_cell(cell_table("wiring", "behaviours"), BEHAVIOUR_CELLS),
        "writing": per_cell(cell_table("wiring", "writing"), BEHAVIOUR_CELLS),
        "contrast": per_cell(cell_table("event_locking", "contrast"), POSITION_CELLS),
        **{
            f"rewire_{name}": per_cell(cell_table("wiring", f"rewire_{name}"), REWIRE_CELLS)
            for name in ("scores", "curve", "effects", "distance")
        },
    }.items()
    if files
}


rule behaviours:
    input:
        code=lib("gateroles.analyses.wiring.behaviour"),
        gates=per_seed("gates.npz"),
        checkpoints=per_seed("checkpoints.pt"),
    output:
        behaviours=cell_table("wiring", "behaviours"),
        writing=cell_table("wiring", "writing"),
    log:
        log("behaviours"),
    benchmark:
        bench("behaviours")
    wildcard_constraints:
        init="default",
    priority: PRIORITY["read_gates"]
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        module="gateroles.analyses.wiring.behaviour",
        seeds=SEEDS,
        config=sections("wiring", "roles", "training"),
    script:
        "../scripts/measure.py"


rule rewire:
    input:
        code=lib("gateroles.analyses.wiring.rewire"),
        checkpoints=per_seed("checkpoints.pt"),
    output:
        checkpoints=per_seed("rewire/checkpoints.pt"),
        train_log=per_seed("rewire/train_log.csv"),
        scores=per_seed("rewire/scores.csv"),
        test=per_seed("rewire/test.json"),
        frozen=per_seed("rewire/frozen.pt"),
        frozen_log=per_seed("rewire/frozen_log.csv"),
    log:
        log("rewire"),
    benchmark:
        bench("rewire")
    wildcard_constraints:
        arch="lstm",
        init="default",
    priority: PRIORITY["rewire"]
    conda:
        ENV
    threads: config["resources"]["train_threads"]
    resources:
        mem_mb=2000,
        runtime=60,
        gpu=1 if config["training"]["device"] == "cuda" else 0,
    params:
        seeds=SEEDS,
        config=sections("data", "task_params", "model", "training", "wiring", "roles"),
    script:
        "../scripts/rewire.py"


rule extract_rewire:
    input:
        code=lib("gateroles.extraction"),
        checkpoints=per_seed("rewire/checkpoints.pt"),
        frozen=per_seed("rewire/frozen.pt"),
    output:
        gates=temp(per_seed("rewire/gates.npz")),
        frozen=temp(per_seed("rewire/frozen_gates.npz")),
    log:
        log("extract_rewire"),
    benchmark:
        bench("extract_rewire")
    wildcard_constraints:
        arch="lstm",
        init="default",
    priority: PRIORITY["extract"]
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        seeds=SEEDS,
        config=sections("data", "task_params", "extraction"),
    script:
        "../scripts/extract_rewire.py"


rule wiring:
    input:
        code=lib("gateroles.analyses.wiring.measure"),
        gates=per_seed("rewire/gates.npz"),
        frozen_gates=per_seed("rewire/frozen_gates.npz"),
        original=per_seed("gates.npz"),
        scores=per_seed("rewire/scores.csv"),
        test=per_seed("rewire/test.json"),
        train_log=per_seed("rewire/train_log.csv"),
        frozen_log=per_seed("rewire/frozen_log.csv"),
        scratch_log=per_seed("train_log.csv"),
    output:
        rewire_scores=cell_table("wiring", "rewire_scores"),
        rewire_curve=cell_table("wiring", "rewire_curve"),
        rewire_effects=cell_table("wiring", "rewire_effects"),
        rewire_distance=cell_table("wiring", "rewire_distance"),
    log:
        log("wiring"),
    benchmark:
        bench("wiring")
    wildcard_constraints:
        arch="lstm",
        init="default",
    priority: PRIORITY["read_gates"]
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        module="gateroles.analyses.wiring.measure",
        seeds=SEEDS,
        config=sections("wiring", "roles", "training"),
    script:
        "../scripts/measure.py"


rule aggregate_wiring:
    input:
        unpack(lambda w: WIRING_INPUTS),
        code=lib("gateroles.analyses.wiring.aggregate"),
        runs="results/tables/runs.csv",
    output:
        scores="results/tables/c4_scores.csv",
        variants="results/tables/c4_variants.csv",
        behaviours="results/tables/c4_behaviours.csv",
        behaviour_summary="results/tables/c4_behaviour_summary.csv",
        writing="results/tables/c4_writing.csv",
        ranking="results/tables/c4_ranking.csv",
        gap="results/tables/c4_gap.csv",
        positions="results/tables/c4_positions.csv",
        rewire_summary="results/tables/c4_rewire_summary.csv",
        rewire="results/tables/c4_rewire.csv",
        curves="results/tables/c4_curves.csv",
        c4="results/tables/c4_verdicts.csv",
    log:
        log("aggregate_wiring", per_cell_job=False),
    benchmark:
        bench("aggregate_wiring", per_cell_job=False)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        module="gateroles.analyses.wiring.aggregate",
        config=sections("analysis", "wiring", "roles", "training"),
    script:
        "../scripts/aggregate.py"


rule fig_c4_variants:
    input:
        code=lib("gateroles.analyses.wiring.figures"),
        scores="results/tables/c4_scores.csv",
    output:
        png=report(
            "results/figures/c4_variants.png",
            caption=caption("wiring", "c4_variants"),
            category="C4 roles come from wiring",
        ),
        pdf="results/figures/c4_variants.pdf",
    log:
        log("fig_c4_variants", per_cell_job=False),
    benchmark:
        bench("fig_c4_variants", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.wiring.figures",
        name="c4_variants",
        config=sections("wiring", "roles", "training"),
    script:
        "../scripts/figure.py"


rule fig_c4_behaviours:
    input:
        code=lib("gateroles.analyses.wiring.figures"),
        behaviours="results/tables/c4_behaviours.csv",
        writing="results/tables/c4_writing.csv",
    output:
        png=report(
            "results/figures/c4_behaviours.png",
            caption=caption("wiring", "c4_behaviours"),
            category="C4 roles come from wiring",
        ),
        pdf="results/figures/c4_behaviours.pdf",
    log:
        log("fig_c4_behaviours", per_cell_job=False),
    benchmark:
        bench("fig_c4_behaviours", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.wiring.figures",
        name="c4_behaviours",
        config=sections("wiring", "roles", "training"),
    script:
        "../scripts/figure.py"


rule fig_c4_two_positions:
    input:
        code=lib("gateroles.analyses.wiring.figures"),
        positions="results/tables/c4_positions.csv",
    output:
        png=report(
            "results/figures/c4_two_positions.png",
            caption=caption("wiring", "c4_two_positions"),
            category="C4 roles come from wiring",
        ),
        pdf="results/figures/c4_two_positions.pdf",
    log:
        log("fig_c4_two_positions", per_cell_job=False),
    benchmark:
        bench("fig_c4_two_positions", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.wiring.figures",
        name="c4_two_positions",
        config=sections("wiring", "roles", "training"),
    script:
        "../scripts/figure.py"


rule fig_c4_rewire:
    input:
        code=lib("gateroles.analyses.wiring.figures"),
        rewire="results/tables/c4_rewire.csv",
        curves="results/tables/c4_curves.csv",
    output:
        png=report(
            "results/figures/c4_rewire.png",
            caption=caption("wiring", "c4_rewire"),
            category="C4 roles come from wiring",
        ),
        pdf="results/figures/c4_rewire.pdf",
    log:
        log("fig_c4_rewire", per_cell_job=False),
    benchmark:
        bench("fig_c4_rewire", per_cell_job=False)
    conda:
        ENV
    threads: 1
    params:
        module="gateroles.analyses.wiring.figures",
        name="c4_rewire",
        config=sections("wiring", "roles", "training"),
    script:
        "../scripts/figure.py"

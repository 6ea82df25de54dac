"""The study's analyses, one package each, and the claims they decide.

Each analysis package holds, side by side, everything about one measurement:

* `__init__.py`: what it measures (docstring), its typed `Settings` (its config section);
* `measure.py`: `measure(run_inputs, run, settings) -> {table: DataFrame}` for one model;
* `aggregate.py`: `aggregate(tables, runs, settings, stats_settings) -> {table: DataFrame}`,
  across seeds, with the verdict rows of its claim;
* `figures.py`: `FIGURES = {name: function(tables, settings) -> Figure}`;
* `section.py` + `section.html.j2`: its report section (`section(inputs) -> dict`);
* `captions/*.rst`: one caption per figure;
* `jobs.py`: `JOBS`, what its jobs read and write (`gateroles.analyses.declare`), from which
  workflow/rules/analyses.smk makes its rules;

and one line in `gateroles.analyses.registry.ANALYSES`. See CONTRIBUTING.md, "How to add an
analysis".
"""

# Claim -> (its name, the analyses whose verdict rows decide it). The report's answer table
# lists the claims in this order. A claim's counted primary predictions are one Holm family
# however many analyses give it rows: C6's verdict table (results/tables/c6_verdicts.csv) is
# written once, by gradient_flow's aggregate, over its rows and learnability's.
CLAIMS = {
    "C1": ("role emergence", ("roles", "decodability")),
    "C2": ("event-locked dynamics", ("event_locking",)),
    "C3": ("causal roles", ("causal",)),
    "C4": ("roles come from wiring", ("wiring",)),
    "C5": ("disentanglement", ("dependence",)),
    "C6": ("gradient highway", ("gradient_flow", "learnability")),
    "C7": ("how roles are written", ("emergence",)),
    "C8": ("roles sharpen with hold length", ("holds",)),
}

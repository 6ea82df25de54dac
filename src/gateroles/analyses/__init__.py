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

and one line in `gateroles.analyses.registry.ANALYSES` (where `CLAIMS` says which claims the
analyses decide). See CONTRIBUTING.md, "How to add an analysis".
"""

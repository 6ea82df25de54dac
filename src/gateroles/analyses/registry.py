"""Every analysis the workflow runs, in the report's order: adding one is its folder and one
line here. Each one's `jobs.JOBS` declares its jobs (gateroles.analyses.declare); an analysis
the config does not run is left out by its declaration.

No job imports this module, so adding an analysis reruns only its own jobs and the report (a
line in the package's `__init__.py`, which every analysis job's code depends on, would rerun
them all).
"""

ANALYSES = ("training", "roles", "decodability", "event_locking", "causal", "wiring",
            "dependence", "gradient_flow", "holds", "learnability", "emergence", "saturation")

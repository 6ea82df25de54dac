"""Every analysis the workflow runs, in the report's order, and the claims they decide: adding
one is its folder and one line here (two with a new claim). Each one's `jobs.JOBS` declares
its jobs (gateroles.analyses.declare); an analysis the config does not run is left out by its
declaration.

No job but the report imports this module, so a line here reruns no other analysis's code (a
line in the package's `__init__.py`, which every analysis job's code depends on, would make
them all out of date). A new analysis that reads the gate files does rerun the other per-model
jobs of its cells, with the same results, since the (temporary) gate files are made again.
"""

ANALYSES = ("training", "roles", "decodability", "event_locking", "causal", "wiring",
            "dependence", "gradient_flow", "holds", "learnability", "emergence", "saturation")

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

"""Render results/report.html (self-contained) and results/provenance.json."""

from pathlib import Path

from gateroles import pipeline, report, storage
from gateroles.analyses.registry import CLAIMS

pipeline.start(snakemake.threads, snakemake.log[0])
inp, params = snakemake.input, snakemake.params
repo = Path(snakemake.scriptdir).resolve().parents[1]
prov = report.provenance(params.config, repo)
html = report.render(
    config=params.config, sections=params.sections,
    claims={claim: name for claim, (name, _) in CLAIMS.items()},
    tables={k: inp[k] for k in params.tables},
    figures={k: inp[k] for k in params.figures},
    benchmarks=list(inp.benchmarks), prov=prov,
    viewer=Path(inp.viewer).name if "viewer" in inp.keys() else None)
with storage.atomic_path(snakemake.output.html) as tmp:
    tmp.write_text(html, encoding="utf-8")
storage.write_json(prov, snakemake.output.provenance)

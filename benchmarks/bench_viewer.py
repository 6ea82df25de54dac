"""How fast the viewer opens and redraws in headless Chromium, on a page the size of the
default study's (62 models, 3 checkpoints, 400 perturbations; built by the viewer test's
`_default_sized_page`). Targets (issue "Look at the gates"): open < 2 s, each redraw < 100 ms.

    python benchmarks/bench_viewer.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHANGES = """(() => { const out = [];
    for (const change of [{array: 'forget'}, {sort: 'response:reset'}, {run: 0},
        {compare: 'run:2'}, {mode: 'diff'}, {model: 17}, {run: 2}, {compare: 'pert:3'},
        {seq: 1}, {unit: 5}, {array: 'cell'}])
      out.push(gv.set(change));
    return out; })()"""


def _viewer_test():
    spec = importlib.util.spec_from_file_location("test_viewer", ROOT / "tests/test_viewer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    t = _viewer_test()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        path = t._default_sized_page(Path(tmp) / "big.html")
        browser = p.chromium.launch(executable_path=t.CHROMIUM, args=["--no-sandbox"])
        opens, redraws = [], []
        for _ in range(args.repeats):
            pg, seconds = t._open(browser, path)
            opens.append(seconds)
            redraws.append(max(pg.evaluate(CHANGES)))
            pg.close()
        browser.close()
        print(f"page {path.stat().st_size / 1e6:.1f} MB; open {statistics.median(opens):.2f} s "
              f"(median of {args.repeats}; target < 2 s); slowest redraw "
              f"{statistics.median(redraws):.1f} ms (median; target < 100 ms)")


if __name__ == "__main__":
    main()

"""A picture of the report's opening (the question and the answer) for the README.

    python tools/screenshot_report.py [results/report.html] [-o docs/report-answer.png]

Renders the report with headless Chromium (Debian: `apt-get install chromium`; another binary
with `--chromium PATH`) and keeps the page down to the end of its answer section (`id="summary"`,
up to the next heading), trimmed to the text. Run it in a project whose default study has
finished (`snakemake --cores 2`), so that the picture shows that run.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

WIDTH = 1100  # CSS pixels: the report's own max-width, so its tables wrap as in a browser
MARGIN = 16  # pixels kept around the text


def opening(page: str) -> str:
    """The report's HTML up to the end of its answer section: its head (styles), title,
    introduction and answer, without the sections and figures after it."""
    start = page.index('id="summary"')
    end = page.find("<h2", start)
    return page[: end if end >= 0 else len(page)] + "\n</body>\n</html>\n"


def trim(image: Image.Image, margin: int = MARGIN) -> Image.Image:
    """`image` cropped to its non-background pixels (the top-left pixel's colour), plus margin."""
    pixels = np.asarray(image.convert("RGB")).astype(int)
    ink = np.abs(pixels - pixels[0, 0]).sum(axis=2) > 24
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        raise ValueError("the rendered page is blank")
    box = (max(cols[0] - margin, 0), max(rows[0] - margin, 0),
           min(cols[-1] + margin + 1, image.width), min(rows[-1] + margin + 1, image.height))
    return image.crop(box)


def screenshot(report: Path, output: Path, chromium: str, height: int = 4000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page, shot = Path(tmp) / "opening.html", Path(tmp) / "shot.png"
        page.write_text(opening(report.read_text()))
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--force-device-scale-factor=1",
                        f"--window-size={WIDTH + 80},{height}", f"--screenshot={shot}",
                        page.as_uri()], check=True, capture_output=True, timeout=120)
        image = trim(Image.open(shot))
    if image.height >= height - MARGIN:
        raise RuntimeError(f"the answer is taller than {height} pixels: raise --height")
    # A palette of 64 colours keeps the text sharp and the file small.
    image.convert("RGB").quantize(colors=64).save(output, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", type=Path, default=Path("results/report.html"))
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/report-answer.png"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--height", type=int, default=4000, help="window height (pixels)")
    args = parser.parse_args()
    screenshot(args.report, args.output, args.chromium, args.height)
    print(f"{args.output}: {Image.open(args.output).size[0]}x{Image.open(args.output).size[1]}"
          f" pixels, {args.output.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()

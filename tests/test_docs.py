"""The README and the docs pages: every link resolves, the README's code runs, the commands agree
with CI, and the report's picture is small and can be remade."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", REPO / "SCIENCE.md", REPO / "CONTRIBUTING.md",
         REPO / "benchmarks" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def prose(text: str) -> str:
    """The text without fenced code blocks and inline code (neither holds links)."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to
    hyphens, a repeated heading numbered -1, -2, ..."""
    seen, out = {}, set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", FENCE.sub("", path.read_text()),
                              re.MULTILINE):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        out.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return out


def links(path: Path) -> list[str]:
    return LINK.findall(prose(path.read_text()))


def test_the_pages_exist_and_link_each_other():
    assert all(page.exists() for page in PAGES)
    readme = set(links(REPO / "README.md"))
    for page in PAGES[1:]:
        assert any(link.split("#")[0] == page.relative_to(REPO).as_posix() for link in readme), (
            f"README.md does not link {page.relative_to(REPO)}")


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(REPO).as_posix() for p in PAGES])
def test_every_link_resolves(page):
    found = links(page)
    assert found or page.name == "SCIENCE.md", f"{page.name}: no links found"
    for link in found:
        url = urlsplit(link)
        if url.scheme in ("http", "https"):
            assert "." in url.netloc and " " not in link, f"{page.name}: malformed URL {link}"
            continue
        assert not url.scheme and not link.startswith(("/", "~")), (
            f"{page.name}: {link} is not a relative link")
        target = (page.parent / url.path).resolve() if url.path else page
        assert target.is_relative_to(REPO), f"{page.name}: {link} leaves the project"
        assert target.exists(), f"{page.name}: {link} does not exist"
        if url.fragment:
            assert target.suffix == ".md", f"{page.name}: {link}: an anchor into a non-page"
            assert url.fragment in anchors(target), (
                f"{page.name}: {link}: no heading #{url.fragment} in {target.name} "
                f"(has {sorted(anchors(target))})")


def test_no_page_names_a_local_absolute_path():
    for page in PAGES:
        text = page.read_text()
        assert not re.search(r"(?<![\w.])/(work|home|root|Users)/", text), page.name


def test_anchors_follow_githubs_slugs(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# A `code` heading, with: punctuation\n```\n# not a heading\n```\n"
                    "## Same\n## Same\n")
    assert anchors(page) == {"a-code-heading-with-punctuation", "same", "same-1"}


def test_the_readmes_python_runs():
    """The README's code (your own model) runs as written."""
    blocks = re.findall(r"^```python\n(.*?)^```", (REPO / "README.md").read_text(),
                        re.MULTILINE | re.DOTALL)
    assert blocks
    for code in blocks:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=120, cwd=REPO)
        assert result.returncode == 0, result.stderr[-2000:]


def test_the_readmes_commands_are_the_ones_ci_runs():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    commands = re.findall(r"^```bash\n(.*?)\n```", readme, re.MULTILINE | re.DOTALL)
    assert commands[:2] == [
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && snakemake --cores 2",
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && pytest"]
    assert re.search(r"^pip install [^\n]*-e '\.\[test\]' && python -m pytest", ci, re.MULTILINE)
    contributing = (REPO / "CONTRIBUTING.md").read_text()
    checks = re.findall(r"^```bash\n(.*?)\n```", contributing, re.MULTILINE | re.DOTALL)[0]
    for line in checks.splitlines()[1:]:  # the lint lines, as CI runs them
        assert re.search(rf"^{re.escape(line.strip())}$", ci, re.MULTILINE), line


# --- the report's picture --------------------------------------------------------------------

def screenshot_tool():
    spec = importlib.util.spec_from_file_location("screenshot_report",
                                                  REPO / "tools" / "screenshot_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readmes_picture_is_small():
    picture = REPO / "docs" / "report-answer.png"
    assert picture.stat().st_size < 300_000
    assert Image.open(picture).width <= 1400


def test_the_picture_keeps_the_reports_opening_and_trims_the_page():
    tool = screenshot_tool()
    page = ('<html><head><style>x</style></head><body><h1>Q</h1><h2 id="summary">The answer'
            '</h2><table></table>\n<h2 id="tasks">Tasks</h2><img src="data:..."></body></html>')
    opening = tool.opening(page)
    assert 'id="summary"' in opening and "<style>" in opening
    assert 'id="tasks"' not in opening and "<img" not in opening
    pixels = np.full((100, 200, 3), 255, np.uint8)
    pixels[40:50, 60:90] = 0
    trimmed = tool.trim(Image.fromarray(pixels), margin=5)
    assert trimmed.size == (30 + 10, 10 + 10)

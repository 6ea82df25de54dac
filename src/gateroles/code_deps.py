"""Which library files a job's code depends on, read from the import statements.

A workflow job reruns when one of its inputs changes, and Snakemake cannot see the Python
modules a script imports. Each rule therefore lists, as inputs, the `gateroles` source files of
the modules it calls and everything they import from `gateroles` (recursively, package
`__init__` files included, imports inside functions included; a package that finds its
modules at import time, every module in its folder). Reading the imports from the
source (`ast`) keeps that list derived, not hand-written: editing `probes.py` reruns exactly the
jobs whose code can reach it. `tests/test_code_deps.py` checks the derived list covers every
`gateroles` module a job really loads.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = "gateroles"
ROOT = Path(__file__).resolve().parent


def module_path(name: str) -> Path:
    """Source file of a `gateroles` module or package (its `__init__.py`)."""
    parts = name.split(".")[1:]
    base = ROOT.joinpath(*parts)
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _parents(name: str) -> list[str]:
    """`gateroles.a.b` -> [`gateroles`, `gateroles.a`]: packages imported on the way."""
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts))]


@functools.cache
def _imported(name: str) -> frozenset[str]:
    """`gateroles` modules that module `name` imports directly (anywhere in its source); cached
    like `modules`: a workflow parse asks for the same module's imports hundreds of times."""
    path = module_path(name)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            if source.split(".")[0] != PACKAGE:
                continue
            found.add(source)
            # `from gateroles import probes` imports a module, `from x import f` a name.
            found |= {f"{source}.{alias.name}" for alias in node.names
                      if module_path(f"{source}.{alias.name}").exists()}
    if path.name == "__init__.py" and _discovers_modules(path):
        found |= {f"{name}.{p.stem}" for p in path.parent.glob("*.py") if p.stem != "__init__"}
    return frozenset(found)


def _discovers_modules(init: Path) -> bool:
    """Whether a package's `__init__` imports its modules by finding them
    (`pkgutil.iter_modules(__path__)`, as `gateroles.tasks` does: a task is one new file):
    then it depends on every module in its folder."""
    for node in ast.walk(ast.parse(init.read_text(), str(init))):
        if (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "iter_modules"
                and any(isinstance(a, ast.Name) and a.id == "__path__" for a in node.args)):
            return True
    return False


@functools.cache
def modules(*names: str) -> tuple[str, ...]:
    """Every `gateroles` module reachable from `names` by imports (sorted, names included)."""
    seen: set[str] = set()
    todo = [n for name in names for n in (*_parents(name), name)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += [n for new in _imported(name) for n in (*_parents(new), new) if n not in seen]
    return tuple(sorted(seen))


def input_path(path: Path) -> str:
    """`path` as a workflow input: relative to the working directory (the workflow's) when it
    lies below it, as the package does in a clone with an editable install.

    Snakemake reruns a job whose set of input paths changed, so absolute paths would rerun a
    finished study whose project directory was moved or copied. A package outside it
    (installed into site-packages, or the tests' scratch studies) keeps absolute paths.
    """
    here = Path.cwd().resolve()
    return str(path.relative_to(here) if path.is_relative_to(here) else path)


def files(*names: str) -> list[str]:
    """Source files of `modules(*names)`, as workflow inputs (`input_path`)."""
    return [input_path(module_path(name)) for name in modules(*names)]


def data_files(*patterns: str) -> list[str]:
    """The package's other files that a job reads (report templates, captions), matched by
    glob `patterns` below the package root, sorted, as workflow inputs (`input_path`)."""
    return sorted({input_path(path) for pattern in patterns for path in ROOT.glob(pattern)})

"""The workflow's jobs, as a set, from a forced dry run: to check that a change to the rules
leaves the jobs and their files as they were.

    python tools/job_set.py [snakemake args...] > jobs.txt   # one line per job, sorted
    python tools/job_set.py --listing dry_run.txt > jobs.txt  # from a saved `snakemake -n`

Each line is a job's rule, outputs, inputs (without the library source files, `code`) and log,
so two listings compare with `diff`. Run it on two checkouts with the same arguments (for
example the default and the paper config: `--configfile config/paper.yaml`).
"""

from __future__ import annotations

import re
import subprocess
import sys

FIELDS = ("input", "output", "log")


def dry_run(args: list[str]) -> str:
    cmd = ["snakemake", "-n", "--forceall", "--cores", "1", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return done.stdout


def jobs(listing: str) -> list[str]:
    """One sorted line per job block (`rule name:` / `localrule name:` and its fields)."""
    out = []
    for block in re.split(r"\n(?=(?:local)?rule \S+:)", listing):
        head = re.match(r"(?:local)?rule (\S+):", block)
        if not head:
            continue
        fields = dict(re.findall(r"^\s+(\w+): (.*)$", block, flags=re.M))
        parts = [head.group(1)]
        for name in FIELDS:
            files = sorted(f for f in fields.get(name, "").split(", ")
                           if f and "/src/gateroles/" not in f and not f.startswith("src/"))
            parts.append(f"{name}=" + ",".join(files))
        out.append(" ".join(parts))
    return sorted(out)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--listing"]:
        with open(args[1]) as saved:
            listing = saved.read()
    else:
        listing = dry_run(args)
    print("\n".join(jobs(listing)))

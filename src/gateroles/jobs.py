"""What every workflow job does first: pin its thread count and send its messages to its log.

Snakemake sets the OMP/MKL/OpenBLAS variables to the rule's `threads` for script jobs; torch
still needs `torch.set_num_threads`, or N jobs on N cores oversubscribe them.
"""

from __future__ import annotations

import os
import sys

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def start(threads: int, log_path: str | None) -> None:
    """Limit this process to `threads` threads and redirect stderr to `log_path`.

    Call it first: torch reads OMP_NUM_THREADS when it is imported later, and is pinned here
    if it was imported already.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    if log_path:
        sys.stderr = open(log_path, "w", buffering=1)  # noqa: SIM115 - open for the whole job

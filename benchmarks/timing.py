"""What the benchmark scripts share (they run as scripts, so this folder is on their path)."""

import time


def timed(fn) -> float:
    """Wall seconds of one call of `fn()`."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start

"""Python's cyclic garbage collector paused while a corpus is read, built or brought up to
date.

Those steps make hundreds of thousands of objects (the records) that live on. Each of them
counts towards the next collection, and every collection of the oldest generation walks all
of them again: at 100,000 offerings and practices that was a third of a server's start.
Reference counting still frees everything else meanwhile; what is left in cycles is
collected once the collector runs again.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pausing = 0  # threads inside ``paused`` now
_resume = False  # whether the collector ran before the first of them came in


@contextmanager
def paused() -> Iterator[None]:
    """No collection while the block runs (in any thread); the collector is as it was once
    the last block that paused it ends."""
    global _pausing, _resume
    with _lock:
        if _pausing == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _lock:
            _pausing -= 1
            if _pausing == 0 and _resume:
                gc.enable()

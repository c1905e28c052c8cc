"""Suggestions worked out in turn: at most ``settings.suggest_slots`` at once per process.

A suggestion is a few milliseconds of numpy passes and Python between them. Run in many
threads of one process at once, they contend for the GIL: a thread that let it go for a numpy
pass waits for the others to give it back, each step of the way. One worker with ten
keep-alive connections served 106 suggestions/s (162 with one connection); in turn (one
thread at a time, the others queued without touching the GIL), 185-191 (wrk by hand; figures
in the README, "Performance and limits").

Only the suggestion endpoints queue here; every other endpoint keeps the thread pool as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request

T = TypeVar("T")


def open_turns(app: FastAPI) -> None:
    """The app's queue of suggestions (at start-up, in the event loop that serves it)."""
    app.state.suggest_turns = anyio.CapacityLimiter(app.state.settings.suggest_slots)


async def in_turn(request: Request, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``work(*args, **kwargs)`` in a worker thread once a suggestion slot is free."""
    turns = getattr(request.app.state, "suggest_turns", None)
    if turns is None:  # an app served without its start-up (lifespan)
        open_turns(request.app)
        turns = request.app.state.suggest_turns
    return await anyio.to_thread.run_sync(partial(work, *args, **kwargs), limiter=turns)

"""The cyclic collector is paused while a corpus is read or built (matcher.gc_pause), in
any thread, and left as it was afterwards."""

from __future__ import annotations

import gc
import threading

import pytest

from matcher import gc_pause
from matcher.ranking.engine import Engine
from matcher.settings import load_settings


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_no_collection_runs_inside_and_the_collector_runs_again_after():
    with gc_pause.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_stays_paused_until_the_last_thread_inside_leaves():
    entered, release_first, release_second = (threading.Event() for _ in range(3))
    seen: list[bool] = []

    def first() -> None:
        with gc_pause.paused():
            entered.set()
            release_first.wait(10)

    def second() -> None:
        with gc_pause.paused():
            release_second.wait(10)

    a = threading.Thread(target=first)
    a.start()
    entered.wait(10)
    b = threading.Thread(target=second)
    b.start()
    release_first.set()
    a.join(10)
    seen.append(gc.isenabled())  # the second thread is still inside
    release_second.set()
    b.join(10)
    seen.append(gc.isenabled())
    assert seen == [False, True]


def test_a_collector_turned_off_before_stays_off():
    gc.disable()
    with gc_pause.paused():
        pass
    assert not gc.isenabled()


def test_the_engine_reads_and_builds_its_corpus_with_the_collector_paused(demo_copy):
    engine = Engine(load_settings(db=demo_copy))
    states: list[bool] = []
    build = engine._load_or_build

    def recording():
        states.append(gc.isenabled())
        return build()

    engine._load_or_build = recording
    engine.corpus()
    assert states == [False] and gc.isenabled()

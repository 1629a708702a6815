"""The heap is frozen again as sockets accumulate, and thawed when most frozen sockets have gone."""

import gc
import weakref

from gateway.realtime.heap import SETTLE_MIN_NEW_SOCKETS, HeapSettler, settle


def test_growth_freezes_once_per_step_a_settled_burst_freezes_its_tail_and_a_large_drop_thaws() -> None:
    settler = HeapSettler()
    assert settler.observe(SETTLE_MIN_NEW_SOCKETS - 1) is None
    assert settler.observe(10_000) == "freeze"
    assert settler.observe(10_500) is None, "under 10 % more sockets while still connecting is not worth a freeze"
    assert settler.observe(10_500) == "freeze", "once the burst has settled, its tail is frozen too"
    assert settler.observe(10_500) is None
    assert settler.observe(6_000) is None
    assert settler.observe(5_000) == "unfreeze"
    assert settler.observe(5_100) is None


def test_freezing_moves_live_objects_out_of_the_collectors_reach() -> None:
    before = gc.get_freeze_count()
    sockets_like = [{"sid": n} for n in range(1000)]
    gc.freeze()
    try:
        assert gc.get_freeze_count() >= before + len(sockets_like)
    finally:
        gc.unfreeze()


class _Closed:
    """A closed socket's objects: they refer to each other, so only the collector frees them."""

    def __init__(self) -> None:
        self.me = self


def test_a_thaw_reclaims_the_closed_sockets_cycles_at_once_and_freezes_what_lives() -> None:
    closed = _Closed()
    gone = weakref.ref(closed)
    alive = [{"sid": n} for n in range(1000)]
    gc.freeze()
    try:
        del closed
        settle("unfreeze")
        assert gone() is None, "the closed socket's cycle waited for some later full pass"
        assert gc.get_freeze_count() >= len(alive), "the heap was left thawed: every later full pass walks it all"
    finally:
        gc.unfreeze()

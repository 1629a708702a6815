"""The heap is frozen again as sockets accumulate, and thawed when most frozen sockets have gone."""

import gc

from gateway.realtime.heap import SETTLE_MIN_NEW_SOCKETS, HeapSettler


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

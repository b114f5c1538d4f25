"""The cycle collector is paused only while a stage builds, and always given back."""

from __future__ import annotations

import gc

import pytest

from tfgen.gcpause import cycle_collection_paused
from tfgen.spec import SpecError, load_spec_text


def test_paused_inside_and_restored_after_nesting_and_errors() -> None:
    assert gc.isenabled()
    with cycle_collection_paused():
        assert not gc.isenabled()
        with cycle_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause does not end the outer one
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cycle_collection_paused():
        raise RuntimeError
    assert gc.isenabled()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_what_a_stage_built_skips_the_young_generations_but_not_a_full_collection() -> None:
    gc.collect()
    with cycle_collection_paused():
        built = [_Cycle() for _ in range(50_000)]
        assert gc.get_count()[0] > 50_000
    # the young generation is empty: the next young collection does not walk what was built
    assert gc.get_count()[0] < 50 and gc.get_freeze_count() == 0
    assert all(gc.is_tracked(c) for c in built[:10])
    alive = len(gc.get_objects(generation=2))
    del built
    assert gc.collect() >= 50_000  # the cycles are found and freed by a full collection
    assert len(gc.get_objects(generation=2)) < alive - 50_000


def test_what_the_host_program_froze_stays_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with cycle_collection_paused():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_left_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with cycle_collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_loading_a_spec_gives_the_collector_back_even_when_it_is_refused() -> None:
    with pytest.raises(SpecError):
        load_spec_text("version: 1\naccounts: [1]\n")
    assert gc.isenabled()

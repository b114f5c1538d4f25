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

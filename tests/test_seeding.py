"""The compiled seed hash gives the generators ``SeedSequence`` gives, word for word."""

from __future__ import annotations

import copy
import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from placeplan.seeding import entropy_words, generator, seed_words
from placeplan.streams import SOURCES, Streams

_keys = st.lists(st.integers(0, 2**70), max_size=5).map(tuple)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**200), _keys)
def test_seed_words_are_seedsequences_state_words(entropy, key):
    """Short and long entropy (pool padding, words past the pool), keys of any length."""
    want = np.random.SeedSequence(entropy, spawn_key=key)
    assert np.array_equal(
        seed_words(entropy_words(entropy, key)), want.generate_state(4, np.uint64)
    )
    mine, theirs = generator(entropy, key), np.random.default_rng(want)
    assert np.array_equal(mine.random(3), theirs.random(3))
    assert mine.bit_generator.state == theirs.bit_generator.state


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**128), st.integers(0, 10**6), st.sampled_from(sorted(SOURCES)))
def test_a_replications_streams_are_the_seed_sequences_streams(entropy, replicate, source):
    streams = Streams(entropy, replicate)
    seq = np.random.SeedSequence(entropy, spawn_key=(replicate, SOURCES[source]))
    assert np.array_equal(streams.rng(source).random(4), np.random.default_rng(seq).random(4))
    seq = np.random.SeedSequence(entropy, spawn_key=(replicate, SOURCES["assumptions"], 6))
    assert streams.assumption("demand.ceasing_scale") == np.random.default_rng(seq).random()


def test_a_seeded_generator_copies_and_pickles_as_any_other():
    rng = generator(7, (1, 2))
    rng.random(10)
    for twin in (copy.deepcopy(rng), pickle.loads(pickle.dumps(rng))):
        assert twin.random() == copy.deepcopy(rng).random()


def test_negative_entropy_is_refused_as_seedsequence_refuses_it():
    try:
        entropy_words(-1)
    except ValueError as exc:
        assert "non-negative" in str(exc)
    else:  # pragma: no cover - the check failed
        raise AssertionError("negative entropy accepted")

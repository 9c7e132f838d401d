"""numpy's ``SeedSequence`` hashing, compiled: a replication's generators seeded quickly.

A replication makes a fresh generator for each source of randomness and for each
assumption it reads (:class:`placeplan.streams.Streams`): a dozen a replication,
which through ``numpy.random.default_rng(SeedSequence(...))`` cost about 40 µs each,
more than many replications' whole demand draw. The cost is Python's, not the
hashing's: here the same hash (Melissa O'Neill's ``seed_seq`` as numpy's
``SeedSequence`` writes it — entropy mixed into a pool of four 32-bit words, then
four 64-bit words drawn from the pool) runs compiled, and the generator is built
from the words it gives, so its numbers are those ``default_rng`` gives.
Tested word for word against ``SeedSequence``.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.random.bit_generator import ISeedSequence

__all__ = ["entropy_words", "generator", "seed_words"]

_M32 = 0xFFFFFFFF
_INIT_A = 0x43B0D7E5
_MULT_A = 0x931E8875
_INIT_B = 0x8B51F9DD
_MULT_B = 0x58F38DED
_MIX_MULT_L = 0xCA01F9DD
_MIX_MULT_R = 0x4973F715
_POOL = 4


def _int_words(n: int) -> list[int]:
    """A non-negative integer as numpy's 32-bit words, least significant first."""
    if n < 0:
        raise ValueError("expected non-negative integer")
    words = [0] if n == 0 else []
    while n > 0:
        words.append(n & _M32)
        n >>= 32
    return words


def entropy_words(entropy: int, spawn_key: tuple[int, ...] = ()) -> np.ndarray:
    """The words ``SeedSequence(entropy, spawn_key=spawn_key)`` mixes into its pool.

    The entropy's words, padded with zeros to the pool's size when there is a spawn
    key (so that no key can pass for entropy), then each key's words.
    """
    words = _int_words(int(entropy))
    if spawn_key and len(words) < _POOL:
        words += [0] * (_POOL - len(words))
    for key in spawn_key:
        words += _int_words(int(key))
    return np.array(words, dtype=np.uint64)


@njit(cache=True)
def seed_words(entropy):  # pragma: no cover - compiled
    """``SeedSequence.generate_state(4, uint64)`` of a sequence with these entropy words.

    All arithmetic modulo 2**32, held in 64-bit unsigned integers.
    """
    m32 = np.uint64(_M32)
    s16 = np.uint64(16)
    hash_a = np.uint64(_INIT_A)
    pool = np.zeros(_POOL, dtype=np.uint64)

    def hashmix(value, h):
        value = (value ^ h) & m32
        h = (h * np.uint64(_MULT_A)) & m32
        value = (value * h) & m32
        return value ^ (value >> s16), h

    def mix(x, y):
        r = (np.uint64(_MIX_MULT_L) * x - np.uint64(_MIX_MULT_R) * y) & m32
        return r ^ (r >> s16)

    n = entropy.shape[0]
    for i in range(_POOL):
        pool[i], hash_a = hashmix(entropy[i] if i < n else np.uint64(0), hash_a)
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                hashed, hash_a = hashmix(pool[src], hash_a)
                pool[dst] = mix(pool[dst], hashed)
    for src in range(_POOL, n):
        for dst in range(_POOL):
            hashed, hash_a = hashmix(entropy[src], hash_a)
            pool[dst] = mix(pool[dst], hashed)
    hash_b = np.uint64(_INIT_B)
    state = np.empty(2 * _POOL, dtype=np.uint64)
    for i in range(2 * _POOL):
        value = (pool[i % _POOL] ^ hash_b) & m32
        hash_b = (hash_b * np.uint64(_MULT_B)) & m32
        value = (value * hash_b) & m32
        state[i] = value ^ (value >> s16)
    out = np.empty(_POOL, dtype=np.uint64)
    for i in range(_POOL):
        out[i] = state[2 * i] | (state[2 * i + 1] << np.uint64(32))
    return out


class _Seeded(ISeedSequence):
    """A seed sequence whose 64-bit state words are already known (see :func:`generator`)."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray):
        self.words = words

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        if n_words != _POOL or np.dtype(dtype) != np.uint64:  # pragma: no cover - PCG64's ask
            raise ValueError("seeded for PCG64 only: four 64-bit words")
        return self.words.copy()


def generator(entropy: int, spawn_key: tuple[int, ...]) -> np.random.Generator:
    """``numpy.random.default_rng(SeedSequence(entropy, spawn_key=spawn_key))``, quickly.

    The same PCG64 state, so the same numbers; ``bit_generator.seed_seq`` holds the
    state words rather than the sequence (nothing here spawns from it).
    """
    words = seed_words(entropy_words(entropy, spawn_key))
    return np.random.Generator(np.random.PCG64(_Seeded(words)))

"""numpy's PCG64 stream, stepped in compiled code, with whole runs of it skipped.

A replication draws each child's exit from a block of 26 uniforms
(:func:`placeplan.demand.need.need_exits`) but reads only those up to the January
the child leaves: a child of 15 reads at most 11. Generating the rest costs most of
the draw. Here the stream is stepped in compiled code exactly as numpy's ``PCG64``
steps it (a 128-bit linear congruential state, XSL-RR output, a double from the top
53 bits: the numbers ``Generator.random`` gives), and the unread uniforms of a block
are jumped over in one multiply-add (an LCG advanced by ``d`` steps is again an
LCG, ``s -> A_d s + C_d``), so the generator ends where drawing the whole block
would have left it. Tested against numpy draw for draw.

All arithmetic is on unsigned 64-bit halves (``hi``, ``lo``) modulo 2**128.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["jumps", "next_double", "read_state", "write_state"]

_MULT_HI = np.uint64(2549297995355413924)
_MULT_LO = np.uint64(4865540595714422341)
"""PCG64's default 128-bit multiplier (numpy's ``PCG_DEFAULT_MULTIPLIER_128``), halves."""

_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S64 = np.uint64(64)
_S58 = np.uint64(58)
_S63 = np.uint64(63)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_TO_DOUBLE = 1.0 / 9007199254740992.0


def _halves(value: int) -> tuple[np.uint64, np.uint64]:
    value %= 1 << 128
    return np.uint64(value >> 64), np.uint64(value & ((1 << 64) - 1))


def read_state(rng: np.random.Generator) -> tuple[np.uint64, ...] | None:
    """The state and increment of ``rng``'s PCG64 as halves, or None if it is not PCG64."""
    state = rng.bit_generator.state
    if state.get("bit_generator") != "PCG64":
        return None
    return (*_halves(state["state"]["state"]), *_halves(state["state"]["inc"]))


def write_state(rng: np.random.Generator, hi: np.uint64, lo: np.uint64) -> None:
    """Set ``rng``'s PCG64 state (its increment and 32-bit buffer as they were)."""
    state = rng.bit_generator.state
    state["state"]["state"] = (int(hi) << 64) | int(lo)
    rng.bit_generator.state = state


@njit(cache=True, inline="always")
def _mul(ah, al, bh, bl):  # pragma: no cover - compiled
    """``(ah, al) * (bh, bl)`` modulo 2**128."""
    a0, a1 = al & _M32, al >> _S32
    b0, b1 = bl & _M32, bl >> _S32
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> _S32) + (p01 & _M32) + (p10 & _M32)
    hi = p11 + (p01 >> _S32) + (p10 >> _S32) + (mid >> _S32)
    return hi + ah * bl + al * bh, al * bl


@njit(cache=True, inline="always")
def _add(ah, al, bh, bl):  # pragma: no cover - compiled
    """``(ah, al) + (bh, bl)`` modulo 2**128."""
    lo = al + bl
    carry = _ONE if lo < al else _ZERO
    return ah + bh + carry, lo


@njit(cache=True, inline="always")
def advance(sh, sl, table, d):  # pragma: no cover - compiled
    """The state ``d`` steps on (``table`` from :func:`jumps`)."""
    ph, pl = _mul(table[d, 0], table[d, 1], sh, sl)
    return _add(ph, pl, table[d, 2], table[d, 3])


@njit(cache=True, inline="always")
def next_double(sh, sl, table):  # pragma: no cover - compiled
    """One step of the stream: the new state and the double ``Generator.random`` gives."""
    sh, sl = advance(sh, sl, table, 1)
    x = sh ^ sl
    rot = sh >> _S58
    out = (x >> rot) | (x << ((_S64 - rot) & _S63))
    return sh, sl, np.float64(out >> _S11) * _TO_DOUBLE


@njit(cache=True)
def doubles(sh, sl, table, n):  # pragma: no cover - compiled
    """``n`` doubles of the stream and the state after them (for tests)."""
    out = np.empty(n)
    for i in range(n):
        sh, sl, out[i] = next_double(sh, sl, table)
    return out, sh, sl


@njit(cache=True)
def jumps(inc_hi, inc_lo, most):  # pragma: no cover - compiled
    """``[d, (A_hi, A_lo, C_hi, C_lo)]`` for ``d = 0 … most``: ``d`` steps as one.

    Stepping ``s -> M s + inc`` ``d`` times is ``s -> A_d s + C_d`` with
    ``A_{d+1} = M A_d`` and ``C_{d+1} = M C_d + inc`` (mod 2**128).
    """
    out = np.zeros((most + 1, 4), dtype=np.uint64)
    ah, al, ch, cl = _ZERO, _ONE, _ZERO, _ZERO
    for d in range(most + 1):
        out[d, 0], out[d, 1], out[d, 2], out[d, 3] = ah, al, ch, cl
        ah, al = _mul(_MULT_HI, _MULT_LO, ah, al)
        ch, cl = _mul(_MULT_HI, _MULT_LO, ch, cl)
        ch, cl = _add(ch, cl, inc_hi, inc_lo)
    return out

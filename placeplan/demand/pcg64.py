"""numpy's PCG64 stream, stepped in compiled code: doubles, Poisson counts, jumps.

A replication draws each year's referrals as Poisson counts of each age and need
and a uniform instant for each (:func:`placeplan.demand.referrals._draw_referrals`);
:func:`poisson` draws a count as numpy's ``random_poisson`` does, uniform for uniform,
so the referrals are drawn in one compiled pass with the numbers numpy gives.

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

__all__ = ["jumps", "next_double", "poisson", "read_state", "write_state"]

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


_LOGGAM = np.array(
    [
        8.333333333333333e-02,
        -2.777777777777778e-03,
        7.936507936507937e-04,
        -5.952380952380952e-04,
        8.417508417508418e-04,
        -1.917526917526918e-03,
        6.410256410256410e-03,
        -2.955065359477124e-02,
        1.796443723688307e-01,
        -1.39243221690590e00,
    ]
)
"""The series coefficients of numpy's ``random_loggam`` (Zhang and Jin's SPECFUN)."""

_LOG_2PI = 1.8378770664093453
"""``log(2 pi)`` as numpy's ``random_loggam`` writes it (the double nearest)."""


@njit(cache=True, inline="always", error_model="numpy")
def _loggam(x):  # pragma: no cover - compiled
    """``log Gamma(x)`` computed as numpy's ``random_loggam`` computes it, step for step.

    numpy has written two forms of it (``1 / (x0 * x0)`` or ``(1 / x0) ** 2``;
    ``x < 7`` or ``x <= 7``); for every whole ``x`` from 1 to 200,001 they give the
    same double, and PTRS asks only for whole ones (``k + 1``).
    """
    if x == 1.0 or x == 2.0:
        return 0.0
    n = np.int64(7.0 - x) if x < 7.0 else np.int64(0)
    x0 = x + n
    x2 = (1.0 / x0) * (1.0 / x0)
    gl0 = _LOGGAM[9]
    for k in range(8, -1, -1):
        gl0 *= x2
        gl0 += _LOGGAM[k]
    gl = gl0 / x0 + 0.5 * _LOG_2PI + (x0 - 0.5) * np.log(x0) - x0
    if x < 7.0:
        for _ in range(n):
            gl -= np.log(x0 - 1.0)
            x0 -= 1.0
    return gl


@njit(cache=True, error_model="numpy")
def poisson(sh, sl, table, lam):  # pragma: no cover - compiled
    """One Poisson count drawn from the stream as ``Generator.poisson(lam)`` draws it.

    numpy's ``random_poisson``: 0 for ``lam == 0`` (no draw); below 10, uniforms
    multiplied until their product falls to ``exp(-lam)``; from 10, Hörmann's
    transformed rejection (PTRS), in numpy's arithmetic. Returns the new state and
    the count. ``lam`` must be finite and non-negative (the caller checks).
    """
    if lam >= 10.0:
        slam = np.sqrt(lam)
        loglam = np.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            sh, sl, u = next_double(sh, sl, table)
            sh, sl, v = next_double(sh, sl, table)
            u -= 0.5
            us = 0.5 - np.abs(u)
            k = np.int64(np.floor((2 * a / us + b) * u + lam + 0.43))
            if us >= 0.07 and v <= vr:
                return sh, sl, k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (np.log(v) + np.log(invalpha) - np.log(a / (us * us) + b)) <= (
                -lam + k * loglam - _loggam(np.float64(k + 1))
            ):
                return sh, sl, k
    if lam == 0.0:
        return sh, sl, np.int64(0)
    enlam = np.exp(-lam)
    k = np.int64(0)
    prod = 1.0
    while True:
        sh, sl, u = next_double(sh, sl, table)
        prod *= u
        if prod > enlam:
            k += 1
        else:
            return sh, sl, k


@njit(cache=True)
def poissons(sh, sl, table, lam):  # pragma: no cover - compiled
    """Counts for a flat array of means, in order, as ``Generator.poisson(lam)`` (for tests)."""
    out = np.empty(lam.shape[0], dtype=np.int64)
    for i in range(lam.shape[0]):
        sh, sl, out[i] = poisson(sh, sl, table, lam[i])
    return out, sh, sl

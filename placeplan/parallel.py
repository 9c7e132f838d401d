"""Running replications on dask.distributed (the optional extra `placeplan[dask]`)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from placeplan.errors import InputError

__all__ = ["backend", "dask_calls", "dask_client", "dask_map"]


def dask_map(
    task: Callable[..., Any],
    scenario: Any,
    entropy: int,
    engine: str,
    keep_log: bool,
    chunks: list[tuple[int, int]],
    address: str | None,
    workers: int,
    timeout: float = 10.0,
) -> Iterator[tuple[int, Any]]:
    """Run ``task`` on each chunk of replications on a Dask cluster, yielding as they finish.

    Parameters
    ----------
    task : callable
        ``task(scenario, entropy, engine, keep_log, first, count)``.
    scenario, entropy, engine, keep_log
        Passed to ``task``.
    chunks : list of (int, int)
        First replication and count of each chunk.
    address : str, optional
        A scheduler address; a ``LocalCluster`` of ``workers`` processes if None.
    workers : int
        Worker processes of the local cluster.
    timeout : float
        Seconds to wait for the scheduler at ``address`` to answer [s].

    Yields
    ------
    (int, Any)
        The first replication of a chunk and what ``task`` returned for it.
    """
    call = partial(_chunk, task, scenario, entropy, engine, keep_log)
    yield from dask_calls(call, chunks, address, workers, timeout)


def _chunk(
    task: Callable[..., Any],
    scenario: Any,
    entropy: int,
    engine: str,
    keep_log: bool,
    chunk: tuple[int, int],
) -> tuple[int, Any]:
    first, count = chunk
    return first, task(scenario, entropy, engine, keep_log, first, count)


def dask_calls(
    function: Callable[[Any], Any],
    items: Sequence[Any],
    address: str | None,
    workers: int,
    timeout: float = 10.0,
) -> Iterator[Any]:
    """Yield ``function(item)`` for each item, computed on a Dask cluster, as they finish.

    Parameters
    ----------
    function : callable
        A picklable function of one item.
    items : sequence
        The items (picklable).
    address : str, optional
        A scheduler address; a ``LocalCluster`` of ``workers`` processes if None.
    workers : int
        Worker processes of the local cluster.
    timeout : float
        Seconds to wait for the scheduler at ``address`` to answer [s].

    Yields
    ------
    Any
        What ``function`` returned, in the order the calls finish.
    """
    with dask_client(address, workers, timeout) as client:
        yield from _Dask(client).map_unordered(function, items)


@contextmanager
def dask_client(address: str | None, workers: int, timeout: float = 10.0) -> Iterator[Any]:
    """A ``dask.distributed`` client for the length of a ``with`` block.

    Parameters
    ----------
    address : str, optional
        A scheduler address; a ``LocalCluster`` of ``workers`` processes (one thread
        each) if None, closed with the client.
    workers : int
        Worker processes of the local cluster.
    timeout : float
        Seconds to wait for the scheduler at ``address`` to answer [s].

    Raises
    ------
    InputError
        Without dask.distributed installed, or when no scheduler answers at ``address``.
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError('--dask needs dask.distributed: pip install "placeplan[dask]"') from None
    cluster = None
    if address is None:
        cluster = LocalCluster(
            n_workers=max(workers, 1),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    else:
        client = _connect(Client, address, timeout)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _connect(client_class: Any, address: str, timeout: float) -> Any:
    """A client of the scheduler at ``address``, or InputError if none answers in time.

    A client that failed to connect is collected here, its complaints silenced,
    so that nothing but the message reaches the user.
    """
    if not address.strip():
        raise InputError("--dask: an empty scheduler address")
    try:
        return client_class(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        problem = f"no Dask scheduler answered within {timeout:g} s ({exc})"
    except (ValueError, TypeError) as exc:
        problem = f"not a scheduler address ({exc})"
    except MemoryError:  # a server that is not Dask's sent a nonsense frame length
        problem = "something answered, but not a Dask scheduler"
    _collect_quietly()
    raise InputError(f"--dask {address}: {problem}")


def _collect_quietly() -> None:
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _: None
    try:
        gc.collect()
    finally:
        sys.unraisablehook = hook


class _Serial:
    def map_unordered(self, function: Callable, items: Sequence) -> Iterator:
        for item in items:
            yield function(item)


class _Pool:
    def __init__(self, pool: Any) -> None:
        self.pool = pool

    def map_unordered(self, function: Callable, items: Sequence) -> Iterator:
        from concurrent.futures import as_completed

        futures = [self.pool.submit(function, item) for item in items]
        for future in as_completed(futures):
            yield future.result()


class _Dask:
    def __init__(self, client: Any) -> None:
        self.client = client

    def map_unordered(self, function: Callable, items: Sequence) -> Iterator:
        from dask.distributed import as_completed

        futures = [self.client.submit(function, item, pure=False) for item in items]
        for future in as_completed(futures):
            yield future.result()


@contextmanager
def backend(workers: int = 1, dask: str | bool | None = None, timeout: float = 10.0):
    """Where calls run: here, on a process pool of ``workers``, or on Dask.

    Yields an object with ``map_unordered(function, items)`` (results in the order
    the calls finish), kept for the whole ``with`` block (one pool or one Dask
    client, however many batches). ``dask`` is True for a local cluster of
    ``workers`` processes, or a scheduler address; ``timeout`` [s] is the wait for it.
    Used by national runs and the optimiser.
    """
    if dask:
        with dask_client(None if dask is True else str(dask), workers, timeout) as client:
            yield _Dask(client)
    elif workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield _Pool(pool)
    else:
        yield _Serial()

"""Parse a replay's coming batches in a child process while the warehouse takes the current one.

A replayed batch is two kinds of work that need nothing of each other until it is staged: parsing its
payloads (Python on bytes, a third of a replayed day at real size: docs/performance.md) and the
warehouse's share (rules, GX validation, staging, merge). One child parses the next ``AHEAD`` batches
while this process takes the current one, so a rebuild keeps two cores busy instead of one.

The child only saves time, it decides nothing: each payload is parsed there by the same
``module.parse`` with the same arguments as pipelines.flow would use, and whatever the child cannot give
back (an exception that does not survive pickling, a child that died) is parsed here by flow, as without
a child. The replay's rows, rejects and errors are the same either way.
"""

from __future__ import annotations

import copy
import multiprocessing
import pickle
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

from pipelines.flow import Feed
from sources.base import ParseResult
from sources.http import redact

# Batches parsed ahead of the one being merged: a replayed day is two (token prices, GPU rates), and
# each batch waiting holds its payloads' bodies in memory (a real-size day: ~35 MB verbatim).
AHEAD = 2


@dataclass(frozen=True)
class Batch:
    """One run's payloads of one dataset, replayed together (pipelines.rebuild)."""

    run_id: str
    dataset: str
    feeds: list[Feed]


def refuse_in_a_starting_child() -> None:
    """Raise when this process is a child still importing its parent's script.

    ``spawn`` starts the child by importing the parent's ``__main__`` (as ``__mp_main__``). A script that
    calls ``rebuild()`` outside ``if __name__ == "__main__":`` would call it again there, and that second
    rebuild would remove the fresh file the first is writing. Refused before it touches anything: the
    child then fails to start and the parent parses everything itself (``_submit``, ``_result``)."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError(
            "costcurve rebuild was called while a child process was importing your script; "
            "call it under `if __name__ == '__main__':`"
        )


def parse(
    dataset: str, source: str, body: bytes, observed_at: datetime, origin: str
) -> ParseResult | Exception | None:
    """In the child: the source's ``parse`` of one payload, the exception it raised, or None when that
    exception would not come back whole (then flow parses the payload itself and raises it there)."""
    from pipelines import registry

    try:
        return registry.module_for(dataset, source).parse(body, observed_at=observed_at, origin=origin)
    except Exception as e:
        # Whether it comes back whole, without unpickling here (product code never does: see
        # tests/reliability/test_security.py): it must pickle, and be rebuilt the way unpickling
        # rebuilds it (deepcopy calls the same __reduce_ex__; an exception whose __init__ takes other
        # arguments than its args fails both). One that would not would break the pool.
        try:
            pickle.dumps(e)
            copy.deepcopy(e)
        except Exception:
            return None
        return e


def parsed_ahead(batches: Iterable[Batch]) -> Iterator[Batch]:
    """``batches`` in order, each feed's payloads parsed (``Feed.parsed``) in a child process while the
    caller takes the batches before it. ``batches`` is read ``AHEAD`` batches ahead of what is yielded."""
    coming = iter(batches)
    waiting: deque[tuple[Batch, list[list[Future | None]]]] = deque()
    # spawn, not fork: this process holds DuckDB's and polars' threads, which a fork would copy mid-flight.
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        for batch in coming:
            waiting.append(
                (
                    batch,
                    [[_submit(pool, batch.dataset, feed, p) for p in feed.payloads] for feed in batch.feeds],
                )
            )
            if len(waiting) > AHEAD:
                yield _taken(*waiting.popleft())
        while waiting:
            yield _taken(*waiting.popleft())
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _submit(pool: ProcessPoolExecutor, dataset: str, feed: Feed, payload) -> Future | None:
    try:
        return pool.submit(
            parse, dataset, feed.module.NAME, payload.body, feed.observed_at, redact(payload.url)
        )
    except RuntimeError:  # the child died (BrokenProcessPool): the rest is parsed here
        return None


def _taken(batch: Batch, futures: list[list[Future | None]]) -> Batch:
    feeds = [
        replace(feed, parsed=[_result(f) for f in fs]) for feed, fs in zip(batch.feeds, futures, strict=True)
    ]
    return replace(batch, feeds=feeds)


def _result(future: Future | None) -> ParseResult | Exception | None:
    if future is None:
        return None
    try:
        return future.result()
    except Exception:  # the child could not parse it or send it back: flow parses it here
        return None

"""How a run's .evtx files are read together: cut into batches, and read in the calling thread
while worker threads normalise the batches read before.

One polars query per ~8 MB batch of files instead of one per file pays the fixed polars cost
(planning, materialising: 3-4 ms) per batch. The Rust parser holds the GIL while it builds
record strings and polars releases it, so on two cores the reading runs while the polars work
does. :meth:`analyzer.sources.windows_evtx.WindowsEvtx.parse_many` supplies what reading and
normalising a batch mean; this module only decides the batches and the threads.
"""

from __future__ import annotations

import collections
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ._base import Input

#: Files are normalised together in batches of about this many bytes of .evtx.
BATCH_FILE_BYTES = 8 << 20

#: run_batches reads in the calling thread and normalises in WORKERS - 1 threads, with at most
#: WORKERS batches read and not yet normalised (see there); 1 or OVERLAP False: one by one.
OVERLAP = True
WORKERS = 3

#: sys.setswitchinterval while run_batches' threads run (seconds; Python's default is 0.005).
SWITCH_INTERVAL = 0.0002

Batch = list[tuple[int, Input]]


def _size(item: Input) -> int:
    try:
        return item.size
    except OSError:  # the source's reader reports it
        return 0


def plan_batches(items: list[Input], limit: int | None = None) -> list[Batch]:
    """Cut ``items`` (in order) into batches of whole files of about ``limit``
    (:data:`BATCH_FILE_BYTES`) bytes, each file with its position in ``items``. (Smaller
    batches at the start and end of a run, to shorten the pipeline's unoverlapped head and
    tail, were measured slower: a batch costs ~4 ms of fixed polars work, and one normalised
    while the reader runs waits for the GIL between its queries, ~20 ms even for a few hundred
    records.)"""
    limit = BATCH_FILE_BYTES if limit is None else limit
    batches: list[Batch] = [[]]
    size = 0
    for i, item in enumerate(items):
        if size >= limit:
            batches.append([])
            size = 0
        batches[-1].append((i, item))
        size += _size(item)
    return batches


def run_batches(batches: list[Batch], read: Callable[[Batch], list], normalise: Callable[[list], None]) -> None:
    """``normalise(read(batch))`` for every batch (skipped where ``read`` returns nothing to
    normalise), in a pipeline when :data:`OVERLAP` allows and there is more than one batch
    and core.

    The pipeline: this thread reads batch after batch while the workers normalise the ones
    read before (at most WORKERS batches wait, so memory stays bounded). The parser hands the
    GIL over between slices of records (see ``_evtx_reader.read_records``), and a short switch
    interval makes the hand-over prompt. Two normalising workers rather than one: a batch's
    polars work alternates with short GIL-bound Python steps, and the second worker fills
    those gaps. Measured on the corpus (idle 2-core machine): 0.41 of the bare parser's
    throughput with two threads each reading then normalising, 0.50-0.52 with this pipeline
    (and the classified-only work of winevent), 0.46-0.57 (median about 0.51) with the
    window-based System fields and one normalise query per batch, 0.51-0.59 (median about
    0.55) with one split per window and no test computed twice.
    """
    if not (OVERLAP and WORKERS > 1 and len(batches) > 1 and (os.cpu_count() or 1) > 1):
        for batch in batches:
            got = read(batch)
            if got:
                normalise(got)
        return
    switch = sys.getswitchinterval()
    pending: collections.deque = collections.deque()
    try:
        # the reader holds the GIL for a slice of records at a time; a short switch interval
        # hands it back to a normalising thread as soon as its polars call returns
        sys.setswitchinterval(SWITCH_INTERVAL)
        with ThreadPoolExecutor(max_workers=WORKERS - 1, thread_name_prefix="evtx") as pool:
            for batch in batches:
                got = read(batch)
                if got:
                    pending.append(pool.submit(normalise, got))
                while len(pending) >= WORKERS:
                    pending.popleft().result()
            while pending:
                pending.popleft().result()
    finally:
        sys.setswitchinterval(switch)

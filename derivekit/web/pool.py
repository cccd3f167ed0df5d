"""A bounded pool of worker processes, each job under a hard deadline.

Why processes: a SymPy call cannot be interrupted from another thread, so a request that
runs too long is stopped by killing its process; a fresh one takes its place and the other
requests never wait on it. Why bounded: at most ``size`` jobs run and ``queue`` wait; one
more is refused at once (:class:`Overloaded`, answered 503) rather than piling up.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time

from derivekit.web import worker as worker_module

STARTUP_S = 120.0  # importing SymPy in a fresh process on a loaded machine


class Overloaded(Exception):
    """Every worker is busy and the queue is full."""


class TimedOut(Exception):
    """A job ran past its hard deadline; its worker was killed and replaced."""


class _Worker:
    def __init__(self, context, memory_limit_bytes, niceness):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=worker_module.serve,
                                       args=(child, memory_limit_bytes, niceness),
                                       daemon=True, name="derivekit-web-worker")
        self.process.start()
        child.close()
        self.ready = False
        self.jobs = 0

    def call(self, job, timeout: float) -> dict:
        """Send ``job`` and wait at most ``timeout`` seconds for the answer (a fresh worker's
        start-up, bounded by STARTUP_S, is not charged to the job)."""
        if not self.ready:
            if not self.connection.poll(STARTUP_S) or self.connection.recv() != "ready":
                raise TimedOut
            self.ready = True
        ends = time.monotonic() + timeout
        self.connection.send(job)
        self.jobs += 1
        if not self.connection.poll(max(0.0, ends - time.monotonic())):
            raise TimedOut
        return self.connection.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class WorkerPool:
    """``await pool.run(job)`` runs ``job`` in a worker process; see the module docstring."""

    def __init__(self, size: int = 2, queue: int = 16, hard_deadline_s: float = 15.0,
                 max_jobs_per_worker: int = 500, memory_limit_bytes: int | None = 2 << 30,
                 niceness: int = 0):
        self.size, self.queue_limit = max(1, size), max(0, queue)
        self.hard_deadline_s = hard_deadline_s
        self.max_jobs_per_worker = max_jobs_per_worker
        self.memory_limit_bytes = memory_limit_bytes
        self.niceness = niceness
        self._context = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue | None = None
        self._pending = 0  # running plus waiting
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self.replaced = 0

    def _spawn(self) -> _Worker:
        # one BLAS thread per worker: the workers are the parallelism
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")
        worker = _Worker(self._context, self.memory_limit_bytes, self.niceness)
        with self._lock:
            self._workers.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)

    async def start(self) -> None:
        self._idle = asyncio.Queue()
        for _ in range(self.size):
            self._idle.put_nowait(self._spawn())

    async def close(self) -> None:
        for worker in list(self._workers):
            self._retire(worker)

    @property
    def busy(self) -> int:
        return self._pending

    async def run(self, job) -> dict:
        if self._idle is None:
            await self.start()
        if self._pending >= self.size + self.queue_limit:
            raise Overloaded
        self._pending += 1
        started = time.monotonic()
        try:
            try:
                worker = await asyncio.wait_for(self._idle.get(), self.hard_deadline_s)
            except asyncio.TimeoutError:
                raise Overloaded from None
            left = self.hard_deadline_s - (time.monotonic() - started)
            keep = True
            try:
                return await asyncio.to_thread(worker.call, job, max(left, 0.1))
            except (TimedOut, EOFError, OSError):
                keep = False
                raise TimedOut from None
            except BaseException:  # cancelled while the worker still runs the job
                keep = False
                raise
            finally:
                if not keep or worker.jobs >= self.max_jobs_per_worker or not worker.process.is_alive():
                    self.replaced += 1
                    await asyncio.to_thread(self._retire, worker)
                    worker = self._spawn()
                self._idle.put_nowait(worker)
        finally:
            self._pending -= 1


def is_light(job) -> bool:
    """Whether a job looks cheap: a short input to a quick computation. Cheap-looking jobs
    take the light lane; one that turns out heavy is cut there and redone in the general lane."""
    kind, name, params = job
    if name not in LIGHT_JOBS:
        return False
    texts = [v for v in params.values() if isinstance(v, str)]
    if any(not isinstance(v, (str, int, float)) for v in params.values()):
        return False
    joined = "".join(texts)
    depth = deepest = 0
    for char in joined:
        depth += char in "([{"
        depth -= char in ")]}"
        deepest = max(deepest, depth)
    order = str(params.get("order", "1"))
    return (len(joined) <= 80 and joined.count("^") + joined.count("**") <= 2 and deepest <= 6
            and order in ("1", "2"))


LIGHT_JOBS = {"derive", "grad", "check", "derive_page", "preview", "dot", "matmul", "det", "inv",
              "rank", "transpose"}


class Lanes:
    """Two pools: a small light lane for cheap-looking jobs, with a short deadline, and the
    general lane at a lower CPU priority (``nice``) for everything else. So a quick request
    is not stuck behind heavy ones, even on two cores."""

    def __init__(self, general: WorkerPool, light: WorkerPool):
        self.general, self.light = general, light

    @property
    def hard_deadline_s(self) -> float:
        return self.general.hard_deadline_s

    @property
    def size(self) -> int:
        return self.general.size

    @property
    def busy(self) -> int:
        return self.general.busy + self.light.busy

    async def start(self) -> None:
        await self.light.start()
        await self.general.start()

    async def close(self) -> None:
        await self.light.close()
        await self.general.close()

    async def run(self, job) -> dict:
        if is_light(job):
            try:
                return await self.light.run(job)
            except (TimedOut, Overloaded):
                pass  # it was not light after all, or the lane is full: the general lane decides
        return await self.general.run(job)

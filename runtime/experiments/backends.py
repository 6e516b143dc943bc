"""Where a sweep's runs execute: worker processes on this machine, or Ray tasks.

Both run the same function, :func:`run_task`, which trains one run into its run
directory, starting it or resuming it from its checkpoints, and returns how it ended
(never raising for a problem HAMLET explains). The driver (:mod:`.sweep`) is the same for
both: it starts runs while a backend has free slots, collects how they ended, and asks the
backend to stop them cleanly on Ctrl-C.

Ray: the sweep folder must be on a filesystem every node sees (NFS, a cluster's shared
home). The runs write their checkpoints and databases there as they go, which is what
lets an interrupted sweep resume each run where it stopped, wherever it runs next;
returning results to the driver only at the end would lose an interrupted run's work.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Protocol

from hamlet.schemas.errors import Diagnostic, HamletError, RunError
from hamlet.schemas.override import override_texts

from .extras import require


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep: everything a worker needs, and nothing it cannot pickle."""

    id: str
    pack: str
    """The pack's folder (absolute)."""
    seed: int
    settings: dict[str, Any]
    """The run's ``--set`` overrides."""
    out: str
    """Where its pack's folder of runs is: the run is ``out/<pack name>/<id>``."""
    run_dir: str
    """The run directory (absolute): ``out/<pack name>/<id>``."""
    episodes: int | None = None
    agent_steps: int | None = None
    minutes: float | None = None
    agents: int | None = None
    """None: the pack's ``run.agents``."""
    device: str = "cpu"
    max_memory: int | None = None


def run_task(task: RunTask) -> dict[str, Any]:
    """Train ``task``'s run to its budget, resuming it if it has a checkpoint; returns
    ``{"status": finished|interrupted|failed, ...}``. Runs in a worker."""
    import torch

    from hamlet.runtime.runs import BudgetSpent, RunDirectory, RunOptions, read_state, run_training

    torch.set_num_threads(1)  # one core per run: the workers share the machine
    run_dir = Path(task.run_dir)
    budget = {"episodes": task.episodes, "agent_steps": task.agent_steps, "minutes": task.minutes}
    limit: dict[str, Any] = {} if task.max_memory is None else {"max_memory": task.max_memory}
    limit["learner"] = "inline"  # (a second process would take another run's core)
    try:
        started = run_dir.is_dir() and RunDirectory(run_dir).training_checkpoints()
        if started and read_state(run_dir / "metrics.sqlite").get("status") == "completed":
            return {"status": "finished", "note": "finished before"}
        if started:
            options = RunOptions(resume=run_dir, device=task.device, **budget, **limit)
        else:
            if run_dir.exists():  # begun, but killed before its first checkpoint
                import shutil

                shutil.rmtree(run_dir)
            options = RunOptions(
                pack=task.pack, seed=task.seed, agents=task.agents, device=task.device,
                out=task.out, name=task.id, overrides=override_texts(task.settings),
                **budget, **limit,
            )  # fmt: skip
        result = run_training(options)
    except BudgetSpent:  # killed after its last checkpoint, before it could say so
        return {"status": "finished", "note": "its budget was spent before"}
    except HamletError as error:
        first = error.errors[0]
        return {"status": "failed", "code": first.code, "error": first.message}
    except Exception:  # a bug, not the user's doing: keep it for the report
        return {"status": "failed", "code": None, "error": traceback.format_exc(limit=8)}
    status = "interrupted" if result.interrupted else "finished"
    return {"status": status, "episodes": result.episodes, "env_steps": result.env_steps}


class Backend(Protocol):
    """What the sweep's driver needs of a place to run."""

    slots: int
    """Runs it can run at once."""

    def start(self, task: RunTask) -> None: ...

    def ended(self, timeout: float) -> list[tuple[str, dict[str, Any]]]:
        """``(task id, outcome)`` of the runs that ended, waiting up to ``timeout``."""
        ...

    def stop(self) -> None:
        """Ask every running run to stop cleanly (a final checkpoint, then it ends)."""
        ...

    def close(self) -> None: ...


# --- worker processes on this machine --------------------------------------------------


def _work(tasks: Connection, results: Any) -> None:
    """A worker: runs the tasks the driver sends it, one after another, until told to stop
    (``None``) or its driver is gone."""
    # Ctrl-C reaches the whole process group: the driver decides, and stops a busy worker
    # with SIGTERM, which a run takes as "save and stop" (an idle one simply ends).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _stop_with_the_driver()
    while True:
        try:
            task = tasks.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        results.put((task.id, run_task(task)))


def _stop_with_the_driver() -> None:
    """A driver killed outright (kill -9) cannot stop its runs: each worker notices that
    its parent is gone and stops its run as Ctrl-C would (a final checkpoint), so that no
    run goes on unwatched while the next driver resumes it."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="driver-watch").start()


@dataclass
class _Worker:
    process: BaseProcess
    tasks: Connection
    task: str | None = None
    """The id of the run it is training (None: idle)."""


class LocalBackend:
    """``workers`` worker processes (spawned: clean interpreters, torch with one thread
    each), each training one run at a time; a worker lives for the whole sweep, so a run
    does not pay for starting Python and PyTorch."""

    def __init__(self, workers: int) -> None:
        self.slots = workers
        self.context = multiprocessing.get_context("spawn")
        self.results = self.context.Queue()
        self.workers: list[_Worker] = []

    def start(self, task: RunTask) -> None:
        idle = next((w for w in self.workers if w.task is None), None)
        if idle is None:
            receive, send = self.context.Pipe(duplex=False)
            process = self.context.Process(target=_work, args=(receive, self.results))
            process.start()
            idle = _Worker(process, send)
            self.workers.append(idle)
        idle.tasks.send(task)
        idle.task = task.id

    def ended(self, timeout: float) -> list[tuple[str, dict[str, Any]]]:
        done = []
        try:
            done.append(self.results.get(timeout=timeout))
            while True:
                done.append(self.results.get_nowait())
        except queue.Empty:
            pass
        for task_id, _ in done:
            next(w for w in self.workers if w.task == task_id).task = None
        for worker in list(self.workers):
            if worker.task is not None and not worker.process.is_alive():
                # dead without a word: killed (-9), out of memory, or it crashed
                why = f"its worker process ended with code {worker.process.exitcode}"
                done.append((worker.task, {"status": "failed", "code": None, "error": why}))
                self.workers.remove(worker)
        return done

    def stop(self) -> None:
        for worker in self.workers:
            pid = worker.process.pid
            if worker.task is not None and pid is not None and worker.process.is_alive():
                os.kill(pid, signal.SIGTERM)

    def close(self) -> None:
        for worker in self.workers:
            if worker.process.is_alive():
                with contextlib.suppress(OSError):
                    worker.tasks.send(None)
        for worker in self.workers:
            worker.process.join(timeout=60)
            if worker.process.is_alive():
                worker.process.terminate()


# --- Ray ---------------------------------------------------------------------------------


class RayBackend:
    """Ray tasks (one CPU each, or one GPU for a run on cuda), on the cluster at
    ``address`` or on a Ray started here."""

    def __init__(self, address: str | None, workers: int | None, device: str) -> None:
        ray = require("ray", "cluster", "--backend ray", "--backend")
        self.ray = ray
        self.started = not ray.is_initialized()
        quiet = {"ignore_reinit_error": True, "log_to_driver": False, "logging_level": "WARNING"}
        try:
            if address is not None:
                ray.init(address=address, **quiet)
            else:
                ray.init(num_cpus=workers, include_dashboard=False, **quiet)
        except Exception as error:  # connection refused, no cluster at the address, ...
            raise RunError(
                Diagnostic(
                    "E310",
                    f"cannot reach a Ray cluster at {address or 'this machine'}: {error}",
                    hint="start one with `ray start --head` (see docs/EXPERIMENTS.md), or give "
                    "its address with --address",
                    file="<command line>",
                    path="--address",
                )
            ) from None
        gpu = device.startswith("cuda")
        resource = "GPU" if gpu else "CPU"
        available = int(ray.cluster_resources().get(resource, 0))
        self.slots = max(1, min(available, workers) if workers else available)
        options = {"num_gpus": 1, "num_cpus": 1} if gpu else {"num_cpus": 1}
        self.remote = ray.remote(**options)(run_task)
        self.refs: dict[Any, str] = {}

    def start(self, task: RunTask) -> None:
        self.refs[self.remote.remote(task)] = task.id

    def ended(self, timeout: float) -> list[tuple[str, dict[str, Any]]]:
        if not self.refs:
            return []
        ready, _ = self.ray.wait(list(self.refs), num_returns=len(self.refs), timeout=timeout)
        done = []
        for ref in ready:
            task_id = self.refs.pop(ref)
            try:
                done.append((task_id, self.ray.get(ref)))
            except self.ray.exceptions.TaskCancelledError:
                done.append((task_id, {"status": "interrupted"}))
            except Exception as error:  # the worker died (node lost, out of memory)
                done.append((task_id, {"status": "failed", "code": None, "error": str(error)}))
        return done

    def stop(self) -> None:
        for ref in self.refs:
            self.ray.cancel(ref)  # a KeyboardInterrupt in the run: it saves and stops

    def close(self) -> None:
        if self.started:  # a Ray this sweep started ends with it; one given is left alone
            self.ray.shutdown()

"""Intent -> skill routing, and calling a skill behind one executor protocol, with failure counting.

Two executors: built-in skills run in a thread of the assistant (trusted code, no process hop);
third-party skills run in their own sandboxed worker process. Either way a call is bounded by the
skill timeout, and whatever the skill wrote to the store commits only if it answered in time: a
late answer is thrown away with its writes, so "Sorry, I couldn't do that" is true.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from assistant.errors import AssistantError, SkillCrashed, SkillTimedOut
from assistant.sdk import Context, Reply, Request
from assistant.skills.isolation import Recorder, SkillWorker
from assistant.skills.registry import LoadedSkill
from assistant.skills.state import SkillStates
from assistant.store import Catalog, Database

log = logging.getLogger(__name__)

FAILURES_BEFORE_DISABLE = 3
"""A third-party skill that fails this many times in a row is switched off."""
BUSY_SHARE = 0.8
"""Of a skill's time limit, how long its call waits for a store another writer holds; then the user
hears that the database is busy (the truth) rather than that the skill failed."""


class Executor(Protocol):
    """Runs one handler of one skill and returns its reply, or raises a SkillError."""

    def call(
        self, method: str, request: Request, data: dict | None, ctx: Context, timeout: float, record: Recorder | None
    ) -> Any: ...

    def stop(self) -> None: ...


class _Abandoned(Exception):
    """The caller stopped waiting: roll the handler's writes back."""


@dataclass
class _CallState:
    lock: threading.Lock
    finished: bool = False
    abandoned: bool = False


class InThread:
    """A built-in skill's handler in a thread of this process, inside one store transaction."""

    def __init__(self, loaded: LoadedSkill, db: Database) -> None:
        self.loaded = loaded
        self.db = db

    def call(
        self, method: str, request: Request, data: dict | None, ctx: Context, timeout: float, record: Recorder | None
    ) -> Any:
        fn = getattr(self.loaded.skill, method)
        state = _CallState(threading.Lock())
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                # wait for a busy store only while the user would still hear the answer
                with self.db.transaction(busy_timeout=timeout * BUSY_SHARE):
                    reply = fn(ctx, request, data) if data is not None else fn(ctx, request)
                    with state.lock:
                        if state.abandoned:
                            raise _Abandoned
                        state.finished = True
                result["reply"] = reply
            except _Abandoned:
                log.warning("skill '%s' answered after its deadline; its changes were rolled back", self.loaded.name)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                result["error"] = exc
            finally:
                self.db.release_thread()

        thread = threading.Thread(target=run, name=f"skill-{self.loaded.name}", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            with state.lock:
                if not state.finished:
                    state.abandoned = True
            if state.abandoned:
                raise SkillTimedOut(f"skill '{self.loaded.name}' did not answer within {timeout:.1f} s")
            thread.join()  # it answered in time and is committing
        if "error" in result:
            error = result["error"]
            if isinstance(error, SystemExit):
                raise SkillCrashed(f"skill '{self.loaded.name}' called sys.exit({error.code})")
            raise error
        return result.get("reply")

    def stop(self) -> None:
        pass


class InWorker:
    """A skill in its own (sandboxed) process; capability calls come back to this process."""

    def __init__(self, worker: SkillWorker, db: Database) -> None:
        self.worker = worker
        self.db = db
        self._lock = threading.Lock()  # one call at a time down one worker's pipe

    def call(
        self, method: str, request: Request, data: dict | None, ctx: Context, timeout: float, record: Recorder | None
    ) -> Any:
        if ctx._storage_ready is not None:  # the worker may use the folder: erasures heard elsewhere first
            ctx._storage_ready()
        with self._lock, self.db.transaction(busy_timeout=timeout * BUSY_SHARE):
            # the worker's capability calls run here, in this transaction: a timeout raises and
            # rolls them back with it
            return self.worker.call(
                method,
                request,
                data,
                ctx.conversation,
                ctx.shop,
                ctx.skills,
                ctx._caps,
                timeout,
                record,
                memory=ctx.memory,
                storage=ctx._storage,
            )

    def stop(self) -> None:
        self.worker.stop()


class Dispatcher:
    """The enabled skills: who handles which intent, and the one way to call a handler."""

    def __init__(
        self,
        skills: list[LoadedSkill],
        disabled: list[LoadedSkill],
        db: Database,
        isolation: str,
        *,
        allow_unsandboxed: bool = False,
    ) -> None:
        self.db = db
        self.states = SkillStates(db)
        self.skills = list(skills)
        self.disabled = list(disabled)
        self.by_name = {s.name: s for s in self.skills}
        self.executors: dict[str, Executor] = {}
        self._lock = threading.Lock()
        for loaded in self.skills:
            # third-party code never runs in this process, whatever the setting says
            if not loaded.builtin or (isolation == "all" and loaded.target):
                # products a skill names are read again from the store itself, not through (and logged as)
                # the skill's own catalogue access
                worker = SkillWorker(loaded, db.data_dir, allow_unsandboxed=allow_unsandboxed, catalog=Catalog(db))
                worker.start_in_background()
                self.executors[loaded.name] = InWorker(worker, db)
            else:
                self.executors[loaded.name] = InThread(loaded, db)
        self.routes: dict[str, LoadedSkill] = {}
        self._route()
        self._failures: dict[str, int] = {}
        """Failures in a row, by skill: a third-party skill is switched off at FAILURES_BEFORE_DISABLE."""

    def _route(self) -> None:
        """Intent -> skill. On a clash a built-in keeps its intent, else the first by name; both logged."""
        routes: dict[str, LoadedSkill] = {}
        for loaded in sorted(self.skills, key=lambda s: (not s.builtin, s.name)):
            for intent_name in loaded.intents:
                owner = routes.get(intent_name)
                if owner is not None:
                    log.warning(
                        "skills '%s' and '%s' both handle intent '%s'; '%s' keeps it",
                        owner.name,
                        loaded.name,
                        intent_name,
                        owner.name,
                    )
                    continue
                routes[intent_name] = loaded
        self.routes = routes

    def described(self) -> list[tuple[str, str]]:
        return [(s.name, s.description) for s in self.skills if s.description]

    def call(
        self,
        loaded: LoadedSkill,
        method: str,
        request: Request,
        data: dict | None,
        ctx: Context,
        timeout: float,
        record: Recorder | None = None,
    ) -> Reply:
        """Run a handler; a skill's failure raises SkillError naming it (a store failure, StoreError).
        ``record`` hears of each capability call the skill makes (the access log)."""
        executor = self.executors.get(loaded.name)
        if executor is None:
            raise SkillCrashed(f"skill '{loaded.name}' is switched off")
        try:
            reply = executor.call(method, request, data, ctx, timeout, record)
        except AssistantError:
            raise
        except Exception as exc:  # noqa: BLE001 - a skill's own bug
            raise SkillCrashed(f"skill '{loaded.name}' failed: {type(exc).__name__}: {exc}") from exc
        if not isinstance(reply, Reply) or not isinstance(reply.speech, str):
            raise SkillCrashed(f"skill '{loaded.name}' returned {type(reply).__name__} instead of a Reply")
        return reply

    def failed(self, loaded: LoadedSkill) -> Reply:
        """A call of ``loaded`` failed: the apology, and a third-party skill failing again and again is switched off."""
        with self._lock:
            count = self._failures.get(loaded.name, 0) + 1
            self._failures[loaded.name] = count
        apology = f"Sorry, the {loaded.name} skill had a problem, so I couldn't do that. Everything else still works."
        if count >= FAILURES_BEFORE_DISABLE and not loaded.builtin:
            self.disable(loaded.name, f"failed {count} times in a row")
            apology += (
                f" It kept failing, so I've switched it off; 'assistant skills enable {loaded.name}' turns it back on."
            )
        return Reply(apology)

    def succeeded(self, loaded: LoadedSkill) -> None:
        with self._lock:
            self._failures.pop(loaded.name, None)

    def disable(self, name: str, reason: str) -> None:
        with self._lock:
            loaded = self.by_name.pop(name, None)
            if loaded is None:
                return
            self.skills.remove(loaded)
            self.disabled.append(loaded)
            self.states.set(name, False, reason)
            executor = self.executors.pop(name, None)
            self._route()
        if executor is not None:
            executor.stop()
        log.error("skill '%s' disabled: %s", name, reason)

    def close(self) -> None:
        for executor in list(self.executors.values()):
            executor.stop()

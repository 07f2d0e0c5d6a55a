"""Where there is no sandbox, third-party skills are refused unless the user opts in; in it, a skill sees only itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.errors import SkillError
from assistant.sdk import Conversation, Request, ShopInfo
from assistant.skills.isolation import SkillWorker
from assistant.skills.registry import LoadedSkill, discover
from assistant.skills.sandbox import bwrap_available, sandbox_args
from tests.sandboxed import needs_sandbox

SHOP = ShopInfo("GBP", True, None, "Home", 1, 10, 3)


@pytest.fixture
def skills(with_skills: Path) -> dict[str, LoadedSkill]:
    return {s.name: s for s in discover()[0]}


@pytest.fixture
def no_bwrap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # as on a machine without bubblewrap
    bwrap_available.cache_clear()
    yield
    bwrap_available.cache_clear()


def _call(worker: SkillWorker, intent: str) -> str:
    method = worker.loaded.intents[intent]
    return worker.call(method, Request(intent, "{}"), None, Conversation(), SHOP, [], {}, 5.0).speech


def test_built_in_skills_match_their_manifests(skills):
    _, problems = discover()
    assert [p for p in problems if p.source == "shopper-assistant"] == []
    builtin = {n for n, s in skills.items() if s.builtin}
    assert {"cart", "conversation", "orders", "privacy", "recommend", "search"} <= builtin
    assert skills["cart"].skill is not None and skills["recipes"].skill is None  # only built-ins are imported


def test_without_a_sandbox_a_third_party_skill_is_refused_in_one_line(skills, tmp_path, no_bwrap):
    worker = SkillWorker(skills["shouter"], tmp_path)
    with pytest.raises(SkillError) as refused:
        _call(worker, "shout")
    message = str(refused.value)
    assert "'shouter'" in message and "skills_unsandboxed: true" in message and "\n" not in message
    assert not worker.alive()


def test_a_bwrap_that_cannot_create_namespaces_is_no_sandbox(skills, tmp_path, monkeypatch):
    """As on a kernel without unprivileged user namespaces, or under qemu-user: bwrap is there but fails."""
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: Creating new namespace failed: Operation not permitted' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    bwrap_available.cache_clear()
    try:
        reason = bwrap_available()
        worker = SkillWorker(skills["shouter"], tmp_path / "data")
        with pytest.raises(SkillError) as refused:
            _call(worker, "shout")
    finally:
        bwrap_available.cache_clear()
    assert (
        reason
        == "bubblewrap cannot create namespaces here: bwrap: Creating new namespace failed: Operation not permitted"
    )
    assert reason in str(refused.value) and "\n" not in str(refused.value)


def test_the_user_may_opt_in_to_running_it_unsandboxed(skills, tmp_path, no_bwrap, caplog):
    worker = SkillWorker(skills["shouter"], tmp_path, allow_unsandboxed=True)
    try:
        assert _call(worker, "shout") == "I shouted."
        assert "WITHOUT a sandbox" in caplog.text  # said loudly, in the log
        deadline = time.monotonic() + 3
        while "JUNK-IN-CALL" not in worker.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "JUNK-IN-CALL" in worker.output()  # its output is still captured, not printed
    finally:
        worker.stop()


@needs_sandbox
def test_a_skill_sees_no_other_skill_code(skills, tmp_path):
    worker = SkillWorker(skills["snoop"], tmp_path)
    try:
        seen = _call(worker, "neighbours").split()
    finally:
        worker.stop()
    assert "hostile_secrets" in seen
    assert not {"hostile_db", "recipes_skill", "misbehaving_skill"} & set(seen)


def test_other_skills_in_the_shared_site_packages_are_covered(skills, tmp_path):
    import yaml

    # a skill pip-installed into the assistant's own site-packages, which the sandbox binds read-only
    other = Path(yaml.__file__).parent
    args = sandbox_args(skills["snoop"], frozenset(), tmp_path, hide=[other, skills["snoop"].package_dir])
    assert str(other.parent) in args  # the shared folder is bound...
    covered = [args[i + 1] for i, a in enumerate(args) if a == "--tmpfs"]
    assert str(other) in covered  # ...with the other skill's folder covered by an empty one
    assert str(skills["snoop"].package_dir) not in covered
    assert args[args.index("--bind") + 1] == str(tmp_path)  # and the one writable folder is its storage


@needs_sandbox
def test_the_access_log_holds_the_skills_calls_not_the_cores_checks(skills, tmp_path):
    from assistant.nlu.parse import Entity
    from assistant.skills.access_log import AccessLog, logged_capabilities
    from assistant.skills.capabilities import CartAccess, CatalogAccess
    from assistant.store import Catalog, Database, Orders, ensure_demo

    db = Database(tmp_path / "data")
    ensure_demo(db, "me")
    orders, catalog = Orders(db, "me"), CatalogAccess(Catalog(db))
    access = AccessLog(db)
    caps = logged_capabilities({"catalog": catalog, "cart": CartAccess(orders)}, "recipes", access, "me")
    worker = SkillWorker(skills["recipes"], tmp_path / "data", catalog=catalog)
    request = Request("add_recipe", "add what I need for porridge", 1.0, (Entity("dish", "porridge", 0, 1),))
    try:
        worker.call("add_recipe", request, None, Conversation(), SHOP, [], caps, 10.0)
    finally:
        worker.stop()
        db.close()
    # porridge: 3 searches, 3 additions, one basket read; the core re-reading each product it was handed is not the skill's doing
    used = sorted(f"{e.capability}.{e.method}" for e in AccessLog(db).entries("recipes"))
    assert used == ["cart.add"] * 3 + ["cart.lines"] + ["catalog.search"] * 3


@needs_sandbox
def test_a_worker_started_in_the_background_is_still_there_for_the_first_request(skills, tmp_path):
    worker = SkillWorker(skills["shouter"], tmp_path)
    try:
        worker.start_in_background()
        assert worker._starting is not None
        worker._starting.join()
        started = worker.pid
        time.sleep(0.7)  # its starting thread has long ended
        assert worker.alive()
        assert _call(worker, "shout") == "I shouted."
        assert worker.pid == started  # served by the worker started at start-up, not a second one
    finally:
        worker.stop()

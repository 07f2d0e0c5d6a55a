"""Shared fixtures: one trained NLU model per test run, a fresh store per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    # trained models are cached for the whole run; no test touches the user's real data
    os.environ.setdefault("ASSISTANT_MODEL_CACHE", str(tmp_path_factory.mktemp("models")))
    os.environ["ASSISTANT_DATA_DIR"] = str(tmp_path_factory.mktemp("default-data"))
    os.environ["ASSISTANT_CONFIG"] = str(REPO / "config.yml")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("SHOPPER_TEST_STORE", "sqlite"),
        help="the store engine the tests run on (postgresql: a throwaway server, a new database per test)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: a test of the SQLite file itself (skipped on PostgreSQL)")
    config.addinivalue_line("markers", "shared_store: the module's tests share one store (a module-wide fixture's)")


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest):
    from tests.postgres import installed, running

    if not installed():
        message = "PostgreSQL (Debian's postgresql) is installed by scripts/setup.sh --test"
        if request.config.getoption("--store") == "postgresql":
            pytest.fail(f"--store postgresql, but it is not here: {message}")
        pytest.skip(message)
    with running() as server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def _module_store(request: pytest.FixtureRequest):
    """A module marked ``shared_store`` (its store made by a module-wide fixture: a hub process, one App)
    has one PostgreSQL database for all its tests, set before that fixture runs."""
    if request.config.getoption("--store") != "postgresql" or not request.node.get_closest_marker("shared_store"):
        yield None
        return
    patch = pytest.MonkeyPatch()
    url = request.getfixturevalue("postgres_server").database()
    patch.setenv("ASSISTANT_STORE_URL", url)
    yield url
    patch.undo()


@pytest.fixture(autouse=True)
def _store_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, _module_store) -> None:
    """On ``--store postgresql`` every store the test opens is a new PostgreSQL database of its own
    (or its module's, for a module marked ``shared_store``)."""
    if request.config.getoption("--store") != "postgresql":
        return
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("a test of the SQLite engine")
    url = _module_store or request.getfixturevalue("postgres_server").database()
    monkeypatch.setenv("ASSISTANT_STORE_URL", url)


@pytest.fixture
def chat(tmp_path: Path):
    from assistant.testing import Chat

    with Chat(tmp_path / "data") as c:
        yield c

"""The store package owns every table: no module outside it writes SQL or holds an engine's types."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import assistant

PACKAGE = Path(assistant.__file__).parent
SQL = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT INTO|UPDATE \w+ SET|DELETE FROM|(CREATE|DROP|ALTER) (TABLE|INDEX)|PRAGMA \w+)\b",
    re.DOTALL,
)
ENGINES = {"sqlite3", "psycopg", "psycopg_pool"}


def _outside_store() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if PACKAGE / "store" not in p.parents]


def test_no_module_outside_the_store_writes_sql_or_imports_an_engine():
    found = []
    for path in _outside_store():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: SQL {node.value[:40]!r}")
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                found += [
                    f"{path.relative_to(PACKAGE)}:{node.lineno}: imports {n}"
                    for n in names
                    if n.split(".")[0] in ENGINES
                ]
    assert not found, "\n".join(found)

"""The database that holds the catalogue, baskets, orders, lists and the household: an SQLite file in the
data directory (the default) or a PostgreSQL server (``store.url``), behind one API."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import platformdirs

from assistant.errors import StoreBusy, StoreCorrupt, StoreError, StoreFull, StoreReadOnly
from assistant.store import postgres

log = logging.getLogger(__name__)

SCHEMA_VERSION = 9
BUSY_TIMEOUT = 5.0
"""Seconds a write waits for another writer (another device, process or conversation) to finish."""
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    brand TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL,
    size TEXT NOT NULL DEFAULT '',
    price_pence INTEGER NOT NULL CHECK (price_pence > 0),
    description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS cart_items (
    user_id INTEGER NOT NULL REFERENCES users(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    added_at TEXT NOT NULL DEFAULT (datetime('now')),
    PRIMARY KEY (user_id, product_id)
);
-- the checkout tokens of the first schema; quotes replaced them
DROP TABLE IF EXISTS checkouts;
CREATE TABLE IF NOT EXISTS basket_versions (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    token TEXT UNIQUE,
    status TEXT NOT NULL DEFAULT 'placed',
    total_pence INTEGER NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    placed_at TEXT NOT NULL DEFAULT (datetime('now')),
    deliver_on TEXT
);
CREATE INDEX IF NOT EXISTS orders_user ON orders(user_id, placed_at);
CREATE TABLE IF NOT EXISTS quotes (
    token TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    conversation TEXT NOT NULL,
    lines TEXT NOT NULL, -- JSON [[product_id, quantity, price_pence], ...]
    total_pence INTEGER NOT NULL,
    basket_version INTEGER,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'placed', 'cancelled', 'changed')),
    order_id INTEGER REFERENCES orders(id)
);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    price_pence INTEGER NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX IF NOT EXISTS order_lines_product ON order_lines(product_id);
CREATE TABLE IF NOT EXISTS suggestions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    signal TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS transcripts (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    text TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
"""
SQLITE_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS products_fts USING fts5(
    name, brand, category, description,
    content='products', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS products_ai AFTER INSERT ON products BEGIN
    INSERT INTO products_fts(rowid, name, brand, category, description)
    VALUES (new.id, new.name, new.brand, new.category, new.description);
END;
CREATE TRIGGER IF NOT EXISTS products_ad AFTER DELETE ON products BEGIN
    INSERT INTO products_fts(products_fts, rowid, name, brand, category, description)
    VALUES ('delete', old.id, old.name, old.brand, old.category, old.description);
END;
CREATE TRIGGER IF NOT EXISTS products_au AFTER UPDATE ON products BEGIN
    INSERT INTO products_fts(products_fts, rowid, name, brand, category, description)
    VALUES ('delete', old.id, old.name, old.brand, old.category, old.description);
    INSERT INTO products_fts(rowid, name, brand, category, description)
    VALUES (new.id, new.name, new.brand, new.category, new.description);
END;
-- every basket write, from any code path or process, moves the version on, so a quote can tell
CREATE TRIGGER IF NOT EXISTS cart_items_version_ai AFTER INSERT ON cart_items BEGIN
    INSERT INTO basket_versions(user_id, version) VALUES (new.user_id, 1)
    ON CONFLICT(user_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER IF NOT EXISTS cart_items_version_au AFTER UPDATE ON cart_items BEGIN
    INSERT INTO basket_versions(user_id, version) VALUES (new.user_id, 1)
    ON CONFLICT(user_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER IF NOT EXISTS cart_items_version_ad AFTER DELETE ON cart_items BEGIN
    INSERT INTO basket_versions(user_id, version) VALUES (old.user_id, 1)
    ON CONFLICT(user_id) DO UPDATE SET version = version + 1;
END;
"""
"""SQLite's own: FTS5 search over the products and the triggers that keep it and the basket versions
(postgres.SEARCH_SCHEMA is the same on PostgreSQL)."""


def _satellite_owner(conn: Connection) -> None:
    """A satellite's member was a row of the hub's devices, keyed by name: pairing or revoking a hub
    device of the same name changed whom the satellite spoke for. A table that old (SQLite only: it
    predates PostgreSQL) gets a column of its own."""
    if conn.engine != "sqlite":
        return
    columns = {row[1] for row in conn.execute("PRAGMA table_info(wyoming_satellites)")}
    if "user" not in columns:
        conn.execute('ALTER TABLE wyoming_satellites ADD COLUMN "user" TEXT')
        conn.execute(
            'UPDATE wyoming_satellites SET "user" = ('
            " SELECT u.name FROM devices d JOIN users u ON u.id = d.user_id WHERE d.name = wyoming_satellites.name)"
        )


MIGRATIONS: dict[int, tuple[str | Callable[[Connection], None], ...]] = {
    # 2: the shopping lists; user_id NULL is the household's list, else that member's own
    2: (
        """CREATE TABLE IF NOT EXISTS list_items (
            id INTEGER PRIMARY KEY,
            user_id INTEGER REFERENCES users(id),
            name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            key TEXT NOT NULL,
            quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity > 0),
            note TEXT NOT NULL DEFAULT '',
            added_by INTEGER REFERENCES users(id),
            added_at TEXT NOT NULL DEFAULT (datetime('now')),
            ticked_at TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS list_items_owner ON list_items(user_id, key)",
    ),
    # 3: price watches, the products each one covers, and the news they made, said once
    3: (
        """CREATE TABLE IF NOT EXISTS watches (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            query TEXT NOT NULL,
            below_pence INTEGER CHECK (below_pence IS NULL OR below_pence > 0),
            created_at TEXT NOT NULL DEFAULT (datetime('now'))
        )""",
        """CREATE TABLE IF NOT EXISTS watch_products (
            watch_id INTEGER NOT NULL REFERENCES watches(id) ON DELETE CASCADE,
            product_id INTEGER NOT NULL REFERENCES products(id),
            PRIMARY KEY (watch_id, product_id)
        )""",
        "CREATE INDEX IF NOT EXISTS watch_products_product ON watch_products(product_id)",
        """CREATE TABLE IF NOT EXISTS price_news (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            watch_id INTEGER REFERENCES watches(id) ON DELETE SET NULL,
            product_id INTEGER NOT NULL REFERENCES products(id),
            old_pence INTEGER NOT NULL,
            new_pence INTEGER NOT NULL,
            below_pence INTEGER,
            created_at TEXT NOT NULL DEFAULT (datetime('now')),
            said_at TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS price_news_unsaid ON price_news(user_id, said_at)",
    ),
    # 4: which skills are switched on and what the user agreed each may do, one row a skill (was
    # skills.json, rewritten whole by whichever process wrote last: a grant made by `skills enable`
    # while the hub ran was lost when the hub switched a failing skill off)
    4: (
        """CREATE TABLE IF NOT EXISTS skill_states (
            name TEXT PRIMARY KEY,
            enabled INTEGER NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            version TEXT,
            permissions TEXT,
            granted_at TEXT
        )""",
    ),
    # 5: the tables the household, the hub's pairing and Wyoming made for themselves, outside the
    # schema's version; now the store's, on either engine ("user" is quoted: PostgreSQL reserves it)
    5: (
        """CREATE TABLE IF NOT EXISTS members (
            user_id INTEGER PRIMARY KEY REFERENCES users(id),
            code_hash TEXT,
            code_salt TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE IF NOT EXISTS code_failures (
            user_id INTEGER NOT NULL REFERENCES users(id),
            door TEXT NOT NULL,
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, door)
        )""",
        """CREATE TABLE IF NOT EXISTS devices (
            name TEXT PRIMARY KEY,
            user_id INTEGER REFERENCES users(id)
        )""",
        """CREATE TABLE IF NOT EXISTS hub_tokens (
            device TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            created REAL NOT NULL,
            last_used REAL
        )""",
        """CREATE TABLE IF NOT EXISTS hub_pairing_codes (
            code_hash TEXT PRIMARY KEY,
            device TEXT NOT NULL,
            expires REAL NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS wyoming_satellites (
            name TEXT PRIMARY KEY,
            uri TEXT NOT NULL,
            added_at REAL NOT NULL,
            "user" TEXT
        )""",
        """CREATE TABLE IF NOT EXISTS wyoming_clients (
            name TEXT PRIMARY KEY,
            address TEXT NOT NULL UNIQUE,
            "user" TEXT,
            added_at REAL NOT NULL
        )""",
        _satellite_owner,
    ),
    # 6: each conversation's record (what it asked, showed and remembers), so a restart keeps a pending
    # question and any process can take the next turn; ``lease`` is the turn under way (times: UTC text)
    6: (
        """CREATE TABLE IF NOT EXISTS conversation_states (
            owner TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            member_id INTEGER REFERENCES users(id),
            expires_at TEXT NOT NULL,
            lease TEXT,
            lease_until TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL DEFAULT (datetime('now'))
        )""",
        "CREATE INDEX IF NOT EXISTS conversation_states_member ON conversation_states(member_id)",
    ),
    # 7: what skills asked to tell a member later (``notify``), said once on whichever channel reaches
    # them first; price news says by which channel it was said too
    7: (
        """CREATE TABLE IF NOT EXISTS notifications (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            skill TEXT NOT NULL,
            builtin INTEGER NOT NULL DEFAULT 0,
            text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 200),
            created_at TEXT NOT NULL,
            said_at TEXT,
            said_via TEXT
        )""",
        # the pages' and satellites' look, once a second, is for rows not yet said: only those are indexed
        "CREATE INDEX IF NOT EXISTS notifications_unsaid ON notifications(user_id) WHERE said_at IS NULL",
        "CREATE INDEX IF NOT EXISTS price_news_untold ON price_news(user_id) WHERE said_at IS NULL",
        "CREATE INDEX IF NOT EXISTS notifications_sent ON notifications(skill, user_id, created_at)",
        "ALTER TABLE price_news ADD COLUMN said_via TEXT",
        # a list item as a CalDAV client named it (its href and UID), when the client put it on the list
        "ALTER TABLE list_items ADD COLUMN dav_href TEXT",
        "ALTER TABLE list_items ADD COLUMN dav_uid TEXT",
    ),
    # 8: what third-party skills did through their capabilities (it was a file of its own), and the
    # turns each conversation had as its client saw them (they were the hub process's): any replica
    # writes and reads both
    8: (
        """CREATE TABLE IF NOT EXISTS skill_access (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            "user" TEXT NOT NULL,
            skill TEXT NOT NULL,
            capability TEXT NOT NULL,
            method TEXT NOT NULL,
            summary TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS skill_access_at ON skill_access(at)",
        "CREATE INDEX IF NOT EXISTS skill_access_skill ON skill_access(skill, at)",
        """CREATE TABLE IF NOT EXISTS conversation_turns (
            id INTEGER PRIMARY KEY,
            owner TEXT NOT NULL,
            member_id INTEGER REFERENCES users(id),
            turn TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS conversation_turns_owner ON conversation_turns(owner, id)",
        "CREATE INDEX IF NOT EXISTS conversation_turns_member ON conversation_turns(member_id)",
        "CREATE INDEX IF NOT EXISTS conversation_turns_at ON conversation_turns(at)",
    ),
    # 9: when each member last said "delete my data", so every replica erases its own disk's copies
    # (skills' storage folders) too, not only the one that heard it
    9: (
        """CREATE TABLE IF NOT EXISTS storage_erasures (
            user_id INTEGER PRIMARY KEY,
            erased_at REAL NOT NULL
        )""",
    ),
}
"""Schema version -> the statements (or a step given the connection) that bring the version before it up to
it, run once, in order, on either engine: SQL here is the SQL SQLite and PostgreSQL share."""


def classify(exc: sqlite3.Error, path: Path | str) -> StoreError:
    """One line naming the file, with the advice that fits the cause (never 'move it away' for a permission)."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
        return StoreBusy(f"{path}: the database stayed busy (locked by another program or device); try again")
    if code == sqlite3.SQLITE_FULL or "disk is full" in text:
        return StoreFull(f"{path}: the disk is full; free some space and try again")
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in text or "not a database" in text:
        return StoreCorrupt(f"{path}: the database is damaged ({text}); move it away to start afresh")
    if code == sqlite3.SQLITE_READONLY or "readonly" in text:
        return StoreReadOnly(f"{path}: is read-only; check its permissions and those of its folder")
    if code == sqlite3.SQLITE_CANTOPEN:
        return StoreError(f"{path}: cannot open the database; check that its folder exists and can be written")
    if code == sqlite3.SQLITE_IOERR:
        return StoreError(f"{path}: the disk reported an error ({text}); check the disk and its free space")
    return StoreError(f"{path}: database error: {text}")


def _retry_while_locked(step: Callable[[], None]) -> None:
    """Run an idempotent set-up step until no other process holds the file, up to the busy timeout.

    Eight processes opening a new file at once: switching it to WAL failed 'database is locked' at
    once, without the busy handler waiting, in one of them."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _prepare(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    # what is deleted is overwritten, not just unlinked: "delete my data" leaves nothing in the file
    conn.execute("PRAGMA secure_delete = ON")


def make_private(path: Path) -> None:
    """Create ``path`` readable by this account alone (0600), or make it so: the store holds purchase
    codes' hashes, and a 4-digit code's scrypt hash falls offline in minutes to whoever can read it.

    An existing file is never opened here: closing any descriptor of an SQLite file drops every POSIX
    lock this process holds on it, and another connection of this process may hold some (the store
    came out "malformed" when this opened and closed it)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


def _make_data_dir_private(data_dir: Path) -> None:
    """On every start: the folder 0700 and every database file in it (SQLite's -wal and -shm too) 0600,
    whatever an older version or a copy left behind."""
    os.chmod(data_dir, 0o700)
    for found in data_dir.glob("*.sqlite3*"):
        if found.is_file():
            os.chmod(found, 0o600)


def default_data_dir() -> Path:
    env = os.environ.get("ASSISTANT_DATA_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir("shopper-assistant", appauthor=False))


class SqliteConnection:
    """One SQLite connection with the surface the store uses; its errors are the store's."""

    engine = "sqlite"
    broken = False

    def __init__(self, path: Path) -> None:
        self.where = str(path)
        self.raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT)
        self.raw.row_factory = sqlite3.Row

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        try:
            return self.raw.execute(sql, params)
        except sqlite3.Error as exc:
            raise classify(exc, self.where) from exc

    def executemany(self, sql: str, seq: Iterable) -> sqlite3.Cursor:
        try:
            return self.raw.executemany(sql, seq)
        except sqlite3.Error as exc:
            raise classify(exc, self.where) from exc

    def begin(self, busy_timeout: float, exclusive: bool = True) -> None:
        self.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        self.execute("BEGIN IMMEDIATE")

    def close(self) -> None:
        self.raw.close()


Connection = SqliteConnection | postgres.Connection
"""What a transaction yields: ``execute``, ``executemany``, ``engine`` ('sqlite' or 'postgresql')."""


def store_url(url: str | None, data_dir: Path) -> str:
    """The database to use: the one named (config.yml's ``store.url``), else $ASSISTANT_STORE_URL, else
    the SQLite file in the data directory."""
    url = url or os.environ.get("ASSISTANT_STORE_URL") or ""
    if not url:
        return f"sqlite:///{data_dir / Database.FILENAME}"
    if url.startswith("sqlite:///") or url.startswith(("postgresql://", "postgres://")):
        return url
    raise StoreError(f"store.url: '{postgres.redact(url)}' is neither sqlite:///PATH nor postgresql://...")


class Database:
    """The store's database, SQLite or PostgreSQL; every write goes through `transaction()`.

    ``url`` is ``sqlite:///PATH`` (relative to the working folder; ``sqlite:////abs/path``) or
    ``postgresql://user:password@host:port/dbname``; None: config's, else the data directory's file."""

    FILENAME = "assistant.sqlite3"

    def __init__(self, data_dir: Path | None = None, url: str | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        try:
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.data_dir}: cannot create the data directory: {exc.strerror}") from exc
        try:
            _make_data_dir_private(self.data_dir)  # skill storage and the access log are here on any engine
        except OSError as exc:
            if exc.errno != errno.EROFS:
                raise StoreError(
                    f"{self.data_dir}: cannot make the data private to this account: {exc.strerror}"
                ) from exc
        self.url = store_url(url, self.data_dir)
        self.engine = "sqlite" if self.url.startswith("sqlite:") else "postgresql"
        if self.engine == "sqlite":
            self.path: Path | None = Path(self.url.removeprefix("sqlite:///"))
            self.where = str(self.path)
            self._private_file()
        else:
            self.path = None
            self.where = postgres.redact(self.url)
        # one connection per thread: the hub runs many conversations at once, and a connection shared
        # between threads interleaves their transactions
        self._local = threading.local()
        self._opened: list[Connection] = []
        self._opened_lock = threading.Lock()
        if self.engine == "sqlite":
            try:
                _retry_while_locked(self._create_schema)
            except sqlite3.Error as exc:
                raise classify(exc, self.where) from exc
        else:
            self._create_schema()

    def _private_file(self) -> None:
        assert self.path is not None
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path.parent}: cannot create the database's folder: {exc.strerror}") from exc
        if not os.access(self.path.parent, os.W_OK):
            raise StoreReadOnly(f"{self.path.parent}: the data directory is read-only; check its permissions")
        try:
            make_private(self.path)  # SQLite gives its -wal and -shm files the database file's mode
        except OSError as exc:
            # a read-only file's mode cannot change either; the first write says it is read-only
            if exc.errno != errno.EROFS:
                raise StoreError(
                    f"{self.path.parent}: cannot make the data private to this account: {exc.strerror}"
                ) from exc

    @property
    def for_update(self) -> str:
        """`` FOR UPDATE`` on PostgreSQL (a row read that the writer's lock keeps), '' on SQLite, whose
        BEGIN IMMEDIATE already holds the one write lock."""
        return " FOR UPDATE" if self.engine == "postgresql" else ""

    def _create_schema(self) -> None:
        conn = self.conn
        if conn.engine == "sqlite":
            conn.raw.executescript(SCHEMA + SQLITE_SCHEMA)
        else:
            # two processes opening one new database at once: one makes the schema, the other waits
            conn.execute("SELECT pg_advisory_lock(?)", (postgres.SCHEMA_LOCK,))
            try:
                # made once: the scripts' DROP/CREATE TRIGGER would lock the products table against
                # another process already loading it (a deadlock); later versions are migrations
                made = conn.execute("SELECT to_regclass('products_fts') IS NOT NULL").fetchone()[0]
                if not made:
                    # scripts without parameters: psycopg sends each as one multi-statement query
                    conn.execute(postgres.ddl(postgres.FUNCTIONS + SCHEMA))
                    conn.execute(postgres.SEARCH_SCHEMA)
            finally:
                conn.execute("SELECT pg_advisory_unlock(?)", (postgres.SCHEMA_LOCK,))
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1') ON CONFLICT DO NOTHING")
        self.migrate()

    def schema_version(self) -> int:
        return int(self.meta("schema_version") or 0)

    def migrate(self) -> list[int]:
        """Bring the schema up to SCHEMA_VERSION; the versions applied (none when it was current)."""
        applied = []
        for version in range(2, SCHEMA_VERSION + 1):
            with self.transaction() as tx:
                # read again inside the write lock: another process opening the store may have migrated it
                if self.schema_version() >= version:
                    continue
                for step in MIGRATIONS[version]:
                    if callable(step):
                        step(tx)
                    else:
                        tx.execute(postgres.ddl(step) if tx.engine == "postgresql" else step)
                tx.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
                applied.append(version)
        return applied

    def _open(self) -> Connection:
        if self.engine == "postgresql":
            return postgres.Connection(self.url, self.where)
        try:
            conn = SqliteConnection(self.path)  # type: ignore[arg-type]
            _retry_while_locked(lambda: _prepare(conn.raw))
        except sqlite3.Error as exc:
            raise classify(exc, self.where) from exc
        return conn

    @property
    def conn(self) -> Connection:
        """This thread's connection (opened on first use, and again after the server dropped it)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.broken:
            self._forget(conn)
            conn = None
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            self._local.depth = 0
            with self._opened_lock:
                self._opened.append(conn)
        return conn

    def _forget(self, conn: Connection) -> None:
        self._local.conn = None
        self._local.depth = 0
        with self._opened_lock:
            if conn in self._opened:
                self._opened.remove(conn)
        with contextlib.suppress(Exception):
            conn.close()

    @contextlib.contextmanager
    def transaction(self, busy_timeout: float | None = None, *, exclusive: bool = True) -> Iterator[Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception: nothing is half-written. On
        PostgreSQL the same: one writer at a time (an advisory lock taken at BEGIN), readers never wait.
        ``exclusive=False``, for a transaction of single statements whose row locks are its whole
        safety (a conversation's lease): on PostgreSQL it does not wait for the other writers; on
        SQLite, whose one lock is the file's, it is the same.

        Nested (a skill's write inside a turn's transaction) it is a savepoint of the outer one, so
        the turn commits or rolls back as a whole. A database error is the StoreError subclass that
        names its cause."""
        conn = self.conn
        depth = self._local.depth
        if depth:
            name = f"sp{depth}"
            conn.execute(f"SAVEPOINT {name}")
            self._local.depth += 1
            try:
                yield conn
            except BaseException:
                if conn.in_transaction and not conn.broken:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                raise
            else:
                conn.execute(f"RELEASE {name}")
            finally:
                self._local.depth -= 1
            return
        try:
            # wait at most this long for another writer (a skill call waits only until its deadline)
            try:
                conn.begin(busy_timeout or BUSY_TIMEOUT, exclusive)
            except StoreError:
                if conn.in_transaction and not conn.broken:  # BEGIN went through, the write lock did not
                    conn.execute("ROLLBACK")
                raise
            self._local.depth = 1
            try:
                yield conn
            except BaseException:
                # SQLite rolls back by itself on some errors (a full disk); a second ROLLBACK would hide the first
                if conn.in_transaction and not conn.broken:
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
            finally:
                self._local.depth = 0
        except StoreError:
            if conn.broken:
                self._forget(conn)  # the server went away: the next use connects again
            raise

    def query(self, sql: str, params: tuple | dict = ()) -> list:
        """Rows of a read. A server connection that dropped since its last use (the server restarted) is
        made again and the read tried once more: reads outside a transaction are safe to repeat."""
        for attempt in (1, 2):
            conn = self.conn
            inside = self._local.depth  # in a transaction, the transaction is lost: say so, don't retry
            try:
                return conn.execute(sql, params).fetchall()
            except StoreError:
                if not conn.broken:
                    raise
                self._forget(conn)
                if attempt == 2 or inside:
                    raise
        raise AssertionError("unreachable")

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def user_id(self, name: str) -> int:
        row = self.conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
        if row:
            return int(row[0])
        with self.transaction() as tx:
            tx.execute("INSERT INTO users(name) VALUES (?) ON CONFLICT DO NOTHING", (name,))
            return int(tx.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()[0])

    def scrub(self) -> None:
        """After deleting someone's data: on SQLite, copy the write-ahead log into the file and empty it,
        so the deleted rows are in neither (the file overwrites them itself). A reader still holding an
        older snapshot defers it to a later checkpoint. PostgreSQL's own VACUUM reclaims its rows."""
        if self.engine == "sqlite" and not self.conn.in_transaction:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def release_thread(self) -> None:
        """Close this thread's connection (a thread that is about to end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._forget(conn)

    def close(self) -> None:
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()

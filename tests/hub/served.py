"""A real hub served by uvicorn on a free loopback port, for clients that speak HTTP themselves (a browser, CalDAV)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from assistant.app import App
from assistant.config import load_config
from assistant.hub import create_hub
from assistant.hub.pairing import Pairing


class Served:
    def __init__(self, data_dir: Path, *, speech: bool = True) -> None:
        import uvicorn

        self.app = App.build(load_config(), data_dir=data_dir)
        self.pairing = Pairing(self.app.db, self.app.household)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        api = create_hub(self.app, self.pairing, preload_speech=speech)
        self.server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the hub did not start"
            time.sleep(0.05)
        self.before = self.order_ids()

    def link(self) -> str:
        return f"{self.base}/#pair={self.pairing.pairing_code('test-browser', self.app.config.user)}"

    def order_ids(self) -> set[int]:
        return {o.id for o in self.app.account().history()}

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.app.close()

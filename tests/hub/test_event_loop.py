"""Nothing that waits (a skill's worker stopping, the store) runs on the hub's event loop: other requests go on."""

import threading
import time

from assistant.dialogue.dispatch import Dispatcher

SLOW_S = 1.5


def test_switching_a_skill_off_does_not_stall_other_requests(hub, monkeypatch):
    phone = hub.device("phone")
    real = Dispatcher.disable

    def slow_disable(self, name, reason):  # a worker that takes its time to stop (up to 5 s when it hangs)
        time.sleep(SLOW_S)
        real(self, name, reason)

    monkeypatch.setattr(Dispatcher, "disable", slow_disable)
    done: list[int] = []
    off = threading.Thread(
        target=lambda: done.append(
            hub.client.post("/v1/skills", json={"name": "recommend", "enabled": False}, headers=phone).status_code
        )
    )
    off.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    assert hub.client.get("/healthz").status_code == 200
    waited = time.monotonic() - t0
    off.join(10)
    assert done == [200]
    assert waited < SLOW_S / 2, f"/healthz waited {waited:.2f} s behind the skill being switched off"
    assert "recommend" not in {s.name for s in hub.app.dispatcher.skills}

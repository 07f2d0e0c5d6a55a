"""Notifications pushed to open companion pages, in Chromium against a served hub: the member's own pages
get each one once, as a line in the conversation and a system notification; nobody else's page does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.websockets import WebSocketState

from assistant.hub.push import push_once
from assistant.hub.stream import StreamHandler
from tests.hub.served import Served

RECORD_NOTIFICATIONS = """
window.shownNotifications = [];
if (window.Notification) {
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) {
      super(title, options);
      window.shownNotifications.push([title, options && options.body]);
    }
  };
}
"""
"""What the browser was asked to show as system notifications (headless Chromium shows none itself)."""


class Household(Served):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.app.household.add("alice", exist_ok=True)
        self.app.config.notifications.quiet_hours = None
        self.hub = self.server.config.app.state.hub

    def link_for(self, device: str, user: str | None) -> str:
        return f"{self.base}/#pair={self.pairing.pairing_code(device, user)}"

    def sockets(self) -> int:
        return sum(len(h.sockets) for h in self.hub.conversations.listening())

    def member_id(self, name: str) -> int:
        return self.app.household.require(name).id


@pytest.fixture
def house(tmp_path: Path) -> Iterator[Household]:
    hub = Household(tmp_path / "data")
    yield hub
    hub.close()


def wait_for(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_notification_reaches_the_members_own_open_pages_once_and_no_one_elses(house: Household):
    test_page = pytest.importorskip("tests.hub.test_page")  # Chromium and Playwright, or skipped
    browser, said, sync_api = test_page.browser, test_page.said, test_page.sync_api
    me = house.app.config.user
    with sync_api.sync_playwright() as p:
        chromium = browser(p)
        pages = {}
        for device, user in [("my-phone", me), ("my-old-tablet", me), ("alices-phone", "alice"), ("hall", None)]:
            context = chromium.new_context()  # each its own localStorage: its own token
            context.grant_permissions(["notifications"], origin=house.base)
            context.add_init_script(RECORD_NOTIFICATIONS)
            page = context.new_page()
            page.goto(house.link_for(device, user))
            pages[device] = page
        wait_for(lambda: house.sockets() == 4)  # every page holds its socket open without a word typed
        house.pairing.revoke("my-old-tablet")
        wait_for(lambda: house.sockets() == 3)

        # quiet hours around now: nothing is pushed, it waits
        now = time.localtime()
        house.app.config.notifications.quiet_hours = f"{(now.tm_hour - 1) % 24:02d}:00-{(now.tm_hour + 2) % 24:02d}:00"
        house.app.notifications.post(house.member_id(me), "recipes", "The bread is ready to bake", builtin=False)
        time.sleep(3)
        assert said(pages["my-phone"], "notification").count() == 0
        assert house.app.notifications.pending(house.member_id(me)) == 1

        house.app.config.notifications.quiet_hours = None  # the quiet hours are over
        line = said(pages["my-phone"], "notification")
        sync_api.expect(line).to_have_text(
            "By the way, the recipes skill asked me to tell you: The bread is ready to bake.", timeout=10000
        )
        shown = pages["my-phone"].evaluate("window.shownNotifications")
        assert shown == [
            ["Shopping assistant", "By the way, the recipes skill asked me to tell you: The bread is ready to bake."]
        ]
        time.sleep(2)  # another member's page, the household's and the revoked one get nothing
        for device in ("my-old-tablet", "alices-phone", "hall"):
            assert said(pages[device], "notification").count() == 0, device
            assert pages[device].evaluate("window.shownNotifications") == [], device

        # said once: the member's next conversation does not begin with it again
        message = pages["my-phone"].get_by_label("Message")
        message.fill("hello")
        message.press("Enter")
        sync_api.expect(said(pages["my-phone"], "assistant").last).not_to_be_empty(timeout=20000)
        assert "bread" not in said(pages["my-phone"], "assistant").last.inner_text()
        assert "bread" not in house.app.conversation(user=me, id="elsewhere").handle("hello").reply

        # and the other way: heard at the start of a conversation, it is not pushed afterwards
        pages["alices-phone"].close()
        wait_for(lambda: house.sockets() == 2)
        house.app.notifications.post(house.member_id("alice"), "recipes", "Time to feed the starter", builtin=False)
        heard = house.app.conversation(user="alice", id="kitchen").handle("hello")
        assert heard.reply.startswith("By the way, the recipes skill asked me to tell you: Time to feed the starter.")
        context = chromium.new_context()
        context.add_init_script(RECORD_NOTIFICATIONS)
        again = context.new_page()
        again.goto(house.link_for("alices-laptop", "alice"))
        wait_for(lambda: house.sockets() == 3)
        time.sleep(3)
        assert said(again, "notification").count() == 0
        chromium.close()


class ClosedSocket:
    """A page's socket that closed between the pusher's look and its send."""

    application_state = WebSocketState.DISCONNECTED


def test_a_notification_for_a_page_that_closed_meanwhile_waits_for_the_next_way_to_the_member(hub):
    app, api_hub = hub.app, hub.client.app.state.hub
    app.config.notifications.quiet_hours = None
    token = hub.device("phone")["Authorization"].split()[1]
    device = hub.pairing.authenticate(token)
    held = api_hub.conversations.open(device.principal, "page-closing")
    handler = StreamHandler(ClosedSocket(), api_hub, device, held)
    held.sockets[handler] = handler.revoked
    me = app.household.require(app.config.user).id
    app.notifications.post(me, "recipes", "The bread is ready to bake", builtin=False)
    assert asyncio.run(push_once(api_hub)) == 0
    assert app.notifications.pending(me) == 1  # not lost: given back
    reply = app.conversation(user=app.config.user, id="kitchen").handle("hello").reply
    assert reply.startswith("By the way, the recipes skill asked me to tell you: The bread is ready to bake.")

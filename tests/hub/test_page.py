"""The companion page in a real browser (Debian's Chromium driven by Playwright), against a served hub."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.audio import SAMPLE_RATE
from assistant.audio.wav import read_wav, write_wav
from tests.hub.served import Served
from tests.voice_helpers import speak

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install -y chromium)"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    hub = Served(tmp_path / "data")
    yield hub
    hub.close()


def browser(playwright, wav: Path | None = None):
    args = ["--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            "--autoplay-policy=no-user-gesture-required"]  # fmt: skip
    if wav is not None:
        args.append(f"--use-file-for-fake-audio-capture={wav.resolve()}")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)


def said(page, who: str):
    return page.locator(f"#log li.{who}")


def test_the_page_pairs_chats_and_shows_the_account_on_a_phone_screen(served):
    with sync_api.sync_playwright() as p:
        chromium = browser(p)
        page = chromium.new_page(viewport={"width": 390, "height": 844})
        page.goto(served.link())
        assert "#pair" not in page.url  # the one-time code does not stay in the address bar
        message = page.get_by_label("Message")
        message.fill("add oat milk to my basket")
        message.press("Enter")  # the keyboard sends
        sync_api.expect(said(page, "assistant").last).to_contain_text("Oat Milk", timeout=20000)
        page.get_by_role("button", name="Basket").click()
        sync_api.expect(page.locator("#basket-lines")).to_contain_text("Oat Milk")
        page.get_by_role("button", name="Orders").click()
        sync_api.expect(page.locator("#orders-list li").first).to_contain_text("Order")
        page.get_by_role("button", name="For you").click()
        sync_api.expect(page.locator("#recommendations-list .why").first).to_contain_text("Why:")
        page.get_by_role("button", name="Skills").click()
        switch = page.get_by_role("switch", name=re.compile("^recommend"))
        switch.uncheck()
        sync_api.expect(page.locator("#status")).to_contain_text("is off")
        page.get_by_role("switch", name=re.compile("^recommend")).check()
        dialog = page.get_by_role("dialog")
        sync_api.expect(dialog).to_contain_text("read your order history")
        dialog.get_by_role("button", name="Allow").click()
        sync_api.expect(page.locator("#status")).to_contain_text("enabled")
        page.get_by_role("button", name="Privacy").click()
        page.get_by_role("button", name="Delete my data").click()
        sync_api.expect(dialog).to_contain_text("can't be undone")
        assert served.order_ids()
        dialog.get_by_role("button", name="Delete").click()
        sync_api.expect(page.locator("#forget-status")).to_contain_text("Done")
        assert served.order_ids() == set()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing runs off a phone screen
        chromium.close()


def test_an_order_spoken_into_the_page_is_bought_only_after_the_spoken_yes(served, tmp_path):
    pieces = [np.zeros(SAMPLE_RATE // 2, np.int16), read_wav(speak("check out please", tmp_path / "a.wav")),
              np.zeros(SAMPLE_RATE * 10, np.int16), read_wav(speak("yes please", tmp_path / "b.wav")),
              np.zeros(SAMPLE_RATE * 20, np.int16)]  # fmt: skip
    wav = tmp_path / "microphone.wav"
    write_wav(wav, np.concatenate(pieces))
    with sync_api.sync_playwright() as p:
        chromium = browser(p, wav)
        page = chromium.new_page()
        page.goto(served.link())
        page.get_by_label("Message").fill("add two oat milk to my basket")
        page.get_by_role("button", name="Send").click()
        sync_api.expect(said(page, "assistant").last).to_contain_text("Oat Milk", timeout=20000)
        # what the page shows while it listens and speaks, recorded as it changes
        page.evaluate("""() => {
            window.shown = [];
            const watch = (id) => new MutationObserver(() => window.shown.push([id, document.getElementById(id).textContent]))
                .observe(document.getElementById(id), {childList: true, characterData: true, subtree: true});
            watch("partial"); watch("status");
        }""")
        page.get_by_role("button", name="Push to talk").click()  # the microphone opens; the file starts
        sync_api.expect(said(page, "you").nth(1)).to_contain_text(re.compile("check ?out", re.I), timeout=30000)
        question = said(page, "assistant").nth(1)
        sync_api.expect(question).to_contain_text("?", timeout=30000)
        assert served.order_ids() == served.before, "nothing is bought before the yes"
        shown = page.evaluate("window.shown")
        assert any(where == "partial" and text for where, text in shown), "words showed while they were spoken"
        # the spoken reply plays (its audio may start a moment after its text shows)
        page.wait_for_function("() => window.shown.some(([where, text]) => where === 'status' && text === 'Speaking…')",
                               timeout=30000)  # fmt: skip
        sync_api.expect(said(page, "you").nth(2)).to_contain_text(re.compile("yes", re.I), timeout=30000)
        sync_api.expect(said(page, "assistant").nth(2)).to_contain_text(re.compile("order", re.I), timeout=30000)
        new = served.order_ids() - served.before
        assert len(new) == 1
        sync_api.expect(page.get_by_role("button", name="Push to talk")).to_have_attribute("aria-pressed", "false")
        chromium.close()

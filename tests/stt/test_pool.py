"""The recognizer pool the hub and Wyoming share: one utterance per recognizer, more made up to a cap."""

import threading
import time

from assistant.config import SttSettings
from assistant.stt.pocketsphinx import PocketsphinxRecognizer
from assistant.stt.pool import RecognizerPool


def make() -> PocketsphinxRecognizer:
    return PocketsphinxRecognizer(SttSettings(engine="pocketsphinx"), ["yes please", "check out"])


def test_utterances_at_once_get_their_own_recognizers_up_to_the_cap():
    pool = RecognizerPool(make, max_recognizers=2)
    first = pool.borrow()
    second = pool.borrow()
    assert first is pool.primary and second is not first and pool.made == 2
    got: list = []
    waiter = threading.Thread(target=lambda: got.append(pool.borrow()))
    waiter.start()
    time.sleep(0.3)
    assert not got  # a third utterance waits for a free one rather than load a third model
    pool.give_back(second)
    waiter.join(5)
    assert got == [second] and pool.made == 2


def test_a_streaming_utterance_never_waits():
    pool = RecognizerPool(make, max_recognizers=1)
    with pool.recognizer() as held:
        extra = pool.borrow(wait=False)  # lent from an event loop: it must not block
        assert extra is not held and pool.made == 2
    assert pool.borrow() in (held, extra)

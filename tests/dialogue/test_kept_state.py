"""The conversation's state is the store's: a restart keeps what was asked, another App takes the next turn."""

import re
import threading
import time
from pathlib import Path

from assistant.testing import Chat


def _order_lines(chat: Chat) -> list[list[tuple[int, int]]]:
    return [[(line.product.id, line.quantity) for line in order.lines] for order in chat.new_orders()]


def _asked(chat: Chat) -> None:
    """Something in the basket and the purchase question asked."""
    chat.say("add some bananas to my basket")
    assert "Shall I place the order?" in chat.say("check out")


def test_a_restart_keeps_the_pending_purchase_question_and_yes_places_one_order(tmp_path: Path):
    data = tmp_path / "data"
    with Chat(data, conversation="kitchen") as before:
        before.say("add some bananas to my basket")
        assert "Shall I place the order?" in before.say("check out")
        assert before.new_orders() == []
        basket = [(line.product.id, line.quantity) for line in before.cart]
        known = {o.id for o in before.orders}
    with Chat(data, conversation="kitchen") as after:  # a new App on the same data dir
        reply = after.say("yes")
        assert re.search(r"Order \d+ is placed", reply), reply
        placed = [o for o in after.orders if o.id not in known]
        assert [[(line.product.id, line.quantity) for line in o.lines] for o in placed] == [basket]
        assert "already placed" in after.say("yes")
        assert len([o for o in after.orders if o.id not in known]) == 1


def test_after_a_restart_an_expired_question_places_nothing(tmp_path: Path):
    data = tmp_path / "data"
    with Chat(data, conversation="kitchen") as before:
        _asked(before)
        known = {o.id for o in before.orders}
    with Chat(data, conversation="kitchen") as after:
        later = time.time() + after.app.services.keep_s + 1
        after.app.records.clock = lambda: later
        after.app.gate.clock = lambda: later
        reply = after.say("yes")
        assert "nothing to confirm" in reply, reply
        assert [o for o in after.orders if o.id not in known] == []


def test_a_second_app_on_the_same_store_takes_the_next_turn(tmp_path: Path):
    """Search in A, "add the second one" in B, check out in A, yes in B: one order, the right product."""
    data = tmp_path / "data"
    with Chat(data, conversation="kitchen") as a, Chat(data, conversation="kitchen") as b:
        assert "?" in a.say("do you have oat milk")
        listed = a.conversation.state.conversation.last_list
        assert "Added" in b.say("add the second one")
        assert [line.product.id for line in b.cart] == [listed[1].id]
        assert "Shall I place the order?" in a.say("check out")
        assert re.search(r"Order \d+ is placed", b.say("yes"))
        assert _order_lines(a) == [[(listed[1].id, 1)]]
        assert "already placed" in a.say("yes")
        assert len(a.new_orders()) == 1


def test_a_turn_waits_while_another_process_holds_the_conversation(tmp_path: Path):
    """The store, not a lock of this process, keeps one conversation's turns in order."""
    data = tmp_path / "data"
    with Chat(data, conversation="kitchen") as a, Chat(data, conversation="kitchen") as b:
        _asked(a)
        held = a.app.records.load_for_turn(a.conversation.id, lease_s=30, wait_s=1)  # a turn under way elsewhere
        replies: list[str] = []
        turn = threading.Thread(target=lambda: replies.append(b.say("yes")))
        turn.start()
        time.sleep(0.5)
        assert replies == [] and b.new_orders() == []
        a.app.records.release(held)
        turn.join(10)
        assert re.search(r"Order \d+ is placed", replies[0]), replies
        assert len(b.new_orders()) == 1


def test_two_yeses_at_once_in_two_apps_place_one_order(tmp_path: Path):
    data = tmp_path / "data"
    with Chat(data, conversation="kitchen") as a, Chat(data, conversation="kitchen") as b:
        _asked(a)
        replies: list[str] = []
        go = threading.Barrier(2)

        def yes(chat: Chat) -> None:
            go.wait()
            replies.append(chat.say("yes"))

        threads = [threading.Thread(target=yes, args=(c,)) for c in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert len(replies) == 2 and sum(bool(re.search(r"Order \d+ is placed", r)) for r in replies) == 1, replies
        assert len(a.new_orders()) == 1


def test_ending_a_conversation_in_one_app_expires_its_question_in_the_other(tmp_path: Path):
    data = tmp_path / "data"
    with Chat(data, conversation="kitchen") as a, Chat(data, conversation="kitchen") as b:
        _asked(a)
        a.app.end_conversation(a.conversation.principal, "kitchen")
        assert "placed" not in b.say("yes")
        assert b.new_orders() == []


def test_reaping_idle_conversations_spares_one_another_app_just_spoke_in(tmp_path: Path):
    data = tmp_path / "data"
    with Chat(data, conversation="kitchen") as a, Chat(data, conversation="kitchen") as b:
        _asked(a)
        a.conversation.last_used = 0  # idle as far as A's process knows
        assert "Shall I place the order?" in b.say("say that again")  # B spoke in it just now
        assert a.app.conversations.reap(60) == 1
        time.sleep(0.5)  # ending runs on a thread
        assert a.app.records.peek(a.conversation.id) is not None
        assert re.search(r"Order \d+ is placed", b.say("yes"))
        assert len(b.new_orders()) == 1

"""Random input never crashes a turn and never buys anything."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.testing import Chat

WORDS = st.sampled_from(
    [
        "yes",
        "no",
        "add",
        "buy",
        "the",
        "second",
        "one",
        "check",
        "out",
        "order",
        "usual",
        "again",
        "milk",
        "remove",
        "cancel",
        "why",
        "pounds",
        "ten",
        "thousand",
        "last",
        "place",
        "basket",
        "delete",
        "my",
        "data",
        "surprise",
        "me",
    ]
)


def _chat(tmp_path_factory, cache={}):  # noqa: B006 - one conversation shared by the examples
    if "chat" not in cache:
        cache["chat"] = Chat(tmp_path_factory.mktemp("prop"))
    return cache["chat"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(st.text(max_size=80), st.lists(WORDS, max_size=8).map(" ".join)),
        min_size=1,
        max_size=4,
    )
)
def test_random_turns_never_crash_or_buy(tmp_path_factory, turns):
    chat = _chat(tmp_path_factory)
    before = len(chat.new_orders())
    for text in turns:
        turn = chat.send(text)
        assert isinstance(turn.reply, str) and turn.reply
    # an order can only come from a yes that answered a purchase question
    placed = len(chat.new_orders()) - before
    if placed:
        texts = [t.text for t in chat.turns[-len(turns) :]]
        assert any(t.intent == "affirm" for t in chat.turns[-len(turns) :]), texts
    chat.app.account().orders.clear_cart()
    chat.conversation.drop_pending()

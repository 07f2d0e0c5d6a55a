"""Whatever is said, the shopping list never loses a thing it said it put on: only a reply that says so takes one off."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.sdk import item_key
from assistant.store.lists import ShoppingLists
from assistant.testing import Chat

ITEMS = ["milk", "oat milk", "the milk", "milks", "bread", "eggs", "washing up liquid", "cat food", "tea bags",
         "something for the cat's birthday", "bananas", "coffee"]  # fmt: skip
QUANTITIES = ["", "two ", "3 ", "another ", "a dozen ", "two more "]

ADD = st.builds(
    lambda verb, q, item: f"{verb} {q}{item} {'on' if verb != 'add' else 'to'} the list",
    st.sampled_from(["add", "put", "stick"]),
    st.sampled_from(QUANTITIES),
    st.sampled_from(ITEMS),
)
TAKE_OFF = st.builds(
    lambda form, item: form.format(item),
    st.sampled_from(["take {} off the list", "i've got {}", "remove {} from the list", "cross {} off the list"]),
    st.sampled_from(ITEMS),
)
OTHER = st.sampled_from(
    [
        "yes", "no", "what's on the list", "read me the list", "clear the list", "clear the lift", "clear the mist",
        "add milk to my basket", "what's in my basket", "order the list", "why that one?", "never mind", "",
        "list", "the list", "take it off", "add to the list", "tick", "clear", "everything",
    ]
)  # fmt: skip
TURN = st.one_of(ADD, ADD, TAKE_OFF, OTHER, st.text(max_size=40))

ADDED = re.compile(r"^Added (?:(?:one|two|three|four|five|six|seven|eight|nine|ten|\d+) )?(.+?) to the list\.$")
HOLDS = re.compile(r"^The list (?:now|already) has (?:(?:two|three|four|five|six|seven|eight|nine|ten|\d+) )?(.+)\.$")
TAKES_OFF = re.compile(r"^(Took .+ off the list|Ticked off .+|Done: the list is empty)")


def _chat(tmp_path_factory, cache={}):  # noqa: B006 - one conversation shared by the examples
    if "chat" not in cache:
        cache["chat"] = Chat(tmp_path_factory.mktemp("list-prop"))
    return cache["chat"]


def _keys(lists: ShoppingLists) -> set[str]:
    return {item_key(i.name) for i in lists.items(None)}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(TURN, min_size=1, max_size=10))
def test_the_list_never_loses_an_item_it_reported_as_added(tmp_path_factory, turns):
    chat = _chat(tmp_path_factory)
    lists = ShoppingLists(chat.app.db)
    reported: set[str] = set()
    for text in turns:
        before = _keys(lists)
        reply = chat.say(text)
        after = _keys(lists)
        gone = before - after
        if gone:  # something left the list: the reply said so
            assert TAKES_OFF.match(reply), (text, reply, gone)
            reported -= gone
        said = ADDED.match(reply) or HOLDS.match(reply)
        if said:
            key = item_key(said.group(1).split(",")[0])
            assert key in after, (text, reply, after)
            reported.add(key)
        assert reported <= after, (text, reply, reported - after)
    lists.clear(None)
    chat.conversation.drop_pending()

"""The shopping lists over CalDAV, with the `caldav` client library (as Home Assistant's integration uses it)
against a served hub: voice and the client see one list, and an edit made on an old copy loses nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.store.lists import ShoppingLists
from tests.hub.served import Served

caldav = pytest.importorskip("caldav", reason="the caldav client is a test dependency (pip install caldav)")
from caldav.lib import error  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    hub = Served(tmp_path_factory.mktemp("caldav") / "data", speech=False)
    hub.app.household.add("alice", exist_ok=True)
    yield hub
    hub.close()


def household_list(served: Served, token: str, user: str = "anyone"):
    client = caldav.DAVClient(url=f"{served.base}/dav/", username=user, password=token)
    calendars = {c.get_display_name(): c for c in client.principal().calendars()}
    return calendars, calendars["Household shopping list"]


def summaries(calendar, *, done: bool = False) -> list[str]:
    return sorted(str(t.icalendar_component["summary"]) for t in calendar.todos(include_completed=done))


def on_the_list(served: Served, id: str) -> str:
    return served.app.conversation(user=served.app.config.user, id=id).handle("what's on the list").reply


def test_an_item_added_by_voice_is_in_the_client_and_one_ticked_there_is_off_the_list(served: Served):
    me = served.app.config.user
    token = served.pairing.pair("phone", me)
    served.app.conversation(user=me, id="kitchen").handle("add washing up liquid to the list")
    calendars, household = household_list(served, token)
    assert set(calendars) == {"Household shopping list", f"{me}'s shopping list"}
    assert "washing up liquid" in summaries(household)
    todo = next(t for t in household.todos() if str(t.icalendar_component["summary"]) == "washing up liquid")
    todo.complete()
    assert "washing up liquid" not in on_the_list(served, "after-the-shop")
    assert "washing up liquid" in summaries(household, done=True)  # still there in the app, ticked
    household.save_todo(summary="2 × oat milk", description="the barista one")
    assert "oat milk" in on_the_list(served, "later")
    calendars, household = household_list(served, token)
    assert "2 × oat milk" in summaries(household)


def test_an_edit_made_on_an_old_copy_is_refused_and_loses_nothing(served: Served):
    import httpx

    me = served.app.config.user
    served.app.conversation(user=me, id="hall").handle("add bread to the list")
    tablet_token = served.pairing.pair("tablet-b", me)
    _, phone = household_list(served, served.pairing.pair("phone-a", me))
    _, tablet = household_list(served, tablet_token)
    on_phone = next(t for t in phone.todos() if str(t.icalendar_component["summary"]) == "bread")
    on_tablet = next(t for t in tablet.todos() if str(t.icalendar_component["summary"]) == "bread")
    old_etag = (
        on_tablet.props.get("{DAV:}getetag") or httpx.get(str(on_tablet.url), auth=("me", tablet_token)).headers["etag"]
    )
    on_phone.icalendar_component["summary"] = "3 × bread"
    on_phone.save()
    with pytest.raises(error.ETagMismatchError):
        on_tablet.complete()  # made on the copy from before the phone's edit
    gone = httpx.delete(str(on_tablet.url), headers={"If-Match": old_etag}, auth=("me", tablet_token))
    assert gone.status_code == 412  # nor can the old copy delete it
    served.app.conversation(user=me, id="hall").handle("add two more bread to the list")  # and by voice
    with pytest.raises(error.ETagMismatchError):
        on_phone.complete()  # the phone's copy is old now too
    (bread,) = [i for i in ShoppingLists(served.app.db).items(None) if i.name.endswith("bread")]
    assert bread.quantity == 5 and not bread.ticked  # the phone's three, then two more by voice: nothing lost
    assert "five" in on_the_list(served, "checking")
    assert f"5 × {bread.name}" in summaries(tablet)


def test_a_wrong_or_revoked_token_gets_401_and_a_member_sees_only_their_own_lists(served: Served):
    import httpx

    url = f"{served.base}/dav/"
    propfind = {"Depth": "1", "Content-Type": "application/xml"}
    assert httpx.request("PROPFIND", url, headers=propfind).status_code == 401
    assert httpx.request("PROPFIND", url, headers=propfind, auth=("me", "not-a-token")).status_code == 401
    token = served.pairing.pair("old-phone", served.app.config.user)
    assert httpx.request("PROPFIND", url, headers=propfind, auth=("me", token)).status_code == 207
    served.pairing.revoke("old-phone")
    assert httpx.request("PROPFIND", url, headers=propfind, auth=("me", token)).status_code == 401
    alice = served.pairing.pair("alices-phone", "alice")
    own = f"{served.base}/dav/{served.app.config.user}/list/"
    assert httpx.request("PROPFIND", own, headers=propfind, auth=("alice", alice)).status_code in (403, 404)
    body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:x1\r\nSUMMARY:spy\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    put = httpx.put(f"{own}x1.ics", content=body, headers={"Content-Type": "text/calendar"}, auth=("alice", alice))
    assert put.status_code in (403, 404)
    assert "spy" not in on_the_list(served, "after-alice")


def test_a_client_cannot_delete_a_whole_list_and_finds_the_lists_from_the_well_known_address(served: Served):
    import httpx

    me = served.app.config.user
    served.app.conversation(user=me, id="porch").handle("add tea bags to the list")
    token = served.pairing.pair("careless-phone", me)
    wiped = httpx.delete(f"{served.base}/dav/{me}/household/", auth=("me", token))
    assert wiped.status_code >= 400
    assert "tea bags" in on_the_list(served, "after-the-wipe")
    found = httpx.request("PROPFIND", f"{served.base}/.well-known/caldav", auth=("me", token))
    assert found.status_code == 301 and found.headers["location"] == "/dav/"

"""How notifications are said: the core's words for them, and the news a member's first reply begins with."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from assistant.errors import StoreError
from assistant.store.notices import Notice, Notifications, Via

if TYPE_CHECKING:
    from assistant.app import App
    from assistant.household import Member

log = logging.getLogger(__name__)

AT_START = 2
"""Notifications a reply begins with; "what did I miss?" reads the rest."""


def sentence(notice: Notice) -> str:
    """What is said for a notification, without the full stop. A third-party skill's words are quoted in
    the core's sentence naming the skill, with their question marks dropped: nothing waits for an answer
    to them, so "shall I order it?" from a skill is never a question a yes could answer."""
    if notice.builtin:
        return notice.text.rstrip(" .!")
    words = re.sub(r"\?+", ".", notice.text).rstrip(" .!")
    return f"the {notice.skill} skill asked me to tell you: {words}"


def told(notices: list[Notice], member: str | None = None) -> str:
    """The notifications as one announcement, a sentence each: 'By the way, X. Also, the recipes skill
    asked me to tell you: Y.'; ``member`` names whom they are for (on a household speaker)."""
    lead = f"{member}, by the way" if member else "By the way"
    first, *rest = [sentence(n) for n in notices]
    return " ".join([f"{lead}, {first}.", *(f"Also, {s}." for s in rest)])


def with_news(notifications: Notifications, member: Member, speech: str) -> str:
    """``speech`` with the member's untold notifications in front (two at most), taken as said: the
    start of a conversation is one of the ways a notification reaches its member, once."""
    try:
        news = notifications.take(member.id, "conversation", limit=AT_START)
        left = notifications.pending(member.id) if news else 0
    except StoreError as exc:  # the news keeps for the next conversation
        log.error("notifications not read: %s", exc)
        return speech
    if not news:
        return speech
    more = f" And {left} more: say what did I miss." if left else ""
    return f"{told(news)}{more} {speech}"


def take_for(app: App, member: Member, via: Via) -> list[Notice]:
    """Everything untold for ``member``, for a page or a speaker to announce; nothing inside the quiet
    hours (it waits: nothing is pushed or announced then)."""
    if app.config.notifications.quiet():
        return []
    return app.notifications.take(member.id, via)

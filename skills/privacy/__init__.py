"""Forget the user after a yes, and say what other skills read and did with their data."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import datetime, timedelta

from assistant.sdk import Context, Reply, Request, Skill, confirm, intent, join, on_confirm, say

SPOKEN_CALLS = 3
"""A spoken answer reads this many calls per skill; the display lists them all."""
ALL_KEPT = "in the last 30 days"
"""The log keeps 30 days, so a question without a period is about all of it."""
_PERIODS: list[tuple[str, str, Callable[[datetime, datetime], datetime]]] = [
    # (word in the question, how the answer says it, from when given now and today's midnight)
    ("today", "today", lambda now, midnight: midnight),
    ("yesterday", "since yesterday", lambda now, midnight: midnight - timedelta(days=1)),
    ("hour", "in the last hour", lambda now, midnight: now - timedelta(hours=1)),
    ("week", "this week", lambda now, midnight: now - timedelta(days=7)),
]


def _period(text: str, now: datetime) -> tuple[datetime, str]:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for word, said, start in _PERIODS:
        if word in text:
            return start(now, midnight), said
    return now - timedelta(days=30), ALL_KEPT


class PrivacySkill(Skill):
    name = "privacy"
    description = "delete your data, or tell you what other skills used"
    permissions = frozenset({"profile.erase", "access_log.read"})

    @intent("delete_my_data")
    def delete(self, ctx: Context, request: Request) -> Reply:
        return confirm(
            "That erases your order history, basket, recommendations and anything I stored about you, "
            "and can't be undone. Are you sure?",
            action="erase",
        )

    @on_confirm("erase")
    def erase(self, ctx: Context, request: Request, data: dict) -> Reply:
        ctx.privacy.erase()
        return say("Done. I've forgotten your history. Your catalogue and settings are still here.")

    @intent("skill_activity")
    def activity(self, ctx: Context, request: Request) -> Reply:
        since, when = _period(request.text.lower(), datetime.now())
        entries = ctx.access_log.entries(since=since)
        asked = request.value("skill")
        if asked:
            known = sorted({e.skill for e in entries} | {name for name, _ in ctx.skills})
            match = difflib.get_close_matches(asked.lower(), known, n=1, cutoff=0.6)
            if not match:
                return say(f"I don't know a skill called {asked}.")
            entries = [e for e in entries if e.skill == match[0]]
            if not entries:
                return say(f"The {match[0]} skill hasn't used any of your data {when}.")
        if not entries:
            return say(f"No add-on skill has used your data {when}. The built-in skills aren't logged.")
        by_skill: dict[str, list[str]] = {}
        for entry in reversed(entries):  # oldest first reads like what happened
            by_skill.setdefault(entry.skill, []).append(entry.summary)
        spoken, shown = [], []
        for skill, summaries in by_skill.items():
            calls = f"{len(summaries)} time" + ("" if len(summaries) == 1 else "s")
            said = summaries[-SPOKEN_CALLS:]
            more = len(summaries) - len(said)
            spoken.append(
                f"the {skill} skill used your data {calls}: it {join(said)}" + (f", and {more} more" if more else "")
            )
            shown += [f"{skill}: {s}" for s in summaries]
        speech = (
            f"{when.capitalize()}, {join(spoken)}."
            if len(by_skill) < 3
            else (
                f"{when.capitalize()}, {len(by_skill)} skills used your data: {join(list(by_skill))}. "
                "Ask about one of them by name to hear what it did."
            )
        )
        return say(speech, display="\n".join(shown))

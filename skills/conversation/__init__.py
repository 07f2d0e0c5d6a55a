"""Greetings, goodbyes, help, and a useful answer to anything a shopping assistant doesn't do."""

from __future__ import annotations

import re

from assistant.sdk import Context, Reply, Request, Skill, intent, join, say

CAN_DO = "I can search products, manage your basket, reorder, and recommend things."
# A named topic makes "I can't" concrete: "I can't check the weather."
_TOPICS = [
    (r"\bweather|rain|forecast|temperature|sunny\b", "check the weather"),
    (r"\btimers?\b|\balarms?\b|remind|wake me", "set timers or reminders"),
    (r"\bmusic|song|play\b|radio|podcast", "play music"),
    (r"\bnews|headlines\b", "read the news"),
    (r"\bjokes?\b|funny", "tell jokes"),
    (r"\blights?\b|thermostat|heating|lamp", "control your home"),
    (r"\bcall\b|text message|\bphone (my|mum|dad)|email", "make calls or send messages"),
    (r"\btranslate|in french|in spanish|in german", "translate"),
    (r"\bscore|football|match|who won", "follow sports"),
]


class ConversationSkill(Skill):
    name = "conversation"
    description = ""
    nlu = None  # its intents are the core's, in nlu_data/

    @intent("greet")
    def greet(self, ctx: Context, request: Request) -> Reply:
        return say("Hello! What can I get you? You can ask me to find something, or say help.")

    @intent("goodbye")
    def goodbye(self, ctx: Context, request: Request) -> Reply:
        return Reply("Goodbye!", end=True)

    @intent("help")
    def help(self, ctx: Context, request: Request) -> Reply:
        things = [description for _, description in ctx.skills]
        offer = f"I can {join(things)}." if things else CAN_DO
        return say(
            f"{offer} For example, say: do you have oat milk, add the second one, check out, order the usual, or what do you recommend. What would you like?"
        )

    @intent("out_of_scope")
    def out_of_scope(self, ctx: Context, request: Request) -> Reply:
        text = request.text.lower()
        for pattern, topic in _TOPICS:
            if re.search(pattern, text):
                return say(f"I can't {topic}. {CAN_DO} What would you like?")
        return say(f"Sorry, I can't help with that. {CAN_DO} What would you like?")

"""The dialogue layer: conversations, dispatch to skills, confirmation and slot filling."""

from assistant.dialogue.conversation import Conversation, Turn

__all__ = ["Conversation", "Turn"]

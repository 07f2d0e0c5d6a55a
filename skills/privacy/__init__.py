"""Forget the user: orders, basket, recommendations and transcripts, after a yes."""

from __future__ import annotations

from assistant.sdk import Context, Reply, Request, Skill, confirm, intent, on_confirm, say


class PrivacySkill(Skill):
    name = "privacy"
    description = "delete your data"
    permissions = frozenset({"profile.erase"})

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

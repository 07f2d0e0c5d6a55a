"""A conversation harness for tests, the core's and skill authors': turns in, replies and orders out.

from assistant.testing import Chat

def test_search(tmp_path):
    chat = Chat(tmp_path)
    assert "oat milk" in chat.say("do you have oat milk").lower()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.config import Config, load_config
from assistant.dialogue import Dialogue, Turn
from assistant.skills.state import SkillStates
from assistant.store import Line, Order


class Chat:
    """One user's conversation with a real store in ``data_dir`` and the real NLU."""

    def __init__(
        self,
        data_dir: Path,
        *,
        engine: str | None = None,
        config: Config | None = None,
        shop: dict[str, Any] | None = None,
        skills: dict[str, dict[str, Any]] | None = None,
        enable: list[str] | None = None,
    ) -> None:
        config = (config or load_config()).model_copy(deep=True)
        if shop:
            config.shop = config.shop.model_copy(update=shop)
        if skills:
            config.skills = {**config.skills, **skills}
        for name in enable or ():  # as `assistant skills enable NAME --yes` would
            SkillStates(Path(data_dir)).set(name, True, "enabled by the test")
        self.dialogue = Dialogue(config, Path(data_dir), engine)
        self.turns: list[Turn] = []

    def send(self, text: str) -> Turn:
        turn = self.dialogue.handle(text)
        self.turns.append(turn)
        return turn

    def say(self, text: str) -> str:
        """Send one user turn; return the assistant's spoken reply."""
        return self.send(text).reply

    @property
    def last(self) -> Turn:
        return self.turns[-1]

    @property
    def cart(self) -> list[Line]:
        return self.dialogue.orders.cart()

    @property
    def orders(self) -> list[Order]:
        return self.dialogue.orders.history()

    def new_orders(self) -> list[Order]:
        """Orders placed during this conversation (not the demo history)."""
        return [o for o in self.orders if o.status == "placed"]

    def close(self) -> None:
        self.dialogue.close()

    def __enter__(self) -> Chat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

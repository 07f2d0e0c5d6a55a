"""A conversation harness for tests, the core's and skill authors': turns in, replies and orders out.

from assistant.testing import Chat

def test_search(tmp_path):
    chat = Chat(tmp_path)
    assert "oat milk" in chat.say("do you have oat milk").lower()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.app import App, Turn
from assistant.config import Config, load_config
from assistant.skills.registry import discover
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
        conversation: str | None = None,
    ) -> None:
        """``conversation``: the conversation's id (its state is kept in the store under it), or a new one."""
        config = (config or load_config()).model_copy(deep=True)
        if shop:
            config.shop = config.shop.model_copy(update=shop)
        if skills:
            config.skills = {**config.skills, **skills}
        if enable:  # as `assistant skills enable NAME --yes` would: the permissions it asks for, agreed
            states = SkillStates(Path(data_dir))
            installed = {s.name: s for s in discover(config.skills)[0]}
            for name in enable:
                skill = installed.get(name)
                if skill is None:
                    states.set(name, True, "enabled by the test")
                else:
                    states.grant(name, skill.version, skill.permissions)
        self.app = App.build(config, data_dir=Path(data_dir), engine=engine)
        self.conversation = self.app.conversation(id=conversation)
        self.turns: list[Turn] = []
        self._before = {o.id for o in self.app.account().history()}

    def send(self, text: str) -> Turn:
        turn = self.conversation.handle(text)
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
        return self.app.account().basket()

    @property
    def orders(self) -> list[Order]:
        return self.app.account().history()

    def new_orders(self) -> list[Order]:
        """Orders placed since this chat started (not the demo history), delivered already or not."""
        return [o for o in self.orders if o.id not in self._before]

    def close(self) -> None:
        self.app.close()

    def __enter__(self) -> Chat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

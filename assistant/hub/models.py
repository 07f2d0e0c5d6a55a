"""The hub's request and response bodies, and the WebSocket's JSON messages (pydantic, at the edge)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT = 500
"""Characters in one typed turn: a spoken request is a sentence, not an essay."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TurnRequest(Body):
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="what the user typed or said")


class TurnOut(BaseModel):
    """Exactly `assistant chat --json`'s object for one turn."""

    text: str
    intent: str | None
    confidence: float
    entities: list[dict[str, Any]]
    skill: str | None
    reply: str


class ConversationOut(BaseModel):
    id: str
    turns: list[TurnOut]


class PairRequest(Body):
    code: str = Field(min_length=8, max_length=64, description="the one-time code printed by the hub")


class PairOut(BaseModel):
    device: str
    user: str | None
    token: str


class Product(BaseModel):
    id: int
    title: str
    price: float


class LineOut(BaseModel):
    product: Product
    quantity: int
    total: float


class BasketOut(BaseModel):
    user: str
    lines: list[LineOut]
    total: float


class OrderOut(BaseModel):
    id: int
    status: str
    total: float
    placed_at: str
    deliver_on: str | None
    lines: list[LineOut]


class OrdersOut(BaseModel):
    user: str
    orders: list[OrderOut]


class RecommendationOut(BaseModel):
    product: Product
    signal: str = Field(description="co_purchase, history or discover: what produced the suggestion")
    evidence: dict[str, Any]
    why: str = Field(description="the reason in words, from the signal and its evidence")


class RecommendationsOut(BaseModel):
    user: str
    recommendations: list[RecommendationOut]


class SkillOut(BaseModel):
    name: str
    version: str
    description: str
    builtin: bool
    enabled: bool
    permissions: list[str] = Field(description="what the skill may do, in plain words")
    status: str
    accessed: list[str] = Field(default_factory=list, description="its latest capability calls for this user")


class SkillsOut(BaseModel):
    skills: list[SkillOut]


class SkillChange(Body):
    name: str = Field(min_length=1, max_length=80)
    enabled: bool
    consent: str | None = Field(default=None, max_length=64, description="the token from the consent step")


class SkillChangeOut(BaseModel):
    name: str
    enabled: bool
    done: bool
    permissions: list[str] = Field(default_factory=list)
    consent: str | None = Field(default=None, description="send this back to agree to the permissions")
    message: str


class ForgetOut(BaseModel):
    done: bool
    confirm: str | None = Field(default=None, description="send this back as ?confirm= to erase")
    code_needed: bool = Field(default=False, description="send the member's purchase code as ?code= with it")
    message: str


class Health(BaseModel):
    status: Literal["ok"]
    engine: str
    skills: int


class ErrorOut(BaseModel):
    error: str


# -- WebSocket messages from the client ---------------------------------------------------------
class TextMessage(Body):
    type: Literal["text"]
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class AudioEnd(Body):
    """Push-to-talk released: what was heard so far is the utterance."""

    type: Literal["audio-end"]


class StopReply(Body):
    """Stop the spoken reply (a tap on the page, as barge-in by hand)."""

    type: Literal["stop"]


class Listening(Body):
    """The page is open and waits for notifications: sent every minute, so the socket is not idle."""

    type: Literal["listening"]


ClientMessage = Annotated[TextMessage | AudioEnd | StopReply | Listening, Field(discriminator="type")]

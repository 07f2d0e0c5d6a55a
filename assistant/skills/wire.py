"""What a skill worker may send the assistant, as pydantic models the host checks every message against.

Nothing from a worker is unpickled or trusted: the host validates every message against the models
below (unknown fields, wrong types, oversized text are errors), and products come back as references
(id, sku) that the host re-reads from its own store, so a skill cannot forge a price.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

MAX_INT = 2**53
"""The largest whole number a worker may send (JSON's exactly representable range); SQLite's own
limit is 2**63 - 1, and a larger id once raised OverflowError outside the turn (issue 19)."""
WireInt = Annotated[int, Field(ge=-MAX_INT, le=MAX_INT)]
ProductId = Annotated[int, Field(ge=1, le=MAX_INT)]


def _bounded(value: JsonValue) -> JsonValue:
    """Every number inside a plain-data value within the wire's range, however deeply nested."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, (int, float)) and not -MAX_INT <= item <= MAX_INT:
            raise ValueError(f"a number outside -2**53..2**53 ({str(item)[:30]})")
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return value


BoundedJson = Annotated[JsonValue, AfterValidator(_bounded)]

MAX_SPEECH = 600
"""Characters a reply may speak (about 40 seconds of speech)."""
MAX_DISPLAY = 4000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# -- worker -> host: every one of these is validated on the host ----------------------------------
class ProductRef(_Strict):
    """A product named by the skill; the host reads the product itself from the store."""

    id: ProductId
    sku: str = Field(max_length=64)


class PurchaseLines(_Strict):
    lines: list[Annotated[list[WireInt], Field(min_length=2, max_length=2)]] = Field(min_length=1, max_length=100)
    """[product id, quantity] pairs (lists: the models validate parsed JSON strictly)."""


class PurchaseBasket(_Strict):
    basket: Literal[True]


class WireReply(_Strict):
    speech: str = Field(max_length=MAX_SPEECH)
    display: str | None = Field(None, max_length=MAX_DISPLAY)
    items: list[ProductRef] | None = Field(None, max_length=100)
    listed: int | None = Field(None, ge=0, le=100)
    focus: ProductRef | None = None
    expect: Literal["none", "answer", "confirm", "slot"] = "none"
    action: str | None = Field(None, max_length=200)
    data: dict[str, BoundedJson] = {}
    slot: str | None = Field(None, max_length=64)
    purchase: PurchaseLines | PurchaseBasket | None = None
    end: bool = False
    why: str | None = Field(None, max_length=MAX_SPEECH)


class Ready(_Strict):
    type: Literal["ready"]


class Fatal(_Strict):
    type: Literal["fatal"]
    message: str = Field(max_length=2000)


class Done(_Strict):
    type: Literal["done"]
    reply: WireReply
    memory: dict[str, JsonValue] | None = None
    """The conversation's memory of the skill after the call, as plain data (None: it held something
    that is not, and is dropped)."""


class Failed(_Strict):
    type: Literal["error"]
    kind: str = Field(max_length=100)
    message: str = Field(max_length=2000)


class CapabilityCall(_Strict):
    type: Literal["cap"]
    capability: str = Field(max_length=40)
    method: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    args: list[BoundedJson] = Field(max_length=20)
    kwargs: dict[str, BoundedJson] = Field(max_length=20)


FromWorker = TypeAdapter(Annotated[Ready | Fatal | Done | Failed | CapabilityCall, Field(discriminator="type")])

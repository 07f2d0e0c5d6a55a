import pytest

from assistant.config import ShopSettings
from assistant.nlu.parse import Entity
from assistant.purchase import PurchaseGate, Refusal, Refused
from assistant.sdk import OUT_OF_RANGE, Request
from assistant.store import Catalog, Database, ensure_demo

HUGE = "9" * 400  # a float of it is infinity


def said(entity: str, value: str, role: str | None = None) -> Request:
    return Request(
        "add_to_cart", f"add {value} oat milk", entities=(Entity(entity, value, 4, 4 + len(value), role=role),)
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(HUGE, OUT_OF_RANGE), ("-" + HUGE, -OUT_OF_RANGE), ("1e400", OUT_OF_RANGE), ("nan", None), ("3", 3), ("2.0", 2)],
)
def test_absurd_quantities_read_as_out_of_range(value, expected):
    assert said("quantity", value).quantity == expected


def test_absurd_prices_read_as_out_of_range():
    assert said("price", HUGE, role="max").price("max") == OUT_OF_RANGE
    assert said("price", "nan").price() is None


def test_an_absurd_quantity_is_refused_in_a_short_sentence(tmp_path):
    db = Database(tmp_path / "data")
    ensure_demo(db, "me")
    milk = Catalog(db).by_sku("GRO-0001").id
    refusal = PurchaseGate(db, ShopSettings()).quote(
        db.user_id("me"), "kitchen", [(milk, said("quantity", HUGE).quantity)]
    )
    assert isinstance(refusal, Refusal) and refusal.reason is Refused.BAD_QUANTITY
    assert refusal.speech == "I can order up to 50 of each item, so I can't order that many."

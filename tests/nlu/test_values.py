import pytest

from assistant.nlu.values import normalise, ordinal_value, price_value, quantity_value


@pytest.mark.parametrize(
    ("said", "value"),
    [("two", 2), ("a dozen", 12), ("3", 3), ("a couple", 2), ("ten thousand", 10000), ("zero", 0)],
)
def test_quantities(said, value):
    assert quantity_value(said) == value


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("second", "2"),
        ("the last one", "last"),
        ("number three", "3"),
        ("3rd", "3"),
        ("first", "1"),
        ("tenth", "10"),
    ],
)
def test_ordinals(said, value):
    assert ordinal_value(said) == value


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("five pounds", 5.0),
        ("two fifty", 2.5),
        ("£3.50", 3.5),
        ("three pounds fifty", 3.5),
        ("80p", 0.8),
        ("ten quid", 10.0),
        ("a tenner", 10.0),
        ("twenty five dollars", 25.0),
    ],
)
def test_prices(said, value):
    assert price_value(said) == value


def test_normalise_keeps_products_as_written():
    assert normalise("product", " Oat Milk ") == "Oat Milk"  # as written, like Rasa
    assert normalise("price", "two fifty") == "2.50"
    assert normalise("quantity", "lots") == "lots"

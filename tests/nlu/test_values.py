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


def test_positions_said_however_the_tagger_took_them():
    from assistant.nlu.parse import Entity, IntentScore, Parse
    from assistant.nlu.values import read_positions

    def read(text: str, *entities: Entity) -> list[tuple[str, str]]:
        parse = read_positions(Parse(text, IntentScore("remove_from_cart", 1.0), entities=list(entities)))
        return [(e.entity, e.value) for e in parse.entities]

    assert read("remove the 99th one", Entity("quantity", "99", 11, 13, text="99")) == [("ordinal", "99")]
    assert read("remove the twentieth one") == [("ordinal", "20")]
    assert read("take the twenty-third one out") == [("ordinal", "23")]
    assert read("add first class stamps", Entity("product", "first class stamps", 4, 22)) == [
        ("product", "first class stamps")
    ]
    assert read("add two of them", Entity("quantity", "2", 4, 7, text="two")) == [("quantity", "2")]

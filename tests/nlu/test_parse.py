"""Parse <-> Rasa's /model/parse JSON: what Rasa 3.6 answers survives the round trip."""

from __future__ import annotations

from assistant.nlu.parse import Parse

RASA_ANSWER = {
    "text": "what is  your name, Bob",
    "intent": {"name": "chitchat", "confidence": 0.91},
    "entities": [
        {
            "entity": "person",
            "start": 20,
            "end": 23,
            "confidence_entity": 0.88,
            "role": "asker",
            "group": "1",
            "value": "Bob",
            "extractor": "DIETClassifier",
            "processors": ["EntitySynonymMapper"],
        }
    ],
    "intent_ranking": [{"name": "chitchat", "confidence": 0.91}, {"name": "greet", "confidence": 0.09}],
    "response_selector": {
        "all_retrieval_intents": ["chitchat"],
        "default": {
            "response": {
                "responses": [{"text": "chitchat/ask_name"}],
                "confidence": 0.97,
                "intent_response_key": "chitchat/ask_name",
                "utter_action": "utter_chitchat/ask_name",
            },
            "ranking": [{"confidence": 0.97, "intent_response_key": "chitchat/ask_name"}],
        },
    },
}


def test_rasa_answer_round_trips_with_entities_and_response_selector():
    parse = Parse.from_rasa(RASA_ANSWER)
    assert parse.retrieval_intent == "chitchat/ask_name"
    (person,) = parse.entities
    assert (person.text, person.value, person.role, person.group, person.confidence) == (
        "Bob",
        "Bob",
        "asker",
        "1",
        0.88,
    )
    out = parse.to_rasa()
    assert out["text"] == RASA_ANSWER["text"]
    assert out["response_selector"] == RASA_ANSWER["response_selector"]
    expected = {k: v for k, v in RASA_ANSWER["entities"][0].items() if k != "processors"}
    assert expected.items() <= out["entities"][0].items()

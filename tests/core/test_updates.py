"""Which chat an update belongs to (its order in the inbox) and what kind it is."""

from __future__ import annotations

from typing import Any

import pytest

from models.updates import Kind, chat_key, kind

PERSON = {"id": 111, "is_bot": False, "first_name": "Ann"}
GROUP = {"id": -1002, "type": "supergroup", "title": "Shift A"}
PRIVATE = {"id": 111, "type": "private", "first_name": "Ann"}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"update_id": 1, "message": {"message_id": 5, "chat": PRIVATE, "from": PERSON}}, 111),
        ({"update_id": 2, "message": {"message_id": 5, "chat": GROUP, "from": PERSON}}, -1002),
        ({"update_id": 3, "edited_message": {"chat": GROUP, "from": PERSON}}, -1002),
        (
            {
                "update_id": 4,
                "callback_query": {
                    "id": "9",
                    "from": PERSON,
                    "message": {"message_id": 7, "chat": GROUP},
                    "data": "d",
                },
            },
            -1002,
        ),
        # a button on an inline message: no message, so the person who tapped
        ({"update_id": 5, "callback_query": {"id": "9", "from": PERSON, "data": "d"}}, 111),
        ({"update_id": 6, "my_chat_member": {"chat": PRIVATE, "from": PERSON}}, 111),
        ({"update_id": 7, "inline_query": {"id": "1", "from": PERSON, "query": ""}}, 111),
        ({"update_id": 8, "poll_answer": {"poll_id": "p", "user": PERSON}}, 111),
        ({"update_id": 9, "poll": {"id": "p", "question": "?"}}, 0),
        ({"update_id": 10}, 0),
        # odd shapes never raise: a missing or non-integer id falls through to the next
        ({"update_id": 11, "message": {"chat": {"id": "x"}, "from": PERSON}}, 111),
        ({"update_id": 12, "message": {"chat": {"id": True}}}, 0),
        ({"update_id": 13, "message": "not an object"}, 0),
        ({"update_id": 14, "callback_query": {"message": {"chat": None}, "from": PERSON}}, 111),
    ],
)
def test_chat_key(payload: dict[str, Any], expected: int) -> None:
    assert chat_key(payload) == expected


USER = {"id": 42, "is_bot": False, "first_name": "Walt"}


def test_a_message_belongs_to_its_chat() -> None:
    update = {"update_id": 1, "message": {"message_id": 5, "chat": {"id": -100}, "from": USER}}
    assert chat_key(update) == -100
    assert kind(update) is Kind.MESSAGE


def test_a_tap_belongs_to_the_chat_of_the_tapped_message() -> None:
    update = {
        "update_id": 2,
        "callback_query": {
            "id": "q",
            "from": USER,
            "message": {"message_id": 9, "chat": {"id": 77}},
            "data": "x",
        },
    }
    assert chat_key(update) == 77
    assert kind(update) is Kind.TAP


def test_a_tap_without_its_message_belongs_to_the_person() -> None:
    update = {"update_id": 3, "callback_query": {"id": "q", "from": USER, "data": "x"}}
    assert chat_key(update) == 42
    assert kind(update) is Kind.TAP


def test_other_updates_take_their_chat_or_sender() -> None:
    member = {"update_id": 4, "my_chat_member": {"chat": {"id": 8}, "from": USER}}
    assert chat_key(member) == 8
    assert kind(member) is Kind.OTHER
    inline = {"update_id": 5, "inline_query": {"id": "i", "from": USER, "query": ""}}
    assert chat_key(inline) == 42


def test_an_update_with_neither_chat_nor_sender_is_key_zero() -> None:
    assert chat_key({"update_id": 6, "poll": {"id": "p", "question": "?"}}) == 0
    assert chat_key({"update_id": 7}) == 0
    assert kind({"update_id": 7}) is Kind.OTHER


def test_a_throttle_allows_one_per_key_per_interval_and_forgets_the_oldest() -> None:
    from models.throttle import Throttle

    throttle = Throttle(interval=60, capacity=2)
    assert throttle.allow(1, 0.0)
    assert not throttle.allow(1, 59.0)
    assert throttle.allow(2, 1.0)
    assert throttle.allow(1, 60.0)
    assert throttle.allow(3, 61.0)  # forgets 2, the key seen longest ago
    assert throttle.allow(2, 62.0)
    assert not throttle.allow(3, 62.0)

"""Which chat an update belongs to (its order in the inbox) and what kind it is."""

from __future__ import annotations

from models.updates import Kind, chat_key, kind

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

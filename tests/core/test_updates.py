"""``models.updates.chat_key``: the chat whose updates are handled in order."""

from __future__ import annotations

from typing import Any

import pytest

from models.updates import chat_key

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

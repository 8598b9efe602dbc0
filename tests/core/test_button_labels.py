"""Button labels fit a phone: in every language, a label that shares its row with others is
under 20 characters with the largest number it is shown with (a duty number up to 99, an item
index up to 9); a label alone on its row (a block's reason, Skip) is under 30."""

from __future__ import annotations

import pytest

from bot.render import texts

BUTTONS = [
    "nudge.button_done",
    "nudge.button_blocked",
    "nudge.button_later",
    "escalation.ack",
    "escalation.excuse",
    "escalation.nudge",
    "escalation.reassign",
    "escalation.resolve",
    "reply.later_1h",
    "reply.later_2h",
    "reply.later_es",
    "reply.later_tm",
    "action.page_previous",
    "action.page_next",
]
ALONE = [  # one button per row
    "reply.skip",
    "reply.category_waiting",
    "reply.category_materials",
    "reply.category_help",
    "reply.category_other",
]


@pytest.mark.parametrize("lang", texts.languages())
def test_every_button_label_is_short_enough_for_a_phone(lang: str) -> None:
    too_long = {
        message_id: label
        for message_id in BUTTONS + ALONE
        if len(label := texts.render(lang, message_id, number=99, index=9, page=99))
        >= (30 if message_id in ALONE else 20)
    }
    assert not too_long, too_long


def test_the_button_list_names_existing_texts() -> None:
    catalogue = texts.catalogue("en")
    assert all(message_id in catalogue for message_id in BUTTONS + ALONE)

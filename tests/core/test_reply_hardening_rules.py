"""Reply rules added for issue 10: which text a pending question takes (item 10), the bound on
a "later" and times labelled with their day (item 15), images recognised by content (item 16)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.render.messages import when_label
from models.replies import (
    MAX_LATER,
    accepts_file,
    full_reply,
    image_kind,
    later_refusal,
    too_far,
    typed_time,
)

TZ = "Europe/Berlin"
NOW = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)  # Tue, Nov 17, 07:00 in Berlin


@pytest.mark.parametrize(
    ("text", "full"),
    [
        ("done 1 3", True),
        ("Done 2", True),
        ("done 1, 3,", True),
        ("blocked 2 waiting for the valve", True),
        ("blocked 2", True),
        ("later 1 15:30", True),
        ("later 1 +2h", True),
        ("later 1 +7d", True),
        # Each of these answers a pending question instead.
        ("Done by the night shift already", False),
        ("Done 2 hours ago by the night shift", False),
        ("done 12 1234", False),
        ("Blocked by the broken forklift", False),
        ("later, after lunch", False),
        ("later 1 after lunch", False),
        ("later 1 06:30", False),  # passed
        ("later 1 +8d", False),  # beyond the bound
        ("15:30", False),
        ("", False),
    ],
)
def test_item10_only_a_typed_reply_in_full_form_passes_a_pending_question(
    text: str, full: bool
) -> None:
    assert full_reply(text, NOW, TZ) is full


def test_item15_a_later_reaches_seven_days_and_no_further() -> None:
    assert timedelta(days=7) == MAX_LATER
    assert not too_far(NOW + MAX_LATER, NOW)
    assert too_far(NOW + MAX_LATER + timedelta(seconds=1), NOW)


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("+2h", None),
        ("+7d", None),
        ("15:30", None),
        ("+7d1s", "too_far"),
        ("+8d", "too_far"),
        ("+99999d", "too_far"),  # past any duration the bot reads: still "too far"
        ("+99999999999999999999d", "too_far"),
        ("06:30", "not_a_time"),  # passed
        ("soon", "not_a_time"),
        ("+", "not_a_time"),
        ("+0h", "not_a_time"),
        ("+2x", "not_a_time"),
    ],
)
def test_item15_why_a_typed_time_is_refused(text: str, refusal: str | None) -> None:
    assert later_refusal(text, typed_time(text, NOW, TZ), NOW) == refusal


@pytest.mark.parametrize(
    ("at", "today", "label"),
    [
        (datetime(2026, 11, 17, 14, 30, tzinfo=UTC), NOW, "15:30"),
        (datetime(2026, 11, 17, 22, 59, tzinfo=UTC), NOW, "23:59"),
        (
            datetime(2026, 11, 17, 23, 0, tzinfo=UTC),
            NOW,
            "Wed, Nov 18 00:00",
        ),  # after midnight in Berlin
        (datetime(2026, 11, 16, 8, 0, tzinfo=UTC), NOW, "Mon, Nov 16 09:00"),  # a past day
        (NOW + MAX_LATER, NOW, "Tue, Nov 24 07:00"),  # same weekday: the date tells
        (datetime(2026, 11, 17, 23, 30, tzinfo=UTC), date(2026, 11, 18), "00:30"),
    ],
)
def test_item15_a_time_carries_its_date_when_not_the_readers_today(
    at: datetime, today: datetime | date, label: str
) -> None:
    assert when_label("en", at, TZ, today) == label


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 "
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (JPEG, "jpeg"),
        (PNG, "png"),
        (WEBP, "webp"),
        (HEIC, "heic"),
        (EXE, None),
        (b"%PDF-1.4 report", None),
        (b"GIF89a\x01\x00\x01\x00", None),  # an image, but not a photo format asked for
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"\xff\xd8", None),  # too short to tell
        (b"", None),
    ],
)
def test_item16_images_are_known_by_their_first_bytes(head: bytes, kind: str | None) -> None:
    assert image_kind(head) == kind


def test_item16_a_photo_duty_takes_photos_and_image_documents_only() -> None:
    assert accepts_file("photo", "photo", None)  # Telegram sends only images as photos
    assert accepts_file("photo", "document", "png")
    assert not accepts_file("photo", "document", None)
    assert accepts_file("text", "document", None)

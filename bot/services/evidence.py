"""Evidence: a photo or document sent for a duty the bot asked about ("Done" on a duty that
needs a photo or a text), recorded as its answer; and evidence files on disk
(``[replies] evidence_dir``): written owner-only, named by Telegram's unique file id and a
suffix read from the content, never from the name the sender gave."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.delivery.outcomes import Outcome
from bot.services.recording import Incoming, ReplyContext, already, load, person_of, record
from bot.store import occurrences, replies
from bot.store.engine import session_scope
from models.replies import IMAGE_SUFFIXES, Action, accepts_file, image_kind

log = logging.getLogger(__name__)
FILE_MODE, DIR_MODE = 0o600, 0o700


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """A photo or document sent as evidence; ``content`` when it was fetched."""

    file_id: str
    unique_id: str
    kind: str  # photo | document
    content: bytes | None


def expected(engine: Engine, incoming: Incoming) -> str | None:
    """The evidence the bot asked this person for ("photo" or "text"), or None when it asked
    for none (only then is a file worth fetching)."""
    with session_scope(engine) as session:
        person = person_of(session, incoming)
        if person is None:
            return None
        question = replies.pending_input(session, person.id or 0, incoming.now)
        if question is None or question.kind != "evidence":
            return None
        found = occurrences.occurrence_with_duty(session, question.occurrence_id)
        return found[1].evidence if found is not None else None


def received(
    engine: Engine,
    settings: Settings,
    incoming: Incoming,
    file: EvidenceFile,
) -> Outcome | None:
    """A photo or document: evidence for the duty the bot asked about, if it asked. For a
    photo duty a document counts only if its content is an image; a refused file is neither
    recorded nor kept, and the question stays open."""
    with session_scope(engine) as session:
        person = person_of(session, incoming)
        if person is None:
            return None
        ctx = ReplyContext(session, settings, person, incoming)
        if (earlier := replies.reply_by_update(session, incoming.update_id)) is not None:
            return already(ctx, earlier)
        question = replies.pending_input(session, person.id or 0, ctx.now)
        if question is None or question.kind != "evidence":
            return Outcome(ctx.text("reply.not_expected"))
        loaded = load(ctx, question.occurrence_id)
        if isinstance(loaded, Outcome):
            replies.forget_question(session, person.id or 0)
            return loaded
        occ, duty, _ = loaded
        image = image_kind(file.content[:16]) if file.content is not None else None
        if not accepts_file(duty.evidence, file.kind, image):
            unread = "reply.not_an_image" if file.content is not None else "reply.file_unread"
            return Outcome(ctx.text(unread, number=occ.number, title=duty.title))
        path = keep(settings.replies.evidence_dir, file.unique_id, image, file.content)
        outcome = record(ctx, loaded, Action.DONE, via=file.kind, evidence=(file.file_id, path))
        replies.forget_question(session, person.id or 0)
        return outcome


def keep(folder: str, unique_id: str, image: str | None, content: bytes | None) -> str | None:
    """Write ``content`` as ``<folder>/<unique_id><suffix>``; its path, or None when there is
    no folder, no content, or the write failed (the file id alone still names the evidence)."""
    if not folder or content is None:
        return None
    target = Path(folder) / f"{unique_id}{IMAGE_SUFFIXES.get(image or '', '')}"
    try:
        make_private_dir(target.parent)
        write_private(target, content)
    except OSError:
        log.warning("could not keep evidence %s", unique_id, exc_info=True)
        return None
    return str(target)


def make_private_dir(folder: Path) -> None:
    """Create ``folder`` (and missing parents) readable by the owner only (0700)."""
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def write_private(path: Path, content: bytes) -> None:
    """Write ``content`` to a file only its owner may read (0600), also when it existed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb", closefd=False) as out:
            out.write(content)
    finally:
        os.close(fd)

"""Evidence files on disk (``[replies] evidence_dir``): written owner-only, named by Telegram's
unique file id and a suffix read from the content, never from the name the sender gave."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from models.replies import IMAGE_SUFFIXES

log = logging.getLogger(__name__)
FILE_MODE, DIR_MODE = 0o600, 0o700


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

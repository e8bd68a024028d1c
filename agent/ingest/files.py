"""Files as ingest meets them: which to walk in a folder, what kind each one is, and a text
file's text."""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from agent.ingest.exclusions import excluded_folder
from agent.ingest.notes import normalise
from agent.settings import Settings

# Leading bytes of media that the text path must not read as text.
_MEDIA_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"RIFF", "a RIFF (WAV/WebP) file"),
    (b"ID3", "an MP3 file"),
    (b"OggS", "an Ogg file"),
    (b"fLaC", "a FLAC file"),
    (b"%PDF", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive"),
)


class Rejected(Exception):
    """A file that is not a memory, with one sentence on why."""


def read_text_file(path: Path, max_bytes: int) -> str:
    """The file's text, or Rejected with one sentence on why it is not a text memory."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise Rejected(
                f"is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit for a text "
                "file; split it or raise max_file_mb in config.toml"
            )
        data = path.read_bytes()
    except PermissionError:
        raise Rejected("cannot be read (permission denied)") from None
    except OSError as exc:
        raise Rejected(f"cannot be read ({exc.strerror or exc})") from None
    for magic, what in _MEDIA_MAGIC:
        if data.startswith(magic):
            raise Rejected(
                f"is {what}, which papertape does not read (it takes text, PNG/JPEG/WebP "
                "images and WAV/MP3/M4A/Ogg/FLAC audio)"
            )
    try:
        text = _decoded(data)
    except UnicodeDecodeError:
        raise Rejected("is not UTF-8 text; convert it (iconv -t UTF-8) and try again") from None
    if not normalise(text):
        raise Rejected("is empty")
    return text


# Text that says its encoding in its first bytes (Windows editors save UTF-16 with one).
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decoded(data: bytes) -> str:
    """A file's text: UTF-16 or UTF-32 when a byte-order mark says so, else UTF-8 (with or
    without a mark). Raises Rejected for a binary file, UnicodeDecodeError for other text."""
    for mark, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                break  # bytes that only begin like a mark
    if b"\x00" in data[:8192]:
        raise Rejected("is a binary file, not text")
    return data.decode("utf-8-sig")


def listed_files(
    paths: Sequence[Path], settings: Settings
) -> tuple[list[tuple[Path, list[Path] | None]], int]:
    """Each path with the files it names (a folder's, walked by `files_under` skipping the
    home; a file, itself; None when it does not exist), and how many of them are images and
    recordings that no excluded folder holds: the slow part of ingesting a folder."""
    listed: list[tuple[Path, list[Path] | None]] = []
    for path in paths:
        if not path.exists():
            listed.append((path, None))
        elif path.is_dir():
            listed.append((path, list(files_under(path, settings.home))))
        else:
            listed.append((path, [path]))
    media = sum(  # sniffed only once known to be a plain file: opening a FIFO would block
        excluded_folder(file, settings) is None
        and not_a_file(file, given) is None
        and media_kind(file) is not None
        for given, files in listed
        for file in files or ()
    )
    return listed, media


def link_out_of(file: Path, given: Path) -> str | None:
    """Why a file found in folder `given` is not taken in when it is a link to a file
    outside that folder (a link to /etc/passwd in a notes folder); None otherwise. A link
    given by name, not found in a folder, is followed."""
    if file == given or not file.is_symlink():
        return None
    target = file.resolve()
    if target.is_relative_to(given.resolve()):
        return None
    return f"is a link to {target}, outside the folder: give that file itself to take it in"


def files_under(folder: Path, skip: Path) -> Iterator[Path]:
    """Files under `folder` in a stable order, skipping hidden files and folders and `skip`
    (papertape's own home: its store must never be ingested into itself). A folder that
    cannot be listed is yielded itself, so the caller can say it was skipped and why."""
    unreadable: list[OSError] = []
    for root, dirs, files in os.walk(folder, onerror=unreadable.append):
        yield from _unlisted(unreadable)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and (Path(root) / d).resolve() != skip
        )
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name
    yield from _unlisted(unreadable)


def _unlisted(errors: list[OSError]) -> Iterator[Path]:
    while errors:
        failed = errors.pop(0).filename
        if failed is not None:
            yield Path(failed)


_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def not_a_file(path: Path, given: Path | None = None) -> str | None:
    """Why `path` cannot be read as a file (a folder that cannot be listed, a FIFO, a
    device, a broken link, a link out of the folder `given` it was found in), or None for
    a regular file. Checked before anything opens it: opening a FIFO would wait for a
    writer forever."""
    if given is not None and (outside := link_out_of(path, given)):
        return outside
    try:
        mode = path.stat().st_mode
    except PermissionError:
        return "cannot be read (permission denied); skipped"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc}); skipped"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder that cannot be read (permission denied); its files were skipped"
    what = next((name for test, name in _SPECIAL if test(mode)), "a special file")
    return f"is {what}, not a regular file; skipped"


IMAGE_MAGIC = ((0, b"\x89PNG\r\n\x1a\n"), (0, b"\xff\xd8\xff"), (8, b"WEBP"))


AUDIO_MAGIC = (
    (8, b"WAVE"),
    (0, b"ID3"),
    (0, b"\xff\xfb"),
    (0, b"\xff\xf3"),
    (0, b"\xff\xf2"),
    (0, b"OggS"),
    (0, b"fLaC"),
    (4, b"ftypM4A"),
)


def media_kind(path: Path) -> str | None:
    """ "image" or "audio" by the file's leading bytes (not its name), else None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return None
    for offset, magic in IMAGE_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return "image"
    for offset, magic in AUDIO_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return "audio"
    return None

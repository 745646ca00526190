"""Reading a small hand-written text file (a stack file, a policy template) whole, or saying why not.

One bounded read: a file larger than expected is refused before it is decoded or parsed, and bytes that are not
UTF-8 are named by value and offset rather than surfacing as a decoder traceback.
"""

from __future__ import annotations

from pathlib import Path


class UnreadableText(ValueError):
    """Why the file cannot be read as text; the message follows the file's name (``"<name> " + message``)."""


def read_utf8(path: Path, max_bytes: int, what: str) -> str:
    """The text of ``path``; :class:`UnreadableText` when it cannot be opened, exceeds ``max_bytes`` or is not
    UTF-8. ``what`` names what the file should be ("a stack file") for the size message."""
    try:
        with path.open("rb") as stream:
            data = stream.read(max_bytes + 1)
    except OSError as error:
        raise UnreadableText(f"cannot be read: {error.strerror or error}") from None
    if len(data) > max_bytes:
        raise UnreadableText(f"is larger than {max_bytes:,} bytes: not {what}; refused")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableText(
            f"is not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start}); save it as UTF-8"
        ) from None

"""A multipart/form-data body (RFC 7578): text fields, then one file part streamed from disk."""

from __future__ import annotations

import contextlib
import io
import mimetypes
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cronflow_job.config import ConfigError

# Without an input file the file part is still sent (job-submission services require one, and may take
# it empty): a named, zero-byte text file; an empty filename would read as "no file" to many servers.
EMPTY_FILE_NAME = "empty.txt"
EMPTY_FILE_TYPE = "text/plain"
DEFAULT_FILE_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class FormBody:
    """What the body holds; the file (`path`, None for the empty file) is read only when it is sent."""

    fields: dict[str, str]
    file_field: str
    path: str | None
    boundary: str

    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"


class Stream:
    """A readable body of known length (so it is sent with Content-Length, not chunked)."""

    def __init__(self, head: bytes, file: BinaryIO, size: int, tail: bytes) -> None:
        self._parts: list[BinaryIO] = [io.BytesIO(head), file, io.BytesIO(tail)]
        self._length = len(head) + size + len(tail)

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all with -1) of the parts in turn; b"" at the end."""
        data = b""
        while self._parts and (size < 0 or len(data) < size):
            chunk = self._parts[0].read(-1 if size < 0 else size - len(data))
            if not chunk:
                self._parts.pop(0)
            data += chunk
        return data


@contextlib.contextmanager
def open_form(form: FormBody) -> Iterator[Stream]:
    """The body, ready to read once; an unreadable input file is a ConfigError naming it."""
    if form.path is None:
        file: BinaryIO = io.BytesIO()
        size, name, kind = 0, EMPTY_FILE_NAME, EMPTY_FILE_TYPE
    else:
        try:
            file = open(form.path, "rb")  # noqa: SIM115 - closed by the with block below
            size = os.fstat(file.fileno()).st_size
        except OSError as exc:
            raise ConfigError(f"cannot read the input file {form.path}: {exc.strerror or exc}") from None
        name = os.path.basename(form.path)
        kind = mimetypes.guess_type(name)[0] or DEFAULT_FILE_TYPE
    with file:
        yield Stream(_head(form, name, kind), file, size, f"\r\n--{form.boundary}--\r\n".encode())


def _head(form: FormBody, filename: str, content_type: str) -> bytes:
    parts = [
        f'--{form.boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n{value}\r\n'
        for name, value in form.fields.items()
    ]
    parts.append(
        f"--{form.boundary}\r\nContent-Disposition: form-data; name=\"{_quoted(form.file_field)}\"; "
        f'filename="{_quoted(filename)}"\r\nContent-Type: {content_type}\r\n\r\n'
    )
    return "".join(parts).encode("utf-8")


def _quoted(name: str) -> str:
    """A name inside a quoted Content-Disposition parameter, escaped as browsers do."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")

"""Safe reading of zip archives fetched from the internet.

Upstream archives are untrusted: a member may try to escape its folder (`../x`, `/etc/x`, `a\\b`), a
zip may be truncated by a broken download, and a member may expand to far more bytes than it declares
(a zip bomb lies in its headers). `iter_zip_members` checks the paths and the declared sizes before
anything is read, and wraps every member stream so that the bytes actually read are counted and any
decompression, CRC or end-of-file error surfaces as one `ArchiveError` line naming the archive.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pipelines.errors import ArchiveError

# Errors zipfile and its decompressors raise on corrupt or truncated data.
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)
_DRIVE = re.compile(r"^[A-Za-z]:")


class CappedMemberStream(io.RawIOBase):
    """Read-only stream over one archive member: counts bytes read, raises ArchiveError past the cap.

    zipfile already stops at the declared size and checks the CRC, but the count here does not rely on
    any header the archive supplies: it is the last line of defence against a member that expands.
    """

    def __init__(self, raw: BinaryIO, label: str, max_bytes: int):
        super().__init__()
        self._raw = raw
        self._label = label
        self._max_bytes = max_bytes
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._max_bytes + 1 - self.bytes_read  # never materialise more than the cap allows
            chunks = []
            while True:
                chunk = self._read_raw(max(min(size, 1 << 20), 1))
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        return self._read_raw(size)

    def readinto(self, buffer) -> int:
        data = self._read_raw(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _read_raw(self, size: int) -> bytes:
        try:
            data = self._raw.read(size)
        except _READ_ERRORS as error:
            raise ArchiveError(f"{self._label}: corrupt or truncated member ({_reason(error)})") from None
        self.bytes_read += len(data)
        if self.bytes_read > self._max_bytes:
            raise ArchiveError(f"{self._label}: expands past the size cap of {self._max_bytes} bytes")
        return data

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _unsafe_reason(name: str, folder: str | None, is_dir: bool) -> str | None:
    """Why a member path is unsafe, or None when it stays inside its folder."""
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/") or _DRIVE.match(name):
        return "is absolute"
    parts = name.rstrip("/").split("/") if is_dir else name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "has an empty, '.' or '..' component"
    if folder is not None:
        if parts[0] != folder:
            return f"is outside folder {folder!r}"
        if len(parts) < 2 and not is_dir:
            return f"is outside folder {folder!r}"
    return None


def iter_zip_members(
    zip_path: Path, max_member_bytes: int, folder: str | None = None
) -> Iterator[tuple[str, BinaryIO]]:
    """Yield (member path, stream) for each file member of `zip_path`, in archive order.

    Every member path is checked before the first one is yielded, so an unsafe archive is rejected
    whole. A stream is valid until the next member is requested; read errors raise ArchiveError.
    """
    label = str(zip_path)
    try:
        archive = zipfile.ZipFile(zip_path)
    except FileNotFoundError:
        raise ArchiveError(f"{label}: archive not found") from None
    except _READ_ERRORS as error:
        raise ArchiveError(f"{label}: not a zip archive or truncated ({_reason(error)})") from None
    with archive:
        members = archive.infolist()
        for info in members:
            reason = _unsafe_reason(info.filename, folder, info.is_dir())
            if reason:
                raise ArchiveError(f"{label}: member {info.filename!r} {reason}")
            if info.file_size > max_member_bytes:
                raise ArchiveError(
                    f"{label}: member {info.filename!r} declares {info.file_size} bytes, "
                    f"past the size cap of {max_member_bytes} bytes"
                )
        for info in members:
            if info.is_dir():
                continue
            try:
                raw = archive.open(info)
            except _READ_ERRORS as error:
                raise ArchiveError(
                    f"{label}: member {info.filename!r} unreadable ({_reason(error)})"
                ) from None
            with CappedMemberStream(raw, f"{label}: member {info.filename!r}", max_member_bytes) as stream:
                yield info.filename, stream

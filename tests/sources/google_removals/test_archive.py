"""pipelines.archive: members are read only when the archive is whole, safe and within the size cap."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from pipelines.archive import CappedMemberStream, iter_zip_members
from pipelines.errors import ArchiveError

FOLDER = "google-government-removals"
CAP = 1024**2


def make_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        archive.writestr(zipfile.ZipInfo(f"{FOLDER}/"), b"")
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def read_all(path: Path, cap: int = CAP, folder: str | None = FOLDER) -> dict[str, bytes]:
    return {name: stream.read() for name, stream in iter_zip_members(path, cap, folder)}


def test_yields_each_file_member_with_its_bytes_and_skips_the_folder_entry(tmp_path):
    path = make_zip(tmp_path / "a.zip", {f"{FOLDER}/a.csv": b"x,y\n1,2\n", f"{FOLDER}/b.csv": b"z\n"})
    assert read_all(path) == {f"{FOLDER}/a.csv": b"x,y\n1,2\n", f"{FOLDER}/b.csv": b"z\n"}


def test_member_streams_can_be_read_in_chunks(tmp_path):
    data = bytes(range(256)) * 1000
    path = make_zip(tmp_path / "a.zip", {f"{FOLDER}/a.bin": data})
    for _, stream in iter_zip_members(path, CAP, FOLDER):
        chunks = []
        while chunk := stream.read(1000):
            chunks.append(chunk)
        assert b"".join(chunks) == data and max(map(len, chunks)) == 1000


def test_truncated_zip_is_an_archive_error_naming_the_file(tmp_path):
    path = make_zip(tmp_path / "a.zip", {f"{FOLDER}/a.csv": b"x\n" * 10_000})
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ArchiveError, match=r"a\.zip: not a zip archive or truncated"):
        read_all(path)


def test_a_file_that_is_not_a_zip_is_an_archive_error(tmp_path):
    path = tmp_path / "page.zip"
    path.write_text("<html>Service Unavailable</html>")
    with pytest.raises(ArchiveError, match=r"page\.zip: not a zip archive"):
        read_all(path)


def test_corrupt_member_data_is_an_archive_error_raised_while_reading(tmp_path):
    path = make_zip(tmp_path / "a.zip", {f"{FOLDER}/a.csv": b"0123456789" * 1000}, zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    at = raw.index(b"0123456789")
    raw[at + 5000 : at + 5010] = b"XXXXXXXXXX"  # stored bytes no longer match the CRC
    path.write_bytes(bytes(raw))
    with pytest.raises(ArchiveError, match=r"a\.zip: member '.*a\.csv': corrupt or truncated member"):
        read_all(path)


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (f"{FOLDER}/../evil.csv", "'..'"),
        ("/etc/evil.csv", "is absolute"),
        (f"{FOLDER}\\..\\evil.csv", "backslash"),
        ("other-folder/evil.csv", "outside folder"),
        ("evil.csv", "outside folder"),
    ],
)
def test_member_path_escaping_its_folder_is_an_archive_error(tmp_path, member, reason):
    path = make_zip(tmp_path / "a.zip", {f"{FOLDER}/ok.csv": b"x\n", member: b"x\n"})
    with pytest.raises(ArchiveError, match=reason) as error:
        read_all(path)
    assert repr(member) in str(error.value) and "a.zip" in str(error.value)


def test_unsafe_member_rejects_the_archive_before_any_member_is_yielded(tmp_path):
    path = make_zip(tmp_path / "a.zip", {f"{FOLDER}/ok.csv": b"x\n", "../evil.csv": b"x\n"})
    members = iter_zip_members(path, CAP, FOLDER)
    with pytest.raises(ArchiveError):
        next(members)


def test_member_declaring_more_than_the_cap_is_an_archive_error(tmp_path):
    path = make_zip(tmp_path / "bomb.zip", {f"{FOLDER}/bomb.csv": b"0" * (5 * CAP)})
    assert path.stat().st_size < 64 * 1024  # a real bomb-ish member: tiny compressed, 5 MB expanded
    with pytest.raises(ArchiveError, match=r"bomb\.zip: member '.*bomb\.csv' declares 5242880 bytes, past"):
        read_all(path)


def _lie_about_size(data: bytearray, declared: int) -> None:
    """Rewrite the uncompressed size in the local header and the central directory of the one member."""
    local = data.index(b"PK\x03\x04")
    data[local + 22 : local + 26] = struct.pack("<I", declared)
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", declared)


def test_member_that_lies_about_its_size_is_an_archive_error_before_expanding(tmp_path):
    path = make_zip(tmp_path / "bomb.zip", {f"{FOLDER}/bomb.csv": b"0" * (5 * CAP)})
    data = bytearray(path.read_bytes())
    _lie_about_size(data, 100)
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match=r"bomb\.zip: member '.*bomb\.csv'"):
        for _, stream in iter_zip_members(path, 1000, FOLDER):
            while stream.read(64 * 1024):
                assert stream.bytes_read <= 1000


def test_stream_counting_bytes_raises_once_past_the_cap():
    stream = CappedMemberStream(io.BytesIO(b"x" * 5000), "a.zip: member 'm'", max_bytes=4096)
    assert stream.read(4096) == b"x" * 4096
    with pytest.raises(ArchiveError, match=r"a\.zip: member 'm': expands past the size cap of 4096 bytes"):
        stream.read(4096)


def test_read_all_of_a_stream_stops_one_byte_past_the_cap():
    stream = CappedMemberStream(io.BytesIO(b"x" * 10_000_000), "a.zip: member 'm'", max_bytes=1000)
    with pytest.raises(ArchiveError, match="expands past the size cap"):
        stream.read()
    assert stream.bytes_read == 1001


def test_missing_archive_is_an_archive_error(tmp_path):
    with pytest.raises(ArchiveError, match="archive not found"):
        read_all(tmp_path / "absent.zip")

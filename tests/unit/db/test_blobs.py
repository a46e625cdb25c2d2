"""The content-addressed blob store (DESIGN.md "Data"): bytes named by their sha256, stored
once, written durably (temp file, fsync, rename) so a committed row never names partial bytes,
and never reachable through a name that is not a sha256."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest

from emaildesk.db.blobs import CHUNK, BlobNotFoundError, FileBlobStore


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_blob_put_get_round_trip(blobs: FileBlobStore) -> None:
    data = b"%PDF-1.7\n\x00\xff binary \r\n content"
    sha = await blobs.put(data)
    assert await blobs.get(sha) == data
    assert await blobs.exists(sha)


async def test_blob_empty_content_round_trip(blobs: FileBlobStore) -> None:
    sha = await blobs.put(b"")
    assert sha == hashlib.sha256(b"").hexdigest()
    assert await blobs.get(sha) == b""


async def test_blob_name_is_the_sha256_of_the_content(blobs: FileBlobStore) -> None:
    data = b"hello attachments"
    assert await blobs.put(data) == hashlib.sha256(data).hexdigest()


async def test_blob_directory_layout_is_two_levels_of_hash_prefix(blobs: FileBlobStore) -> None:
    sha = await blobs.put(b"layout")
    expected = blobs.root / sha[:2] / sha[2:4] / sha
    assert blobs.path_of(sha) == expected
    assert files_under(blobs.root) == [expected]
    assert expected.read_bytes() == b"layout"


async def test_blob_same_content_is_stored_once(blobs: FileBlobStore) -> None:
    first = await blobs.put(b"same bytes")
    second = await blobs.put(b"same bytes")
    assert first == second
    assert len(files_under(blobs.root)) == 1


async def test_blob_concurrent_puts_of_the_same_content_leave_one_file(
    blobs: FileBlobStore,
) -> None:
    names = await asyncio.gather(*(blobs.put(b"raced") for _ in range(10)))
    assert len(set(names)) == 1
    assert files_under(blobs.root) == [blobs.path_of(names[0])]


async def test_blob_different_content_is_stored_apart(blobs: FileBlobStore) -> None:
    first = await blobs.put(b"one")
    second = await blobs.put(b"two")
    assert first != second
    assert len(files_under(blobs.root)) == 2
    assert await blobs.get(first) == b"one"


@pytest.mark.parametrize("failing", ["fsync", "replace"])
async def test_blob_failed_write_leaves_no_partial_file(
    blobs: FileBlobStore, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    def refuse(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    data = b"x" * 4096
    sha = hashlib.sha256(data).hexdigest()
    monkeypatch.setattr(os, failing, refuse)
    with pytest.raises(OSError, match="No space left"):
        await blobs.put(data)
    monkeypatch.undo()
    assert not blobs.path_of(sha).exists()
    assert files_under(blobs.root) == []  # no temporary file left behind either
    assert not await blobs.exists(sha)
    # A later attempt succeeds and stores the whole content.
    assert await blobs.put(data) == sha
    assert await blobs.get(sha) == data


async def test_blob_missing_is_blob_not_found(blobs: FileBlobStore) -> None:
    sha = hashlib.sha256(b"never stored").hexdigest()
    assert not await blobs.exists(sha)
    with pytest.raises(BlobNotFoundError):
        await blobs.get(sha)
    with pytest.raises(BlobNotFoundError):
        await anext(aiter(blobs.stream(sha)))


INVALID_NAMES = [
    "../../etc/passwd",
    "../" + "a" * 61,
    "/" + "a" * 63,
    "a" * 63,
    "a" * 65,
    "A" * 64,  # upper-case hex is not how names are written
    "g" * 64,
    "a" * 62 + "/.",
    "",
]


@pytest.mark.parametrize("name", INVALID_NAMES)
async def test_blob_invalid_sha_names_are_refused(blobs: FileBlobStore, name: str) -> None:
    with pytest.raises(BlobNotFoundError):
        blobs.path_of(name)
    with pytest.raises(BlobNotFoundError):
        await blobs.get(name)
    with pytest.raises(BlobNotFoundError):
        await anext(aiter(blobs.stream(name)))
    assert not await blobs.exists(name)


async def test_blob_path_traversal_cannot_read_outside_the_root(
    blobs: FileBlobStore, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"do not serve")
    with pytest.raises(BlobNotFoundError):
        await blobs.get("../secret.txt")
    with pytest.raises(BlobNotFoundError):
        await blobs.get(str(secret))


async def test_blob_stream_yields_the_bytes_in_chunks(blobs: FileBlobStore) -> None:
    data = os.urandom(2 * CHUNK + CHUNK // 2)
    sha = await blobs.put(data)
    chunks = [chunk async for chunk in blobs.stream(sha)]
    assert [len(c) for c in chunks] == [CHUNK, CHUNK, CHUNK // 2]
    assert b"".join(chunks) == data


async def test_blob_stream_of_empty_content_yields_nothing(blobs: FileBlobStore) -> None:
    sha = await blobs.put(b"")
    assert [chunk async for chunk in blobs.stream(sha)] == []

"""Content-addressed blob store on local disk: attachment and raw-message bytes.

A blob is named by its sha256 and written to a temporary file, fsynced, renamed into place and
its directory fsynced, before the row that points at it commits (DESIGN.md "Data"): a committed
row can never name missing bytes. Equal content is stored once. Reads stream in chunks.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

CHUNK = 1024 * 1024


class BlobNotFoundError(LookupError):
    pass


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise BlobNotFoundError(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def put(self, data: bytes) -> str:
        """Store bytes durably; return their sha256."""
        return await asyncio.to_thread(self._put_sync, data)

    def _put_sync(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path_of(sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return sha

    async def get(self, sha256: str) -> bytes:
        path = self.path_of(sha256)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise BlobNotFoundError(sha256) from exc

    async def stream(self, sha256: str) -> AsyncIterator[bytes]:
        path = self.path_of(sha256)
        if not path.exists():
            raise BlobNotFoundError(sha256)
        with path.open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk

    async def exists(self, sha256: str) -> bool:
        try:
            return await asyncio.to_thread(self.path_of(sha256).exists)
        except BlobNotFoundError:
            return False


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable: fsync the directory entry (POSIX)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

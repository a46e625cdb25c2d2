"""The throwaway PostgreSQL cluster the suite runs on: it starts, serves, and leaves nothing."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import asyncpg
import pytest

from support.postgres_cluster import (
    DIR_PREFIX,
    OWNER_FILE,
    TEMP_ROOT,
    URL_ENV_VAR,
    PostgresCluster,
    find_pg_bindir,
    reap_stale_clusters,
)


def _postmaster_pid(directory: Path) -> int:
    return int((directory / "data" / "postmaster.pid").read_text().split()[0])


def _process_exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()  # a zombie still has its /proc entry


def _crash_inside(cluster: PostgresCluster, seen: dict[str, object]) -> None:
    with cluster:
        seen["directory"], seen["port"], seen["url"] = (
            cluster.directory,
            cluster.port,
            cluster.url(),
        )
        raise RuntimeError("test body crashed")


def _port_is_closed(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


@pytest.mark.postgres
async def test_cluster_serves_as_non_root_and_stop_leaves_nothing() -> None:
    cluster = PostgresCluster(environ={})  # ignore a developer's own server here
    cluster.start()
    try:
        directory, port = cluster.directory, cluster.port
        assert directory is not None
        postmaster = _postmaster_pid(directory)
        assert cluster.url() == f"postgresql+asyncpg://postgres@127.0.0.1:{port}/emaildesk_test"

        connection = await asyncpg.connect(cluster.dsn())
        try:
            version = await connection.fetchval("select version()")
            data_directory = await connection.fetchval("select current_setting('data_directory')")
            database = await connection.fetchval("select current_database()")
        finally:
            await connection.close()

        assert version.startswith("PostgreSQL ")
        assert Path(data_directory).is_relative_to(directory)
        assert database == "emaildesk_test"
        assert os.stat(f"/proc/{postmaster}").st_uid != 0  # PostgreSQL refuses root anyway
    finally:
        cluster.stop()

    assert _port_is_closed(port)
    assert not directory.exists()
    assert not _process_exists(postmaster)  # stopped and reaped: no zombie
    cluster.stop()  # a second stop is harmless


@pytest.mark.postgres
def test_cluster_from_versioned_bindir_is_removed_when_the_body_raises(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_ctl, no pg_config, no runuser on PATH
    bindir = find_pg_bindir()
    if bindir is None or bindir.parent.parent != Path("/usr/lib/postgresql"):
        pytest.skip("no /usr/lib/postgresql/<version>/bin on this machine")

    seen: dict[str, object] = {}
    with pytest.raises(RuntimeError, match="test body crashed"):
        _crash_inside(PostgresCluster(environ={}, database="emaildesk_other"), seen)

    directory, port = seen["directory"], seen["port"]
    assert isinstance(directory, Path)
    assert isinstance(port, int)
    assert seen["url"] == f"postgresql+asyncpg://postgres@127.0.0.1:{port}/emaildesk_other"
    assert not directory.exists()
    assert _port_is_closed(port)


def test_external_url_starts_nothing() -> None:
    url = "postgresql+asyncpg://me:secret@db.example:5433/mine"
    cluster = PostgresCluster(environ={URL_ENV_VAR: url})

    with cluster:
        assert cluster.external
        assert cluster.directory is None
        assert cluster.url() == url
        assert cluster.url("other") == "postgresql+asyncpg://me:secret@db.example:5433/other"
        assert cluster.dsn() == "postgresql://me:secret@db.example:5433/mine"


def test_stale_directories_of_dead_owners_are_removed() -> None:
    stale, live = TEMP_ROOT / (DIR_PREFIX + "stale-test"), TEMP_ROOT / (DIR_PREFIX + "live-test")
    for directory in (stale, live):
        directory.mkdir(exist_ok=True)
    started = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]  # field 22
    (stale / OWNER_FILE).write_text(f"{os.getpid()} 1\n")  # our pid, reused: other start time
    (live / OWNER_FILE).write_text(f"{os.getpid()} {started}\n")
    try:
        reap_stale_clusters()

        assert not stale.exists()
        assert live.exists()
    finally:
        for directory in (stale, live):
            for child in directory.glob("*"):
                child.unlink()
            if directory.exists():
                directory.rmdir()

"""A throwaway PostgreSQL cluster for the test suite.

The whole suite runs on SQLite *and* on a real PostgreSQL, because SQLite hides what production
meets: row locks, transactional DDL, strict types, concurrent writers. A shared developer
database would leak state between runs, so each test session gets its own cluster, as Warehouse
does: a temporary data directory under /tmp, a free loopback port, trust authentication,
durability switched off, everything removed afterwards.

PostgreSQL refuses to run as root and CI containers usually are root, so when we are root every
server tool runs as the ``postgres`` system user (Debian's ``postgresql`` package is installed,
or the user created, when missing). When we are not root the tools run as the current user.

Set ``EMAILDESK_TEST_POSTGRES_URL`` to an SQLAlchemy URL (``postgresql+asyncpg://me@host/db``)
to use a server of your own: then nothing is started or stopped.

``pg_ctl`` detaches the postmaster into its own session, so a server outlives a killed pytest.
``stop()`` runs from ``atexit`` as well, and every directory records the process that owns it:
the next ``start()`` stops and removes directories whose owner is gone (best effort).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import ctypes
import fcntl
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote, urlsplit

# asyncpg ships no type information (no py.typed); we only call connect/execute/close.
import asyncpg  # type: ignore[import-untyped, unused-ignore]

URL_ENV_VAR = "EMAILDESK_TEST_POSTGRES_URL"
DEFAULT_DATABASE = "emaildesk_test"
SUPERUSER = "postgres"
SYSTEM_USER = "postgres"
HOST = "127.0.0.1"
TEMP_ROOT = Path("/tmp")
# Short on purpose: the socket <dir>/.s.PGSQL.<port> must fit sun_path (108 bytes on Linux).
DIR_PREFIX = "emaildesk-pg-"
OWNER_FILE = "owner"
INSTALL_LOCK = TEMP_ROOT / "emaildesk-pg-install.lock"
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres", "pg_isready")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# An unquoted identifier shorter than NAMEDATALEN (64), so it never needs escaping.
DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
PORT_ATTEMPTS = 3
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
PR_GET_CHILD_SUBREAPER = 37


class PostgresClusterError(RuntimeError):
    """The throwaway cluster could not be installed, started or reached."""


def find_pg_bindir() -> Path | None:
    """Return a directory holding initdb, pg_ctl, postgres and pg_isready, or None.

    Looks at pg_ctl on PATH (symlinks resolved: /usr/local/bin often holds lone links),
    then ``pg_config --bindir``, then /usr/lib/postgresql/<version>/bin, highest version first.
    """
    candidates: list[Path] = []
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is not None:
        candidates.append(Path(pg_ctl).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            reply = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            if reply.stdout.strip():
                candidates.append(Path(reply.stdout.strip()))
    candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version, reverse=True))
    return next((path for path in candidates if _is_server_bindir(path)), None)


def ensure_postgres_installed() -> Path:
    """Return the server bindir, installing Debian's ``postgresql`` package when root."""
    bindir = find_pg_bindir()
    if bindir is not None and (not _is_root() or _system_user_exists()):
        return bindir
    if not _is_root():
        raise PostgresClusterError(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found. Install them "
            "(Debian/Ubuntu: `sudo apt-get install postgresql`), put their directory on PATH, "
            f"or set {URL_ENV_VAR} to a PostgreSQL server of your own."
        )
    with _install_lock():  # parallel workers install once; the others wait, then re-check
        bindir = find_pg_bindir()
        if bindir is None:
            _apt_install_postgresql()
            bindir = find_pg_bindir()
        if bindir is None:
            raise PostgresClusterError("apt-get installed postgresql but no server bindir found")
        if not _system_user_exists():
            useradd = _system_tool("useradd")
            subprocess.run(
                [useradd, "--system", "--user-group", "--no-create-home",
                 "--home-dir", "/var/lib/postgresql", "--shell", "/bin/sh", SYSTEM_USER],
                check=True,
            )  # fmt: skip
    return bindir


class PostgresCluster:
    """One throwaway server: ``start()`` / ``stop()``, or use it as a context manager."""

    def __init__(
        self,
        *,
        database: str = DEFAULT_DATABASE,
        bindir: Path | None = None,
        environ: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        env = os.environ if environ is None else environ
        self._external_url = env.get(URL_ENV_VAR) or None
        self._database = database
        self._bindir = bindir
        self._timeout = timeout
        self._root: Path | None = None
        self._port: int | None = None

    @property
    def external(self) -> bool:
        """True when EMAILDESK_TEST_POSTGRES_URL names a server and we start nothing."""
        return self._external_url is not None

    @property
    def directory(self) -> Path | None:
        """The temporary directory (data, log, socket) while our own server runs."""
        return self._root

    @property
    def port(self) -> int:
        if self._port is None:
            raise PostgresClusterError("the cluster is not running (or is external)")
        return self._port

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy async URL; without a name, the default database (or the external URL's)."""
        if self._external_url is not None:
            if database is None:
                return self._external_url
            return urlsplit(self._external_url)._replace(path="/" + quote(database)).geturl()
        return f"postgresql+asyncpg://{SUPERUSER}@{HOST}:{self.port}/{database or self._database}"

    def dsn(self, database: str | None = None) -> str:
        """The same server as a libpq URL, for asyncpg.connect() and psql."""
        return urlsplit(self.url(database))._replace(scheme="postgresql").geturl()

    def create_database(self, name: str) -> None:
        """Create database ``name`` unless it exists; callable from inside an event loop."""
        if not DATABASE_NAME.fullmatch(name):
            raise ValueError(f"not a plain lower-case identifier: {name!r}")
        dsn = self.dsn("postgres")
        # A private loop on a worker thread: asyncio.run() refuses to nest in a running loop.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _create_database(dsn, name, self._timeout)).result()

    def start(self) -> Self:
        if self._external_url is not None or self._root is not None:
            return self
        reap_stale_clusters()
        bindir = self._bindir = self._bindir or ensure_postgres_installed()
        root = self._root = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir=TEMP_ROOT))
        atexit.register(self.stop)
        try:
            (root / OWNER_FILE).write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
            if _is_root():
                user = pwd.getpwnam(SYSTEM_USER)
                os.chown(root, user.pw_uid, user.pw_gid)
            root.chmod(0o755)  # mkdtemp makes 0o700; lets postgres and the test user in
            _run_tool(
                # --no-sync and, below, fsync/full_page_writes off: a crash loses only a
                # throwaway cluster, and durability costs seconds per test run.
                [str(bindir / "initdb"), "-D", str(root / "data"), "-U", SUPERUSER,
                 "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
                "initdb",
                root,
                self._timeout,
            )  # fmt: skip
            self._port = self._start_server(bindir, root)
            self._wait_until_ready(bindir)
            self.create_database(self._database)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server and remove its directory; safe to call twice or after a crash."""
        atexit.unregister(self.stop)
        root, self._root, self._port = self._root, None, None
        if root is None:
            return
        data = root / "data"
        pid = _postmaster_pid(data)
        try:
            if pid is not None and self._bindir is not None:
                stop = [str(self._bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "-t", str(int(self._timeout)), "stop"]  # fmt: skip
                with contextlib.suppress(PostgresClusterError, subprocess.SubprocessError):
                    _run_tool(stop, "pg_ctl stop", root, self._timeout)
            if pid is not None:
                _kill_postmaster(pid, data, self._timeout)  # when pg_ctl could not
                _reap(pid, self._timeout)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _start_server(self, bindir: Path, root: Path) -> int:
        log = root / "log"
        for _ in range(PORT_ATTEMPTS):  # the free port may be taken before the server binds
            port = _free_port()
            options = (
                f"-c listen_addresses={HOST} -p {port} -k {shlex.quote(str(root))} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200"
            )
            seen = log.stat().st_size if log.exists() else 0
            start = [str(bindir / "pg_ctl"), "-D", str(root / "data"), "-o", options,
                     "-l", str(log), "-w", "-t", str(int(self._timeout)), "start"]  # fmt: skip
            try:
                with _adopting_orphans():
                    _run_tool(start, "pg_ctl start", root, self._timeout)
            except PostgresClusterError:
                with log.open("rb") as text:
                    text.seek(seen)
                    if b"Address already in use" not in text.read():
                        raise
                continue
            return port
        raise PostgresClusterError(f"no free port after {PORT_ATTEMPTS} attempts; see {log}")

    def _wait_until_ready(self, bindir: Path) -> None:
        # pg_ctl -w already waited; this bounds the wait should it ever return early.
        deadline = time.monotonic() + self._timeout
        ready = [str(bindir / "pg_isready"), "-q", "-h", HOST, "-p", str(self.port), "-t", "1"]
        while subprocess.run(ready, check=False, timeout=self._timeout).returncode != 0:
            if time.monotonic() > deadline:
                raise PostgresClusterError(f"server on port {self.port} never became ready")
            time.sleep(0.1)


def reap_stale_clusters() -> None:
    """Stop and remove cluster directories whose owning process is gone (best effort)."""
    allowed_owners = {os.geteuid()}
    with contextlib.suppress(KeyError):
        allowed_owners.add(pwd.getpwnam(SYSTEM_USER).pw_uid)
    for root in TEMP_ROOT.glob(DIR_PREFIX + "*"):
        with contextlib.suppress(OSError, ValueError):
            if root.is_symlink() or not root.is_dir() or root.stat().st_uid not in allowed_owners:
                continue
            owner, started = (root / OWNER_FILE).read_text().split()
            if _start_time(int(owner)) == started:
                continue  # its owner still runs (another worker, another session)
            postmaster = _postmaster_pid(root / "data")
            if postmaster is not None:
                _kill_postmaster(postmaster, root / "data", 10.0)
            shutil.rmtree(root, ignore_errors=True)


def _run_tool(argv: list[str], what: str, root: Path, timeout: float) -> None:
    # cwd: the tools, run as postgres, must be able to enter it (root's home is 0o700).
    # The postmaster writes to -l <log>, so it holds no pipe of ours open.
    result = subprocess.run(
        _as_server_user(argv),
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout + 30,
    )
    if result.returncode != 0:
        log = root / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise PostgresClusterError(
            f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}{tail}"
        )


async def _create_database(dsn: str, name: str, connect_timeout: float) -> None:
    connection = await asyncpg.connect(dsn, timeout=connect_timeout)
    try:
        # CREATE DATABASE takes no parameters; the name was checked against DATABASE_NAME.
        await connection.execute(f"create database {name}")
    except asyncpg.DuplicateDatabaseError:
        pass
    finally:
        await connection.close()


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _kill_postmaster(pid: int, data: Path, timeout: float) -> None:
    """SIGQUIT (immediate shutdown), then SIGKILL, the postmaster serving ``data``."""
    deadline = time.monotonic() + timeout
    for sig in (signal.SIGQUIT, signal.SIGKILL):
        if not _serves(pid, data):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        while _serves(pid, data) and time.monotonic() < deadline:
            time.sleep(0.05)


def _reap(pid: int, timeout: float) -> None:
    """Collect the exit status of a postmaster adopted by _adopting_orphans()."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            return  # not adopted (no subreaper support) or reaped elsewhere
        time.sleep(0.02)


@contextlib.contextmanager
def _adopting_orphans() -> Iterator[None]:
    """Become the parent of the postmaster that ``pg_ctl start`` leaves behind.

    pg_ctl forks the postmaster and exits, so the server is re-parented to PID 1, and a
    container's PID 1 often never reaps: each stopped cluster would stay a zombie. While this
    process is a child subreaper (Linux prctl) the orphan comes to us instead; stop() reaps it.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    already = ctypes.c_int(0)
    libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(already), 0, 0, 0)
    switched = not already.value and libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    try:
        yield
    finally:
        if switched:
            libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def _serves(pid: int, data: Path) -> bool:
    # The postmaster chdirs into its data directory; a recycled pid will not be there.
    try:
        return os.readlink(f"/proc/{pid}/cwd") == str(data)
    except OSError:
        return False


def _start_time(pid: int) -> str:
    """Start time in clock ticks since boot (/proc/<pid>/stat field 22): pid reuse shows."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"
    return stat.rsplit(")", 1)[1].split()[19]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _as_server_user(argv: list[str]) -> list[str]:
    if not _is_root():
        return argv
    runuser = shutil.which("runuser", path=SYSTEM_PATH)
    if runuser is not None:
        return [runuser, "-u", SYSTEM_USER, "--", *argv]
    return [_system_tool("su"), SYSTEM_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]


def _apt_install_postgresql() -> None:
    apt_get = _system_tool("apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt_get, "update"], check=True, env=env)
    subprocess.run(
        [apt_get, "install", "-y", "--no-install-recommends",
         "-o", "DPkg::Lock::Timeout=300", "postgresql"],
        check=True,
        env=env,
    )  # fmt: skip


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    with INSTALL_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _system_tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=SYSTEM_PATH)
    if found is None:
        raise PostgresClusterError(
            f"{name} not found; install PostgreSQL by hand or set {URL_ENV_VAR}"
        )
    return found


def _is_server_bindir(path: Path) -> bool:
    return all(os.access(path / name, os.X_OK) for name in SERVER_BINARIES)


def _version(bindir: Path) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in bindir.parent.name.split("."))


def _is_root() -> bool:
    return os.geteuid() == 0


def _system_user_exists() -> bool:
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        return False
    return True

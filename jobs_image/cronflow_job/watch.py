"""`python3 -m cronflow_job watch`: the automatic-mode watcher (poll loop + a small HTTP API).

The watcher only claims files (see spool.py); the operator reads the claims over HTTP, starts one Job
per claim and reports each finished run back, so no API token is ever needed in this pod.

    GET  /healthz                          200 "ok" (no auth; the readiness probe)
    GET  /state                            {"processing": [{"file", "claimId"}], "pending", "done",
                                            "failed", "lastFile"}
    POST /complete {"file", "status": "OK"|"ERROR", "claimId"?}
                                           moves processing/<file> to done/ or failed/; 200 also when it
                                           was moved already, 404 when never claimed, 409 when processing/
                                           holds another claim of that name
Everything except /healthz needs `Authorization: Bearer <CRONFLOW_WATCH_TOKEN>`. A claimId is new for
every claim and the same across restarts; a file whose name is not UTF-8 is never claimed nor listed: it
goes to failed/ with one log line (the name as a bytes literal) and a line in `.cronflow/failed.log`.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import signal
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cronflow_job.config import ConfigError, termination_log_path
from cronflow_job.spool import NOT_UTF8, Spool, SpoolState, is_plain_name

DIR_ENV = "CRONFLOW_WATCH_DIR"
PATTERN_ENV = "CRONFLOW_WATCH_PATTERN"
POLL_SECONDS_ENV = "CRONFLOW_WATCH_POLL_SECONDS"
MAX_PARALLEL_ENV = "CRONFLOW_WATCH_MAX_PARALLEL"
TOKEN_ENV = "CRONFLOW_WATCH_TOKEN"
PORT_ENV = "CRONFLOW_WATCH_PORT"
DEFAULT_PORT = 8080
MAX_BODY_BYTES = 16 * 1024


@dataclass(frozen=True)
class WatchConfig:
    """The watcher's inputs, from the environment."""

    directory: str
    pattern: str | None
    poll_seconds: float
    max_parallel: int
    token: str
    port: int


def load_watch_config(env: Mapping[str, str]) -> WatchConfig:
    """Parse and check the CRONFLOW_WATCH_* variables; ConfigError says which one is wrong."""
    directory = env.get(DIR_ENV, "")
    if not os.path.isabs(directory):
        raise ConfigError(f"{DIR_ENV} must be an absolute path, got {directory!r}")
    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(f"{TOKEN_ENV} is not set")
    return WatchConfig(
        directory=directory,
        pattern=env.get(PATTERN_ENV) or None,
        poll_seconds=_number(env, POLL_SECONDS_ENV, 10, float),
        max_parallel=int(_number(env, MAX_PARALLEL_ENV, 4, int)),
        token=token,
        port=int(_number(env, PORT_ENV, DEFAULT_PORT, int)),
    )


def _number(env: Mapping[str, str], key: str, default: float, kind: type[int] | type[float]) -> float:
    raw = env.get(key)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{key} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{key} must be positive, got {raw!r}")
    return value


def state_document(state: SpoolState) -> dict[str, Any]:
    """The /state answer (camelCase, as the operator reads it)."""
    return {
        "processing": [{"file": claim.file, "claimId": claim.claim_id} for claim in state.processing],
        "pending": state.pending,
        "done": state.done,
        "failed": state.failed,
        "lastFile": state.last_file,
    }


class WatchServer(ThreadingHTTPServer):
    """The HTTP API over one spool."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], spool: Spool, token: str) -> None:
        super().__init__(address, _Handler)
        self.spool = spool
        self.token = token


class _Handler(BaseHTTPRequestHandler):
    server: WatchServer
    timeout = 10

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._send(200, "ok")
        elif self._authorized():
            if self.path == "/state":
                self._send(200, state_document(self.server.spool.state()))
            else:
                self._send(404, {"error": "no such path"})

    def do_POST(self) -> None:
        if not self._authorized():
            return
        if self.path != "/complete":
            self._send(404, {"error": "no such path"})
            return
        request = self._json_body()
        if request is None:
            return
        name, status, expected = request.get("file"), request.get("status"), request.get("claimId")
        if not isinstance(name, str) or not is_plain_name(name) or status not in ("OK", "ERROR"):
            self._send(400, {"error": 'expected {"file": <file name>, "status": "OK"|"ERROR"}'})
            return
        if expected is not None and not isinstance(expected, str):
            self._send(400, {"error": "claimId must be a string"})
            return
        outcome = self.server.spool.complete(name, status == "OK", expected)
        code = {"moved": 200, "already-done": 200, "not-claimed": 404, "other-claim": 409}[outcome]
        if outcome == "moved":
            log(f"completed file={json.dumps(name)} status={status}")
        self._send(code, {"result": outcome})

    def _authorized(self) -> bool:
        given = self.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {self.server.token}".encode()):
            return True
        self._send(401, {"error": "a valid bearer token is required"}, {"WWW-Authenticate": "Bearer"})
        return False

    def _json_body(self) -> dict[str, Any] | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY_BYTES:
            self._send(400, {"error": f"a JSON body of at most {MAX_BODY_BYTES} bytes is required"})
            return None
        try:
            document = json.loads(self.rfile.read(length))
        except ValueError:
            document = None
        if not isinstance(document, dict):
            self._send(400, {"error": "the body must be a JSON object"})
            return None
        return document

    def _send(self, status: int, body: object, headers: Mapping[str, str] | None = None) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # probes every few seconds; claims and completions are logged instead


def log(message: str) -> None:
    """One logfmt line on stdout (never the token)."""
    print(f"cronflow-watch {message}", flush=True)


def startup_failure(exc: Exception) -> str:
    """Why the watcher cannot start, in words a user can act on (the volume's owner and mode above all)."""
    if isinstance(exc, PermissionError) and exc.filename:
        return (f"cannot write {exc.filename}: permission denied (the watched directory must be writable by "
                f"UID {os.getuid()}: chown or chmod it on the volume)")
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return f"cannot use {exc.filename}: {exc.strerror.lower()}"
    return str(exc)


def watch(env: Mapping[str, str], stop: threading.Event | None = None) -> int:
    """Serve the API and poll until SIGTERM (or `stop`); 2 when the configuration is invalid."""
    try:
        config = load_watch_config(env)
        spool = Spool(config.directory, config.pattern, config.max_parallel)
    except (ConfigError, OSError) as exc:
        message = startup_failure(exc)
        print(f"cronflow-watch: {message}", file=sys.stderr)
        with contextlib.suppress(OSError):  # the pod's termination message: the operator shows it in Ready
            Path(termination_log_path(env)).write_text(message, encoding="utf-8")
        return 2
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = WatchServer(("0.0.0.0", config.port), spool, config.token)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    log(f"watching dir={config.directory} pattern={config.pattern or '*'} poll={config.poll_seconds:g}s"
        f" maxParallel={config.max_parallel}")
    try:
        while not stop.is_set():
            try:
                polled = spool.poll()
                for claim in polled.claimed:
                    log(f"claimed file={json.dumps(claim.file)} claimId={json.dumps(claim.claim_id)}")
                for name in polled.rejected:
                    log(f"rejected file={name!r} reason={json.dumps(NOT_UTF8)}")
            except OSError as exc:  # e.g. the volume went away for a moment: report it and poll again
                print(f"cronflow-watch: poll failed: {exc}", file=sys.stderr, flush=True)
            stop.wait(config.poll_seconds)
    finally:
        server.shutdown()
        server.server_close()
    return 0

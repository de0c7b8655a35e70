"""Command line of the job image: `python3 -m cronflow_job run|watch` (args from the pod spec, inputs from env)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from cronflow_job.config import ConfigError, auth_token, load_config, termination_log_path
from cronflow_job.headers import secret_values
from cronflow_job.jitter import wait_jitter
from cronflow_job.request import display_url, with_query
from cronflow_job.result import Result, build_result, encode_result, redact
from cronflow_job.retry import Clock
from cronflow_job.runner import Outcome, execute
from cronflow_job.watch import watch


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the subcommand and run it; the return value is the process exit code."""
    parser = argparse.ArgumentParser(
        prog="cronflow-job", description="Run one cronflow flow call, or watch an input directory."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run", help="make the flow call once, write the result to the termination log (exit 0 OK, 1 ERROR)"
    ).set_defaults(handler=lambda: run(os.environ))
    commands.add_parser(
        "watch", help="automatic mode: claim complete files of CRONFLOW_WATCH_DIR, serve their state over HTTP"
    ).set_defaults(handler=lambda: watch(os.environ))
    handler: Callable[[], int] = parser.parse_args(argv).handler
    return handler()


def run(env: Mapping[str, str], sleep: Callable[[float], None] = time.sleep) -> int:
    """One run: jitter -> config -> calls -> result document; 0 when the result is OK, else 1."""
    # Known before the config is checked, so that even a broken config's messages are redacted.
    secrets = [token] if (token := auth_token(env)) else []
    secrets += secret_values(env)
    method = url = "-"
    started, clock = datetime.now(UTC), time.monotonic()
    try:
        wait_jitter(env, sleep, lambda line: print(line, flush=True))
        started, clock = datetime.now(UTC), time.monotonic()  # the run starts after its wait
        config = load_config(env)
        method, url = config.flow.method, display_url(with_query(config.flow.endpoint, config.flow.query))
        outcome = execute(config, Clock())
    except ConfigError as exc:
        outcome = Outcome(False, str(exc))
    except Exception as exc:  # a bug must still leave a result, not just a traceback
        outcome = Outcome(False, f"internal error: {type(exc).__name__}: {exc}")
        print(redact(traceback.format_exc(), secrets), file=sys.stderr)
    result = build_result(started=started, finished=datetime.now(UTC), outcome=outcome, secrets=secrets)
    path = termination_log_path(env)
    written = True
    try:
        with open(path, "wb") as log:
            log.write(encode_result(result))
    except OSError as exc:
        written = False
        print(f"cronflow-job: cannot write the result to {path}: {exc}", file=sys.stderr)
    print(redact(log_line(result, method, url, time.monotonic() - clock), secrets), flush=True)
    return 0 if result["status"] == "OK" and written else 1


def log_line(result: Result, method: str, url: str, seconds: float) -> str:
    """One logfmt line for the pod log: status, HTTP code, tries, duration, target (never headers or body)."""
    http = result["httpResult"]
    line = (
        f"cronflow-job status={result['status']} http={http['status'] if http else '-'}"
        f" attempts={result['attempts']} duration={seconds:.3f}s method={method} url={url}"
    )
    if result["completion"]:
        line += f" jobId={json.dumps(result['completion']['jobId'], ensure_ascii=False)}"
    if result["message"]:
        line += f" message={json.dumps(result['message'], ensure_ascii=False)}"
    return line


if __name__ == "__main__":
    sys.exit(main())

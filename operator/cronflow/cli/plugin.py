"""`kubectl cronflow`: trigger, enable, disable, resume, backfill, read the results and next run times.

A kubectl plugin (kubectl runs `kubectl-cronflow` from PATH). It reads and merge-patches one
ScheduledJob, nothing else; the operator does the rest.
"""

import argparse
import json
import secrets
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from cronflow import names
from cronflow.cli import crontab, dashboard
from cronflow.cli.summary import reconcile_note, status_table
from cronflow.cli.tables import next_runs_table, results_table, run_times_table
from cronflow.schedule import backfill_times, format_time, load_time_zone, next_run_times

RESOURCE = f"{names.PLURAL}.{names.GROUP}"


class ScheduledJobs:
    """The ScheduledJobs of one namespace, through the kube config's current (or a named) context."""

    def __init__(self, kubeconfig: str | None, context: str | None, namespace: str | None) -> None:
        api_client = config.new_client_from_config(config_file=kubeconfig, context=context)  # type: ignore[no-untyped-call]
        self.api = client.CustomObjectsApi(api_client)
        self.namespace = namespace or _context_namespace(kubeconfig, context)

    def get(self, name: str) -> dict[str, Any]:
        """The ScheduledJob called `name`."""
        obj = self.api.get_namespaced_custom_object(names.GROUP, names.VERSION, self.namespace, names.PLURAL, name)
        return cast(dict[str, Any], obj)

    def patch_spec(self, name: str, spec: dict[str, Any]) -> None:
        """Merge-patch `spec` into the ScheduledJob's spec."""
        self.api.patch_namespaced_custom_object(
            names.GROUP,
            names.VERSION,
            self.namespace,
            names.PLURAL,
            name,
            {"spec": spec},
            _content_type="application/merge-patch+json",
        )


def new_trigger_token(now: datetime) -> str:
    """A trigger token never used before: the time (readable in status.lastTrigger) plus 40 random bits."""
    return f"{format_time(now)}-{secrets.token_hex(5)}"


def trigger(jobs: ScheduledJobs, args: argparse.Namespace) -> str:
    """Start exactly one run now, also while disabled."""
    token = new_trigger_token(datetime.now(UTC))
    jobs.patch_spec(args.name, {"trigger": token})
    return f"{RESOURCE}/{args.name} triggered (trigger token {token})"


def enable(jobs: ScheduledJobs, args: argparse.Namespace) -> str:
    """Resume the schedule."""
    jobs.patch_spec(args.name, {"enabled": True})
    return f"{RESOURCE}/{args.name} enabled"


def disable(jobs: ScheduledJobs, args: argparse.Namespace) -> str:
    """Suspend the schedule (a trigger still starts a run)."""
    jobs.patch_spec(args.name, {"enabled": False})
    return f"{RESOURCE}/{args.name} disabled"


def resume(jobs: ScheduledJobs, args: argparse.Namespace) -> str:
    """Clear a pause after too many failed runs (pauseAfterFailures)."""
    token = new_trigger_token(datetime.now(UTC))
    jobs.patch_spec(args.name, {"resume": token})
    return f"{RESOURCE}/{args.name} resumed (resume token {token})"


def backfill(jobs: ScheduledJobs, args: argparse.Namespace) -> str:
    """Run every scheduled time in [--from, --to) once, oldest first (times an earlier backfill ran are skipped)."""
    spec = jobs.get(args.name).get("spec") or {}
    zone = spec.get("timeZone") or "Etc/UTC"
    times = backfill_times(spec["schedule"], zone, args.start, args.end)  # ValueError above the cap: no patch
    if args.dry_run:
        if not times:
            _note(f"no scheduled time of {spec['schedule']!r} in that range")
        return run_times_table(times, zone) if times else ""
    span = {"from": format_time(args.start), "to": format_time(args.end)}
    jobs.patch_spec(args.name, {"backfill": span})
    return (f"{RESOURCE}/{args.name} backfill from {span['from']} to {span['to']} requested "
            f"({len(times)} scheduled times)")


def status(jobs: ScheduledJobs, args: argparse.Namespace) -> str:
    """State, conditions, the last result and the next runs; says so when no operator has reconciled it."""
    obj = jobs.get(args.name)
    _note_unreconciled(obj)
    if args.output:
        return structured({"status": obj.get("status") or {}}, args.output)
    return status_table(obj)


def results(jobs: ScheduledJobs, args: argparse.Namespace) -> str:
    """The recorded results, newest first."""
    obj = jobs.get(args.name)
    _note_unreconciled(obj)
    recorded = (obj.get("status") or {}).get("results") or []
    if args.output:
        return structured({"results": recorded}, args.output)
    if not recorded:
        _note(f"no results yet for {RESOURCE}/{args.name} in namespace {jobs.namespace}")
        return ""
    return results_table(recorded)


def next_runs(jobs: ScheduledJobs, args: argparse.Namespace) -> str:
    """The next run times of the schedule."""
    spec = jobs.get(args.name).get("spec") or {}
    if not spec.get("enabled", True):
        _note(f"{RESOURCE}/{args.name} is disabled: it runs at these times only once enabled again")
    if (spec.get("automatic") or {}).get("enabled"):
        _note(f"{RESOURCE}/{args.name} is in automatic mode: it runs once per new file, not on this schedule")
    zone = spec.get("timeZone") or "Etc/UTC"
    now = datetime.now(UTC)
    times = next_run_times(spec["schedule"], zone, now, args.count)
    if args.output:
        return structured({"timeZone": zone, "nextScheduleTimes": [format_time(t) for t in times]}, args.output)
    return next_runs_table(times, zone, now)


def structured(document: dict[str, Any], output: str) -> str:
    """`document` as `-o json` or `-o yaml` prints it (for scripts: every field, nothing cut)."""
    if output == "json":
        return json.dumps(document, indent=2, ensure_ascii=False)
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True)).rstrip("\n")


def import_crontab(args: argparse.Namespace) -> int:
    """Print ScheduledJobs (and Secrets for credentials) for the curl/wget lines of a crontab file."""
    try:
        with open(args.file, encoding="utf-8") if args.file != "-" else sys.stdin as source:
            text = source.read()
        load_time_zone(args.time_zone)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return _fail(f"error: {error}")
    entries, skipped = crontab.import_crontab(text, args.namespace, args.time_zone, args.prefix)
    documents = [document for entry in entries for document in entry.manifests]
    if documents:
        print(yaml.safe_dump_all(documents, sort_keys=False), end="")
    for entry in entries:
        for document in entry.manifests[:-1]:
            _note(f"line {entry.line}: credentials moved into Secret {document['metadata']['name']}")
    for line in skipped:
        _note(f"line {line.line}: skipped: {line.reason}")
    if skipped:
        _note(f"{len(skipped)} line(s) not imported; {len(entries)} ScheduledJob(s) printed")
    return 1 if skipped else 0


def build_parser() -> argparse.ArgumentParser:
    """The command line: a subcommand with NAME; kubectl's connection options before or after it."""
    parser = argparse.ArgumentParser(prog="kubectl cronflow", description="Operate cronflow ScheduledJobs.")
    _connection_options(parser, argparse.SUPPRESS)
    connection = argparse.ArgumentParser(add_help=False)
    _connection_options(connection, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command: Callable[[ScheduledJobs, argparse.Namespace], str]
    for command in (trigger, enable, disable, resume, backfill, status, results, next_runs):
        name = "next" if command is next_runs else command.__name__
        summary = (command.__doc__ or "").strip()
        sub = commands.add_parser(name, parents=[connection], help=summary, description=summary)
        sub.add_argument("name", metavar="NAME", help="the ScheduledJob")
        sub.set_defaults(run=command)
        if command is next_runs:
            sub.add_argument("-c", "--count", type=_positive, default=5, help="how many run times (default 5)")
        if command is backfill:
            sub.add_argument("--from", dest="start", required=True, type=_time, help="first scheduled time (RFC 3339)")
            sub.add_argument("--to", dest="end", required=True, type=_time, help="end, excluded (RFC 3339)")
            sub.add_argument("--dry-run", action="store_true", help="list the scheduled times, change nothing")
        if command in (status, results, next_runs):
            sub.add_argument("-o", "--output", choices=("json", "yaml"), help="print as JSON or YAML, not a table")
    summary = (import_crontab.__doc__ or "").strip()
    importer = commands.add_parser("import", help="Translate another scheduler's jobs into ScheduledJobs.")
    sources = importer.add_subparsers(dest="source", required=True, metavar="SOURCE")
    from_crontab = sources.add_parser(
        "crontab", parents=[connection], help=summary, description=summary, epilog=_IMPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from_crontab.add_argument("file", metavar="FILE", help="the crontab file (- for standard input)")
    from_crontab.add_argument(
        "--time-zone", default="Etc/UTC", help="zone of the lines before any CRON_TZ= line (default Etc/UTC)"
    )
    from_crontab.add_argument("--prefix", default="", help="prepended to every ScheduledJob name")
    from_crontab.set_defaults(offline=import_crontab)
    dashboard.add_parser(commands, [connection])
    return parser


_IMPORT_EPILOG = """\
Apply the output with: kubectl cronflow import crontab FILE -n NS | kubectl apply -f -
Lines that cannot be translated faithfully (pipelines, other commands, @reboot, seconds fields, shell
variables, bodies that are not JSON) are listed on stderr with their line number and the reason; the
exit status is 1 when any line was skipped. Nothing is run: the file is only parsed."""


def _connection_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument("-n", "--namespace", default=default, help="namespace (default: the context's)")
    parser.add_argument("--kubeconfig", default=default, help="kube config (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", default=default, help="kube config context (default: the current one)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 1 and a kubectl-like message on stderr when it fails."""
    args = build_parser().parse_args(argv)
    for option in ("namespace", "kubeconfig", "context"):
        setattr(args, option, getattr(args, option, None))
    if hasattr(args, "offline"):
        code: int = args.offline(args)
        return code
    try:
        jobs = ScheduledJobs(args.kubeconfig, args.context, args.namespace)
        output = args.run(jobs, args)
    except ApiException as error:
        return _fail(_api_error(error, args.name))
    except urllib3.exceptions.HTTPError as error:
        return _fail(f"error: cannot reach the API server: {error}")
    except (ConfigException, ValueError) as error:
        return _fail(f"error: {error}")
    if output:
        print(output)
    return 0


def _context_namespace(kubeconfig: str | None, context: str | None) -> str:
    contexts, current = config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    chosen = next((c for c in contexts if c["name"] == context), current) if context else current
    namespace: str = (chosen or {}).get("context", {}).get("namespace") or "default"
    return namespace


def _api_error(error: ApiException, name: str) -> str:
    if error.status == 404:
        return f'Error from server (NotFound): {RESOURCE} "{name}" not found'
    try:
        message = json.loads(error.body or "")["message"]
    except (TypeError, ValueError, KeyError):
        message = error.reason
    return f"Error from server ({error.reason}): {message}"


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time: {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no offset: add Z for UTC or +01:00")
    return moment


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _note_unreconciled(obj: dict[str, Any]) -> None:
    if (note := reconcile_note(obj)) is not None:
        _note(note)


def _note(message: str) -> None:
    print(message, file=sys.stderr)


def _fail(message: str) -> int:
    _note(message)
    return 1


if __name__ == "__main__":
    sys.exit(main())

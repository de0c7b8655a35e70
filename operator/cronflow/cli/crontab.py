"""Pure: a crontab file whose lines call URLs -> ScheduledJob manifests, and the lines that cannot move.

Understood: 5-field schedules and macros (`@daily` ...), `CRON_TZ=` / `TZ=` lines (for the lines after
them), comment lines right above an entry (kept as an annotation), system crontabs' user field.
Every manifest is checked with the same models the operator uses, so what is printed applies.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cronflow import names
from cronflow.api.models import InvalidSpec, parse_spec
from cronflow.cli.http_command import Untranslatable, split_command, translate
from cronflow.schedule import DESCRIPTORS, load_time_zone

_VARIABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_CRON_FIELD = re.compile(r"^([0-9*/,-]+|[A-Za-z]{3}([,-][A-Za-z]{3})*)$")
_USER = re.compile(r"^[a-z_][a-z0-9_.-]*$")
_HTTP_PROGRAMS = ("curl", "wget")
_ROUTE_PREFIXES = ("cronjob", "cronjobs", "cron")
_NOT_NAME = re.compile(r"[^a-z0-9-]+")
_FIELD_COUNT = 5
_CREDENTIAL_WORDS = ("authorization", "key", "token", "secret", "password", "signature", "credential")


@dataclass(frozen=True)
class Entry:
    """One crontab line that became a ScheduledJob, with the Secret of its credentials if it had any."""

    line: int
    name: str
    manifests: list[dict[str, Any]]


@dataclass(frozen=True)
class Skipped:
    """One crontab line that did not, and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class _Call:
    line: int
    schedule: str
    time_zone: str
    flow: dict[str, Any]
    comment: str


def import_crontab(
    text: str, namespace: str | None = None, time_zone: str = "Etc/UTC", prefix: str = ""
) -> tuple[list[Entry], list[Skipped]]:
    """The ScheduledJobs for `text` (names unique, from the URL paths) and the skipped lines."""
    calls, skipped = _read(text, time_zone)
    entries: list[Entry] = []
    taken: set[str] = set()
    for call in calls:
        name = unique_name(prefix + name_from_url(call.flow["endpoint"]), taken)
        manifests = _manifests(call, name, namespace)
        try:
            parse_spec(manifests[-1]["spec"])
        except InvalidSpec as error:
            reason = "; ".join(str(error).splitlines())
            skipped.append(Skipped(call.line, reason))
            continue
        taken.add(name)
        entries.append(Entry(call.line, name, manifests))
    return entries, sorted(skipped, key=lambda s: s.line)


def _read(text: str, time_zone: str) -> tuple[list[_Call], list[Skipped]]:
    calls: list[_Call] = []
    skipped: list[Skipped] = []
    comment: list[str] = []
    zone, zone_error = time_zone, ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            comment = []
            continue
        if line.startswith("#"):
            comment.append(line.lstrip("#").strip())
            continue
        variable = _VARIABLE.match(line)
        if variable:
            if variable[1] in ("CRON_TZ", "TZ"):
                zone, zone_error = _time_zone(variable[2].strip().strip("'\""), number)
                if zone_error:
                    skipped.append(Skipped(number, zone_error))
            comment = []
            continue
        try:
            if zone_error:
                raise Untranslatable(zone_error)
            schedule, command = split_entry(line)
            calls.append(_Call(number, schedule, zone, translate(command), " ".join(c for c in comment if c)))
        except Untranslatable as error:
            skipped.append(Skipped(number, str(error)))
        comment = []
    return calls, skipped


def _time_zone(name: str, line: int) -> tuple[str, str]:
    try:
        load_time_zone(name)
    except ValueError:
        return name, f"time zone {name!r} (line {line}) is not an IANA time zone name"
    return name, ""


def split_entry(line: str) -> tuple[str, str]:
    """(schedule, command) of an entry line, without a system crontab's user field."""
    if line.startswith("@"):
        macro, _, command = line.partition(" ")
        if macro == "@reboot":
            raise Untranslatable("@reboot runs when cron starts, not on a schedule")
        if macro not in DESCRIPTORS:
            raise Untranslatable(f"{macro} is not a cron macro ({' '.join(DESCRIPTORS)})")
        return macro, _without_user(command.strip())
    parts = line.split(None, _FIELD_COUNT)
    if len(parts) <= _FIELD_COUNT:
        raise Untranslatable("not a crontab entry (5 time fields and a command)")
    schedule, command = " ".join(parts[:_FIELD_COUNT]), parts[_FIELD_COUNT]
    first, _, rest = command.partition(" ")
    if _CRON_FIELD.match(first) and _program(rest) in _HTTP_PROGRAMS:
        raise Untranslatable("six time fields (seconds or years): cronflow schedules by the minute")
    return schedule, _without_user(command)


def _without_user(command: str) -> str:
    user, _, rest = command.partition(" ")
    if _USER.match(user) and user not in _HTTP_PROGRAMS and _program(rest) in _HTTP_PROGRAMS:
        return rest.strip()
    return command


def _program(command: str) -> str:
    try:
        word = split_command(command)[0]
    except Untranslatable:
        return ""
    return word.rpartition("/")[2]


def name_from_url(url: str) -> str:
    """`http://app/cronjob/biosamples/import` -> `biosamples-import` (the path after /cronjob/, if any)."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    routes = [i for i, s in enumerate(segments) if s.lower() in _ROUTE_PREFIXES]
    if routes:
        segments = segments[routes[-1] + 1 :]
    name = _NOT_NAME.sub("-", "-".join(segments).lower().replace("_", "-")).strip("-")
    host = parts.hostname or "call"
    label = host if host.replace(".", "").isdigit() else host.split(".")[0]
    return name or _NOT_NAME.sub("-", label).strip("-") or "call"


def unique_name(name: str, taken: Iterable[str]) -> str:
    """`name` cut to a ScheduledJob name's length, with `-2`, `-3`... when already taken."""
    used = set(taken)
    base = name[: names.MAX_SCHEDULEDJOB_NAME].strip("-")
    candidate, n = base, 1
    while candidate in used:
        n += 1
        suffix = f"-{n}"
        candidate = base[: names.MAX_SCHEDULEDJOB_NAME - len(suffix)].rstrip("-") + suffix
    return candidate


def is_credential(header: str) -> bool:
    """Whether a header looks like it carries a credential (it then goes into a Secret, not the spec)."""
    lowered = header.lower()
    return any(word in lowered for word in _CREDENTIAL_WORDS)


def _manifests(call: _Call, name: str, namespace: str | None) -> list[dict[str, Any]]:
    """[Secret (if the call sends credentials), ScheduledJob]."""
    flow = dict(call.flow)
    headers = dict(flow.pop("headers", {}))
    credentials = {k: v for k, v in headers.items() if is_credential(k)}
    plain = {k: v for k, v in headers.items() if k not in credentials}
    documents: list[dict[str, Any]] = []
    if plain:
        flow["headers"] = plain
    if credentials:
        token = credentials.pop(next((k for k in credentials if k.lower() == "authorization"), ""), "")
        secret: dict[str, str] = dict(credentials)
        if token.startswith("Bearer ") and not credentials:
            secret = {"token": token.removeprefix("Bearer ")}
            flow["authTokenSecretRef"] = {"name": f"{name}-credentials", "key": "token"}
        else:
            if token:
                secret["Authorization"] = token
            flow["headersSecretRef"] = {"name": f"{name}-credentials"}
        documents.append(_secret(f"{name}-credentials", namespace, secret))
    metadata = _metadata(name, namespace)
    metadata["annotations"] = {names.CRONTAB_LINE_ANNOTATION: str(call.line)}
    if call.comment:
        metadata["annotations"][names.CRONTAB_COMMENT_ANNOTATION] = call.comment
    spec = {"schedule": call.schedule, "timeZone": call.time_zone, "flow": flow}
    documents.append({"apiVersion": names.API_VERSION, "kind": names.KIND, "metadata": metadata, "spec": spec})
    return documents


def _secret(name: str, namespace: str | None, data: dict[str, str]) -> dict[str, Any]:
    metadata = _metadata(name, namespace)
    metadata["labels"] = {names.USABLE_LABEL: "true"}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque", "stringData": data}


def _metadata(name: str, namespace: str | None) -> dict[str, Any]:
    return {"name": name, "namespace": namespace} if namespace else {"name": name}

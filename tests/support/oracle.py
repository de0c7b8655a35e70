"""The validation oracle: Hypothesis strategies for ScheduledJob manifests, and the judge of two verdicts.

A generated manifest goes to the API server (server-side dry-run create, `fieldValidation=Strict` as
kubectl sends it) and to the models (`ScheduledJobSpec.model_validate`, plus the CRD's one rule on the
whole object, `metadata.name` at most 63 characters). The two must agree: the API server accepts exactly
what the models' schema part accepts (bounds, types, enums and the Python mirror of each CEL rule).

Where they differ by design, that is said here, and checked:

- *operator-only*: a check the schema cannot express (an `AfterValidator`: an unknown time zone, a
  backwards range such as `5-1`; told from the CEL mirror by its message, which is no CEL rule's
  message). The API server accepts; `parse_spec` of what it stored raises
  `InvalidSpec` naming the problem (the operator's Ready=False, reason InvalidSpec).
- *null-pruned*: the API server drops a `null` where the schema is not nullable (then defaults the
  field); the models refuse a null in a field that is not optional. The operator only reads stored
  objects, so `parse_spec` of the stored spec must accept it (or report only operator-only problems).

Whatever the API server accepts, the operator's reading of the stored spec (`parse_spec`, then
`next_run_time` as the reconcile computes `status.nextScheduleTime`) may raise `InvalidSpec` and
nothing else: any other exception is a crash, and a crash is always a failure.

Disagreements found and not fixed yet are listed in `KNOWN`, each with a predicate that recognises it
and an example; the tests check each example still disagrees, so a fix shows up as a test to update.
"""

import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from cronflow import names
from cronflow.api.cel import VALIDATIONS_KEY
from cronflow.api.crd import crd
from cronflow.api.models import InvalidSpec, ScheduledJobSpec, parse_spec
from cronflow.schedule import DESCRIPTORS, TIME_ZONE_REGEX, next_run_time

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
"""The clock of the operator's reading (fixed, so a run is repeatable)."""

# ---------------------------------------------------------------------------------------------------
# What the CRD says, read from the generated CRD itself (so the oracle follows the models).


def _schema_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("properties", {}).values():
        yield from _schema_nodes(child)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from _schema_nodes(node[key])


_ROOT: dict[str, Any] = crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
CEL_MESSAGES = frozenset(
    rule["message"] for node in _schema_nodes(_ROOT["properties"]["spec"]) for rule in node.get(VALIDATIONS_KEY, [])
)
"""The message of every CEL rule on the spec: a pydantic value error with one of these is the CEL mirror."""
CEL_MESSAGE_EXPRESSIONS = tuple(
    re.compile(re.escape(rule["message"]).replace(re.escape("..."), ".*"))
    for node in _schema_nodes(_ROOT["properties"]["spec"])
    for rule in node.get(VALIDATIONS_KEY, [])
    if "messageExpression" in rule
)
"""Rules whose message names the bad value (messageExpression): their static message with `...` for it."""


def is_cel_message(message: str) -> bool:
    """Whether a pydantic value error's `message` is one of a CEL rule's mirror."""
    return message in CEL_MESSAGES or any(pattern.fullmatch(message) for pattern in CEL_MESSAGE_EXPRESSIONS)
NAME_MESSAGE: str = next(r["message"] for r in _ROOT[VALIDATIONS_KEY] if "metadata.name" in r["rule"])
"""The CRD's rule on the whole object (it has no Python mirror in the models: they see the spec only)."""
PYTHON_ONLY_WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace() and c not in "\t\n\f\r ")
"""What Python's `\\s` matches in a str (str.isspace) and RE2's (`[\\t\\n\\f\\r ]`) does not: \\v, U+001C-001F,
U+0085, U+00A0 (no-break space), U+2000-200A, U+2028, U+3000... The strategies mix them into text, since
a rule written with `\\s` would read differently in the two engines."""

# ---------------------------------------------------------------------------------------------------
# Verdicts.


@dataclass(frozen=True)
class Case:
    """One generated ScheduledJob: its name and its spec (any JSON value, usually an object)."""

    name: str
    spec: Any

    def manifest(self) -> dict[str, Any]:
        """The object sent to the API server."""
        return {"apiVersion": names.API_VERSION, "kind": names.KIND, "metadata": {"name": self.name}, "spec": self.spec}


@dataclass(frozen=True)
class Problem:
    """One refusal of the models: where, pydantic's error type, the message, and the input was null."""

    where: str
    kind: str
    message: str
    null: bool = False

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class ModelVerdict:
    """The models' verdict, split into what the CRD checks too (`schema`) and what only the operator does."""

    schema: tuple[Problem, ...] = ()
    operator: tuple[Problem, ...] = ()
    crash: str | None = None
    """`Type: message` of an exception other than ValidationError (a bug: never expected)."""

    @property
    def server_should_accept(self) -> bool:
        return not self.schema and self.crash is None

    def __str__(self) -> str:
        if self.crash:
            return f"CRASH {self.crash}"
        if self.schema:
            return "refused: " + "; ".join(map(str, self.schema + self.operator))
        if self.operator:
            return "schema accepts, operator-only checks refuse: " + "; ".join(map(str, self.operator))
        return "accepted"


@dataclass(frozen=True)
class ServerVerdict:
    """The API server's verdict on a dry-run create; `stored` is the spec it would store (when accepted)."""

    accepted: bool
    message: str = ""
    stored: Any = None

    def __str__(self) -> str:
        return "accepted" if self.accepted else f"refused: {self.message}"


def model_verdict(case: Case) -> ModelVerdict:
    """What the models say about `case` (`ScheduledJobSpec.model_validate` and the CRD's name rule)."""
    schema: list[Problem] = []
    operator: list[Problem] = []
    if len(case.name) > names.MAX_SCHEDULEDJOB_NAME:
        schema.append(Problem("metadata.name", "cel", NAME_MESSAGE))
    try:
        ScheduledJobSpec.model_validate(case.spec)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(["spec", *(str(part) for part in error["loc"])])
            if error["type"] == "value_error":
                message = str(error["ctx"]["error"])
                problem = Problem(where, "value_error", message)
                (schema if is_cel_message(message) else operator).append(problem)
            else:
                schema.append(Problem(where, error["type"], error["msg"], null=error["input"] is None))
    except Exception as exc:  # the point of the oracle: anything but a ValidationError is a bug
        return ModelVerdict(tuple(schema), tuple(operator), crash=f"{type(exc).__name__}: {exc}")
    return ModelVerdict(tuple(schema), tuple(operator))


def operator_reads(stored: Any) -> tuple[ScheduledJobSpec | None, str]:
    """The operator's reading of a stored spec: (spec, "") or (None, the InvalidSpec message).

    Raises whatever else `parse_spec` or `next_run_time` raises: that is a crash.
    """
    try:
        spec = parse_spec(stored or {})
    except InvalidSpec as error:
        return None, str(error)
    next_run_time(spec.schedule, spec.time_zone, NOW)
    return spec, ""


# ---------------------------------------------------------------------------------------------------
# The judge.


@dataclass(frozen=True)
class Outcome:
    """How one case came out. `kind` is one of KINDS or `known:<id>`; `failed` cases fail the test."""

    kind: str
    case: Case
    model: ModelVerdict
    server: ServerVerdict
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.kind in ("disagreement", "crash")

    def report(self) -> str:
        """The spec and both verdicts, for a failing test or the bench's list."""
        spec = json.dumps(self.case.spec, ensure_ascii=True)
        return (
            f"{self.kind}: {self.detail}\n  name:   {self.case.name!r} ({len(self.case.name)} chars)\n"
            f"  spec:   {spec[:1500]}{' ...' if len(spec) > 1500 else ''}\n"
            f"  models: {self.model}\n  server: {self.server}"
        )


KINDS = ("accepted", "refused", "operator-only", "null-pruned", "disagreement", "crash")


@dataclass(frozen=True)
class Known:
    """A disagreement found and not fixed yet: what it is, who would fix it, how to recognise it, an example."""

    id: str
    description: str
    matches: Callable[[Case, ModelVerdict, ServerVerdict], bool]
    example: Case


def judge(
    case: Case, model: ModelVerdict, server: ServerVerdict, known: Sequence[Known] | None = None
) -> Outcome:
    """Compare the two verdicts (see the module docstring); `known` defaults to KNOWN."""
    known = KNOWN if known is None else known

    def outcome(kind: str, detail: str = "") -> Outcome:
        if kind in ("disagreement", "crash"):
            for k in known:
                if k.matches(case, model, server):
                    return Outcome(f"known:{k.id}", case, model, server, detail or k.description)
        return Outcome(kind, case, model, server, detail)

    if model.crash:
        return outcome("crash", f"the models raised {model.crash}")
    stored: ScheduledJobSpec | None = None
    invalid = ""
    if server.accepted:
        try:
            stored, invalid = operator_reads(server.stored)
        except Exception as exc:
            return outcome("crash", f"reading the stored spec raised {type(exc).__name__}: {exc}")
    if server.accepted != model.server_should_accept:
        if server.accepted and model.schema and all(p.null for p in model.schema):
            if stored is not None or (model.operator and all(p.message in invalid for p in model.operator)):
                return outcome("null-pruned", "the API server dropped the null(s) and stored the default")
            return outcome("disagreement", f"nulls dropped by the API server, but the operator refuses: {invalid}")
        side = "the models" if server.accepted else "the API server"
        return outcome("disagreement", f"{side} refused what the other accepted")
    if not server.accepted:
        return outcome("refused")
    if model.operator:
        missing = [p.message for p in model.operator if p.message not in invalid]
        if stored is not None or missing:
            return outcome("disagreement", f"operator-only problems not reported as InvalidSpec: {missing or 'none'}")
        return outcome("operator-only", invalid)
    if stored is None:
        return outcome("disagreement", f"the operator refuses the stored spec: {invalid}")
    if _typed(stored) != _typed(ScheduledJobSpec.model_validate(case.spec)):
        return outcome("disagreement", "the stored spec (API server defaults) reads differently from the sent one")
    return outcome("accepted")


_FREE_FORM_FIELDS: dict[str, Any] = {"flow": {"settings"}, "automatic": {"volume"},
                                     "job_template": {"resources", "tolerations"}}


def _typed(spec: ScheduledJobSpec) -> dict[str, Any]:
    """The spec without its free-form objects: JSON numbers there come back from the API server as Go
    prints a float64 (2**63 as 9223372036854776000), which is no matter of validation."""
    return spec.model_dump(exclude=_FREE_FORM_FIELDS)


class DryRun:
    """Server-side dry-run creates of ScheduledJobs in one namespace: nothing is stored."""

    def __init__(self, api: client.ApiClient, namespace: str):
        self.objects = client.CustomObjectsApi(api)
        self.namespace = namespace

    def verdict(self, case: Case) -> ServerVerdict:
        """Accepted (with the spec it would store), or refused (422; 400 for a strict decoding error)."""
        for attempt in range(6):
            try:
                stored: dict[str, Any] = self.objects.create_namespaced_custom_object(  # type: ignore[assignment]
                    names.GROUP, names.VERSION, self.namespace, names.PLURAL, case.manifest(),
                    dry_run="All", field_validation="Strict",
                )
                return ServerVerdict(True, stored=stored.get("spec"))
            except ApiException as error:
                message = _status_message(error)
                if error.status == 422 or (error.status == 400 and "strict decoding error" in message):
                    return ServerVerdict(False, message)
                if error.status in (429, 500, 503, 504) and attempt < 5:
                    time.sleep(0.5 * (attempt + 1))
                    continue
                raise AssertionError(f"dry-run create answered {error.status}: {message}") from None
        raise AssertionError("unreachable")


def _status_message(error: ApiException) -> str:
    try:
        return str(json.loads(error.body or "{}").get("message", error.body))
    except ValueError:
        return str(error.body)


# ---------------------------------------------------------------------------------------------------
# Known disagreements (found by this oracle; each pinned by a test).


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _numbers(value: Any) -> Iterator[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)


def _python_field_names() -> frozenset[str]:
    found: set[str] = set()
    models: list[Any] = [ScheduledJobSpec]
    while models:
        model = models.pop()
        for name, info in model.model_fields.items():
            if info.alias and info.alias != name:
                found.add(name)
            for arg in _type_args(info.annotation):
                if isinstance(arg, type) and hasattr(arg, "model_fields") and arg not in models:
                    models.append(arg)
    return frozenset(found)


def _type_args(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _type_args(arg)


PYTHON_FIELD_NAMES = _python_field_names()
"""The snake_case names of the spec's fields whose wire name (alias) is camelCase."""
_UNKNOWN_FIELD = re.compile(r'unknown field "([^"]+)"')


def _lax_types(case: Case, model: ModelVerdict, server: ServerVerdict) -> bool:
    if server.accepted or not model.server_should_accept or "must be of type" not in server.message:
        return False
    try:
        ScheduledJobSpec.model_validate(case.spec, strict=True)
    except ValidationError as exc:
        return any(e["type"].endswith("_type") or e["type"] == "bool_parsing" for e in exc.errors())
    return False


def _python_names(case: Case, model: ModelVerdict, server: ServerVerdict) -> bool:
    unknown = _UNKNOWN_FIELD.findall(server.message)
    return (not server.accepted and model.server_should_accept and bool(unknown)
            and all(path.rsplit(".", 1)[-1] in PYTHON_FIELD_NAMES for path in unknown))


def _beyond_int64(case: Case, model: ModelVerdict, server: ServerVerdict) -> bool:
    return (not server.accepted and model.server_should_accept and "must be of type integer" in server.message
            and any(not -(2**63) <= n < 2**63 for n in _numbers(case.spec)))


_BASE = {"schedule": "*/5 * * * *", "flow": {"endpoint": "https://flows.example.com/run"}}

KNOWN: tuple[Known, ...] = (
    Known(
        "lax-json-types",
        "pydantic's lax mode converts JSON types the API server refuses ('10' or 10.0 -> 10, 'true' or 1 -> True); "
        "models more lenient than the schema, harmless to the operator (it reads typed stored objects)",
        _lax_types,
        Case("lax", {**_BASE, "historyLimit": "10", "enabled": 1}),
    ),
    Known(
        "python-field-names",
        "the models read snake_case field names too (populate_by_name=True), the API server refuses them "
        "(unknown field; a client without fieldValidation=Strict gets them dropped)",
        _python_names,
        Case("snake", {**_BASE, "time_zone": "Asia/Tokyo", "history_limit": 3}),
    ),
    Known(
        "beyond-int64",
        "an integer field without an upper bound (startingDeadlineSeconds) takes any Python int; the API server "
        "refuses one beyond int64 ('must be of type integer')",
        _beyond_int64,
        Case("int64", {**_BASE, "startingDeadlineSeconds": 2**63}),
    ),
)

# ---------------------------------------------------------------------------------------------------
# Strategies.

TEXT = st.characters(codec="utf-8")
"""Any code point that has a UTF-8 form (all but the surrogates, which no Kubernetes client can send)."""
SPACES = "".join(sorted(set(PYTHON_ONLY_WHITESPACE + "\t\n\f\r ")))


def text(max_size: int = 12, min_size: int = 0) -> st.SearchStrategy[str]:
    """Short Unicode text, now and then with a space of either engine or a control character."""
    return st.text(st.one_of(TEXT, st.sampled_from(SPACES + "\x00\x7f\u200b\ufeff")), min_size=min_size,
                   max_size=max_size)


def sized(sizes: Sequence[int], alphabet: st.SearchStrategy[str] = TEXT, prefix: str = "") -> st.SearchStrategy[str]:
    """Strings of exactly one of `sizes` code points (a short random piece repeated), starting with `prefix`."""

    def build(piece: str, size: int) -> str:
        body = piece * (size // len(piece) + 1)
        return (prefix + body)[:size]

    return st.builds(build, st.text(alphabet, min_size=1, max_size=4), st.sampled_from(list(sizes)))


def around(limit: int) -> list[int]:
    """Sizes at and just past a bound."""
    return [limit - 1, limit, limit + 1]


WRONG_TYPE: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 100), st.just(1.5), st.just(10.0), text(4),
    st.sampled_from(["10", "1", "0", "true", "false", "yes", "null", ""]),
    st.lists(st.integers(0, 3), max_size=2), st.dictionaries(text(3), st.integers(0, 3), max_size=2),
)
JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | text(8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text(6), children, max_size=3),
    max_leaves=8,
)
FREE_FORM = st.dictionaries(text(8), JSON, max_size=4)

# Schedules.
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _spellings(name: str) -> list[str]:
    """A month or day name as written, in any case and with the letters that fold to it in one engine."""
    return [name, name.upper(), name.title(), name.replace("s", "\u017f"), name.replace("i", "\u0131"),
            name.replace("i", "\u0130"), name.upper().replace("S", "\u017f")]


def cron_field(low: int, high: int, spelled: Sequence[str] = (), wildcards: str = "*") -> st.SearchStrategy[str]:
    """One cron field: values at and just past its bounds, names, ranges (backwards too), steps, lists."""
    number = st.integers(low - 1, high + 1).map(str) | st.integers(low, high).map(lambda v: f"{v:02d}")
    value = (number | st.sampled_from(list(spelled))) if spelled else number
    span = value | st.tuples(value, value).map("-".join)
    base = st.sampled_from(list(wildcards)) | span
    step = st.sampled_from(["", "", "/1", "/2", "/15", "/59", "/99", "/0", "/100", "/"])
    item = st.builds(lambda b, s: b + s, base, step)
    return st.lists(item, min_size=1, max_size=3).map(",".join)


_FIELDS = (
    cron_field(0, 59),
    cron_field(0, 23),
    cron_field(1, 31, wildcards="*?"),
    cron_field(1, 12, [s for m in _MONTHS for s in _spellings(m)]),
    cron_field(0, 6, [s for d in _DAYS for s in _spellings(d)], wildcards="*?"),
)
_SEPARATOR = st.sampled_from([" ", " ", " ", "  ", "\t", "\u00a0"])


@st.composite
def five_fields(draw: st.DrawFn) -> str:
    """Five cron fields (minute hour day-of-month month day-of-week)."""
    fields = [draw(f) for f in _FIELDS]
    return "".join(f + draw(_SEPARATOR) for f in fields[:-1]) + fields[-1]


def long_schedule(size: int) -> str:
    """A valid five-field schedule of exactly `size` characters ("0,0,...,0 * * * *")."""
    minute = size - len(" * * * *")
    return ("00" + ",0" * ((minute - 2) // 2) if minute % 2 == 0 else "0" + ",0" * ((minute - 1) // 2)) + " * * * *"


EDGE_SCHEDULES = (
    "0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 29 2 *", "0 0 31 2 1", "0 0 31 2 ?",
    "*/0 * * * *", "5-1 * * * *", "59-0 * * * *", "* * * * *", "0 0 ? * ?", "*/99 * * * *",
    "0 */5 * * * *", "0 0 12 * * ? 2026", "@reboot", "@every 1h", "@DAILY", "@daily ", " @daily", "@", "",
    " * * * * *", "* * * * * ", "0 0 L * *", "0 0 * * 1#2", "0 0 * * 7", "60 * * * *", "0 24 * * *",
    "0 0 0 * *", "0 0 32 * *", "0 0 * 0 *", "0 0 * 13 *", "TZ=UTC 0 * * * *", "CRON_TZ=UTC 0 * * * *",
    "H * * * *", "0 0 * JAN-DEC MON-FRI", "0 0 * dec-jan *", "0 0 * * sat-sun", "1,2,3,4,5 * * * *",
)
SCHEDULES: st.SearchStrategy[str] = st.one_of(
    five_fields(),
    st.sampled_from(DESCRIPTORS),
    st.sampled_from(EDGE_SCHEDULES),
    st.builds(lambda s, f: f"{s} {f}", _FIELDS[0], five_fields()),  # six fields: seconds first
    st.sampled_from(around(128)).map(long_schedule),
    text(16),
)

# Time zones.
ZONES = (
    "Etc/UTC", "UTC", "Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu",
    "Australia/Lord_Howe", "Pacific/Chatham", "Pacific/Kiritimati", "America/Argentina/ComodRivadavia",
    "America/North_Dakota/New_Salem", "America/Port-au-Prince", "Etc/GMT+12", "Etc/GMT-14", "EST5EDT",
    "GMT0", "Factory", "posixrules", "right/UTC",
)
ODD_ZONES = (
    "Local", "local", "LOCAL", "Mars/Olympus", "America", "Etc", "Europe/Amster dam", "../etc/passwd",
    "Europe/", "/Europe/Amsterdam", "Europe//Amsterdam", "zone.tab", "tzdata.zi", "", "europe/amsterdam",
    "Europe/Amsterdam\n", "a" * 14, "a" * 15, "Etc/UTC/", "+", "_", ".hidden",
    "/".join(["Abcdefghijklmn"] * 4)[:64], "/".join(["Abcdefghijklmn"] * 5)[:65],
)
TIME_ZONES: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(ZONES), st.sampled_from(ODD_ZONES), st.from_regex(TIME_ZONE_REGEX, fullmatch=True), text(10)
)

# URLs, names, addresses.
_HOSTS = ("flows.example.com", "flows:8080", "10.0.0.1", "[::1]:8080", "localhost", "user:pw@flows", "@flows",
          "flows ", "fl\u00a0ows", "bücher.example", "", "x")
_PATHS = ("", "/", "/run", "/api/v1/flow/run_binary_async", "?q=1", "#frag", "/a b", "/a\u00a0b", "/a\u000bb",
          "/a\u2028b", "/ünï", "/a\tb", "//x", "/@", ":8080/x")
URLS: st.SearchStrategy[str] = st.one_of(
    st.builds(
        lambda scheme, sep, host, path: scheme + sep + host + path,
        st.sampled_from(["https", "http", "https", "HTTP", "Https", "ftp", "javascript", "file", "httpss", ""]),
        st.sampled_from(["://", "://", "://", ":/", ":", "//", ":///"]),
        st.sampled_from(_HOSTS) | text(6, min_size=1),
        st.sampled_from(_PATHS) | text(8).map(lambda t: "/" + t),
    ),
    sized(around(2048), st.sampled_from("abc/-_"), prefix="https://flows.example.com/"),
)
_DNS_CHARS = st.sampled_from("abcxyz0129")
DNS_NAMES: st.SearchStrategy[str] = st.one_of(
    st.text(st.sampled_from("abz09-."), min_size=1, max_size=12),
    sized(around(253), _DNS_CHARS),
    st.sampled_from(["Flow_Token", "-a", "a-", "a..b", "", "a.b", "ünï", "a b", "UPPER", "a_b", "."]),
)
_SECRET_KEY = st.text(st.sampled_from("abcXYZ019._-"), min_size=1, max_size=12)
SECRET_KEYS: st.SearchStrategy[str] = st.one_of(
    _SECRET_KEY, sized(around(253), st.sampled_from("aZ9._-")),
    st.sampled_from(["", "a/b", "a b", "ünï", "..", "token\n"]),
)
EMAILS: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(["ops@example.com", "oncall", "a@b", "@b", "a@", "a b@c", "a\u00a0b@c", "a@b@c",
                     "ünï@cödé.example", "a@b\u2003", "a\u000b@b", "a\t@b"]),
    st.builds(lambda local, domain: f"{local}@{domain}", text(6, min_size=1), text(6, min_size=1)),
    sized([253, 254, 255], st.sampled_from("abc.+"), prefix="ops@"),
)
TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
HEADER_NAMES: st.SearchStrategy[str] = st.one_of(
    st.text(st.sampled_from(TOKEN_CHARS), min_size=1, max_size=12),
    sized(around(256), st.sampled_from(TOKEN_CHARS)),
    st.sampled_from(["", "X Team", "X-Team:", "Ünï", "X-\u00a0", "(x)", "a\nb", "a/b", "a@b", "a\"b"]),
    text(6, min_size=1),
)
HEADER_VALUES: st.SearchStrategy[str] = st.one_of(
    text(12), sized(around(4096)), st.sampled_from(["a\r\nX-Evil: 1", "a\nb", "a\x00b", "a\tb", "\u2028", ""]),
)


def header_maps() -> st.SearchStrategy[dict[str, str]]:
    """Header maps: a few random entries, or exactly 31-33 of them."""
    return st.one_of(
        st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=3),
        st.sampled_from(around(32)).map(lambda n: {f"X-H{i}": "v" for i in range(n)}),
    )


def lists_around(element: st.SearchStrategy[Any], limit: int, filler: Any) -> st.SearchStrategy[list[Any]]:
    """Short random lists of `element`, or `limit`-1 to `limit`+1 copies of `filler`."""
    return st.lists(element, max_size=3) | st.sampled_from(around(limit)).map(lambda n: [filler] * n)


def ints(low: int, high: int | None) -> st.SearchStrategy[int]:
    """Integers at and just past the bounds, and in between."""
    edges = [low - 1, low, low + 1] + ([high - 1, high, high + 1] if high is not None else [2**63 - 1, 2**63])
    return st.sampled_from(edges) | st.integers(low - 2, (high or low + 1000) + 2)


RELATIVE_PATHS: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(["", "in", "a/b", "/abs", "..", "a/../b", "a/..b", "..a", "./a", "a/..", "a\\..\\b", "a//b"]),
    text(8), sized(around(1024), st.sampled_from("ab/.")),
)

# ---------------------------------------------------------------------------------------------------
# Whole specs: every field that is there from its plainly valid values, one or two "focus" fields
# (the name counts as one) from their edge cases (at a bound, just past it, Unicode, corner syntax),
# then now and then a "break": a clearly wrong value or JSON type, a missing required field, a null,
# an unknown field, an object that is not one.

_ALNUM = st.text(st.sampled_from("abcdexyz0129"), min_size=1, max_size=6)
_LABEL = _ALNUM | st.builds(lambda a, b: f"{a}-{b}", _ALNUM, _ALNUM)
"""DNS labels (from_regex would do, but is slow)."""
_VALID_DNS = st.builds(lambda parts: ".".join(parts), st.lists(_LABEL, min_size=1, max_size=2))
_VALID_URLS = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
    st.sampled_from(["http", "https"]), _VALID_DNS, st.sampled_from(["", ":8080", ":443"]),
    st.sampled_from(["", "/", "/run", "/api/v1/flow/run_binary_async", "/run?x=1&y=%20", "/a#b"]),
)
_VALID_CRON = (
    ("*", "0", "5", "*/5", "0-30/10", "1,2,59", "0-59"),
    ("*", "0", "23", "2", "*/6", "9-17", "0,12"),
    ("*", "?", "1", "31", "15", "1-7", "*/2", "28"),
    ("*", "1", "12", "jan", "Dec", "FEB-mar", "*/3", "6-8"),
    ("*", "?", "0", "6", "mon", "SUN", "mon-fri", "1-5", "sat,sun", "*/2"),
)
_VALID_SCHEDULES = st.one_of(
    st.sampled_from(DESCRIPTORS),
    st.tuples(*(st.sampled_from(f) for f in _VALID_CRON)).map(" ".join),
)


@dataclass(frozen=True)
class FieldValues:
    """One field's values: plainly `valid` ones, `edges` (valid in at least one engine's eyes, or just past a
    bound) and `bad` ones (clearly refused)."""

    path: str
    valid: st.SearchStrategy[Any]
    edges: st.SearchStrategy[Any]
    bad: st.SearchStrategy[Any] = WRONG_TYPE
    required: bool = False


_Values = st.SearchStrategy[Any]


def _enum(values: Sequence[str], bad: Sequence[str]) -> tuple[_Values, _Values, _Values]:
    return st.sampled_from(list(values)), st.sampled_from(list(values)), st.sampled_from(list(bad)) | WRONG_TYPE


_CONCURRENCY = _enum(["Allow", "Forbid", "Replace"], ["allow", "Never", "", "Forbid "])
_METHOD = _enum(["GET", "POST", "PUT"], ["DELETE", "get", "PATCH", ""])
_HEADERS = st.dictionaries(st.text(st.sampled_from(TOKEN_CHARS), min_size=1, max_size=10), text(8), max_size=3)
_EMAIL = st.builds(lambda a, b: f"{a}@{b}.example", _LABEL, _LABEL)
_SMALL_FREE_FORM = st.dictionaries(st.sampled_from(["a", "b", "limits", "claimName"]), JSON, max_size=2)

FIELDS: tuple[FieldValues, ...] = (
    FieldValues("schedule", _VALID_SCHEDULES, SCHEDULES, required=True),
    FieldValues("timeZone", st.sampled_from(ZONES), TIME_ZONES),
    FieldValues("enabled", st.booleans(), st.booleans()),
    FieldValues("trigger", text(8), sized(around(128))),
    FieldValues("concurrencyPolicy", *_CONCURRENCY),
    FieldValues("startingDeadlineSeconds", st.integers(0, 10**6), ints(0, None)),
    FieldValues("historyLimit", st.integers(1, 50), ints(1, 50)),
    FieldValues("flow.endpoint", _VALID_URLS, URLS, required=True),
    FieldValues("flow.method", *_METHOD),
    FieldValues("flow.binaryPath", text(10), sized(around(1024))),
    FieldValues("flow.inputDir", text(10), sized(around(1024))),
    FieldValues("flow.verifySslCertificate", st.booleans(), st.booleans()),
    FieldValues("flow.timeoutSeconds", st.integers(1, 3600), ints(1, 3600)),
    FieldValues("flow.authTokenSecretRef.name", _VALID_DNS, DNS_NAMES),
    FieldValues("flow.authTokenSecretRef.key", _SECRET_KEY, SECRET_KEYS),
    FieldValues("flow.settings", _SMALL_FREE_FORM, FREE_FORM),
    FieldValues("notifications.on", st.lists(st.sampled_from(["Success", "Failure"]), max_size=2),
                st.lists(st.sampled_from(["Success", "Failure"]), max_size=3),
                st.lists(st.sampled_from(["Always", "failure", ""]), min_size=1) | WRONG_TYPE),
    FieldValues("notifications.webhook.url", _VALID_URLS, URLS),
    FieldValues("notifications.webhook.headers", _HEADERS, header_maps()),
    FieldValues("notifications.webhook.headersSecretRef.name", _VALID_DNS, DNS_NAMES),
    FieldValues("notifications.emails", st.lists(_EMAIL, max_size=3), lists_around(EMAILS, 20, "ops@example.com")),
    FieldValues("automatic.enabled", st.just(False), st.booleans()),
    FieldValues("automatic.volume", _SMALL_FREE_FORM, FREE_FORM),
    FieldValues("automatic.path", st.sampled_from(["", "in", "a/b", "inbox/new"]), RELATIVE_PATHS),
    FieldValues("automatic.pattern", text(8), sized(around(256))),
    FieldValues("automatic.pollSeconds", st.integers(1, 3600), ints(1, 3600)),
    FieldValues("automatic.maxParallel", st.integers(1, 64), ints(1, 64)),
    FieldValues("jobTemplate.resources", _SMALL_FREE_FORM, FREE_FORM),
    FieldValues("jobTemplate.nodeSelector", st.dictionaries(text(6), text(8), max_size=3), st.one_of(
        st.dictionaries(text(6), text(8) | sized(around(63)), max_size=3),
        st.sampled_from(around(32)).map(lambda n: {f"k{i}": "v" for i in range(n)}),
    )),
    FieldValues("jobTemplate.tolerations", st.lists(_SMALL_FREE_FORM, max_size=2),
                lists_around(FREE_FORM, 32, {"operator": "Exists"})),
    FieldValues("jobTemplate.serviceAccountName", _VALID_DNS, DNS_NAMES),
)
_REQUIRED_IN = {
    "flow.authTokenSecretRef": ("name", "key"),
    "notifications.webhook": ("url",),
    "notifications.webhook.headersSecretRef": ("name",),
}
"""The required fields of the optional objects: an object that is there gets them (a break may take them)."""
_REQUIRED = ("schedule", "flow", "flow.endpoint", *(f"{o}.{k}" for o, keys in _REQUIRED_IN.items() for k in keys))
_SECTIONS = ("", "flow", "flow.authTokenSecretRef", "notifications", "notifications.webhook", "automatic",
             "jobTemplate")
UNKNOWN_FIELDS = {
    "": ("foo", "timezone", "Schedule", "status", "endpoint", "time_zone", "history_limit", "concurrency_policy",
         "starting_deadline_seconds", "job_template"),
    "flow": ("url", "timeout", "timeout_seconds", "binary_path", "verify_ssl_certificate", "auth_token_secret_ref"),
    "flow.authTokenSecretRef": ("namespace", "Key"),
    "notifications": ("webhooks", "slack"),
    "notifications.webhook": ("method", "headers_secret_ref"),
    "automatic": ("volumes", "poll_seconds", "max_parallel"),
    "jobTemplate": ("image", "node_selector", "service_account_name"),
}
"""Per object: names it does not have (typos, other products' names, and the models' snake_case names)."""


def _set(spec: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".") if path else [""]
    node = spec
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[last] = value


def _get(spec: dict[str, Any], path: str) -> dict[str, Any] | None:
    node: Any = spec
    for key in path.split(".") if path else []:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _delete(spec: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    parent = _get(spec, ".".join(parents))
    if parent is not None:
        parent.pop(last, None)


_BY_PATH = {f.path: f for f in FIELDS}


# (Hypothesis draws the low end of integers() far more often than uniformly: sampled_from is fairer.)
_PRESENT = st.sampled_from([False, False, False, True])
_AN_OBJECT = st.sampled_from([True] * 59 + [False])


@st.composite
def specs(draw: st.DrawFn, focus: Sequence[str] = ()) -> Any:
    """A ScheduledJob spec: a JSON object with any of the fields, the `focus` ones from their edge cases.

    Rarely (1 in 60) the spec is not an object at all.
    """
    spec: dict[str, Any] = {}
    for values in FIELDS:
        if values.path in focus:
            _set(spec, values.path, draw(values.edges))
        elif values.required or draw(_PRESENT):
            _set(spec, values.path, draw(values.valid))
    for section, keys in _REQUIRED_IN.items():
        node = _get(spec, section)
        for key in keys if node is not None else ():
            if node is not None and key not in node:
                node[key] = draw(_BY_PATH[f"{section}.{key}"].valid)
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 1, 1, 2]))):
        how = draw(st.sampled_from(["bad", "bad", "bad", "null", "missing", "unknown", "section"]))
        if how == "bad":
            values = draw(st.sampled_from(FIELDS))
            _set(spec, values.path, draw(values.bad))
        elif how == "null":
            _set(spec, draw(st.sampled_from([f.path for f in FIELDS] + list(_SECTIONS[1:]))), None)
        elif how == "missing":
            _delete(spec, draw(st.sampled_from(list(_REQUIRED))))
        elif how == "unknown":
            section = draw(st.sampled_from(list(UNKNOWN_FIELDS)))
            where = _get(spec, section)
            if where is None:
                where = {}
                _set(spec, section, where)
            name = draw(st.sampled_from(UNKNOWN_FIELDS[section]))
            twin = _BY_PATH.get(f"{section}.{to_camel(name)}".lstrip("."))  # a snake_case name gets a good value
            where[name] = draw(twin.valid if twin else st.integers(0, 3) | text(4))
        else:
            _set(spec, draw(st.sampled_from(list(_SECTIONS[1:]))), draw(st.sampled_from([{}, [], "x", 1])))
    return spec if draw(_AN_OBJECT) else draw(st.sampled_from([None, "x", [], [spec], 0]))


_NAME_PREFIX = _LABEL | st.builds(lambda a, b: f"{a}.{b}", _LABEL, _ALNUM)
EDGE_NAMES: st.SearchStrategy[str] = st.one_of(
    st.builds(lambda prefix, size, pad: (prefix + pad * size)[:size] if len(prefix) < size else prefix,
              _NAME_PREFIX, st.sampled_from([1, 52, 53, 62, 63, 64, 65, 100, 253]), st.sampled_from("ax9")),
    st.sampled_from(["a" * 63, "a" * 64, "a." * 31 + "a", "a." * 31 + "aa"]),
)
"""Valid object names (DNS subdomains) of every length that matters: the CRD's 63, the CronJob's 52."""


_FOCUS = (
    "metadata.name", "metadata.name", *(f.path for f in FIELDS),
    *(["schedule"] * 6), *(["timeZone"] * 4), *(["flow.endpoint"] * 2), "notifications.webhook.url",
    "notifications.webhook.headers", "notifications.emails", "notifications.emails",
)
"""Every field, the ones with regexes and corner syntax more often."""


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """Generated ScheduledJobs: one or two focus fields (now and then none) get their edge cases."""
    some = st.lists(st.sampled_from(_FOCUS), min_size=1, max_size=2, unique=True)
    focus = draw(st.integers(0, 7).flatmap(lambda n: some if n else st.just([])))
    name = draw(EDGE_NAMES if "metadata.name" in focus else _NAME_PREFIX)
    return Case(name, draw(specs(focus)))


# ---------------------------------------------------------------------------------------------------
# Edge cases always tried (besides the generated ones), each with the outcomes it may have.


def _spec(**changes: Any) -> dict[str, Any]:
    """A valid spec with dotted `changes` (a `__` in a keyword stands for a dot)."""
    spec: dict[str, Any] = json.loads(json.dumps(_BASE))
    for path, value in changes.items():
        _set(spec, path.replace("__", "."), value)
    return spec


def long_url(size: int) -> str:
    """A valid URL of exactly `size` characters."""
    prefix = "https://flows.example.com/"
    return prefix + "a" * (size - len(prefix))


def _hook(headers: dict[str, str], **more: Any) -> dict[str, Any]:
    """A valid spec with a webhook that sends `headers`."""
    return _spec(notifications__webhook={"url": "https://hooks.example.com/x", "headers": headers, **more})


_OK = ("accepted",)
_NO = ("refused",)
_OPERATOR = ("operator-only",)
EDGE_CASES: tuple[tuple[str, Case, tuple[str, ...]], ...] = (
    # A schedule that never fires is accepted by both today (see the report); refusing it beyond the
    # schema would make it operator-only, which is as good an answer.
    ("feb-31-never-fires", Case("never", _spec(schedule="0 0 31 2 *")), ("accepted", "operator-only")),
    ("apr-31-never-fires", Case("never", _spec(schedule="0 0 31 4 *")), ("accepted", "operator-only")),
    ("feb-31-or-monday", Case("feb", _spec(schedule="0 0 31 2 1")), _OK),
    ("step-0", Case("step", _spec(schedule="*/0 * * * *")), _NO),
    ("step-99", Case("step", _spec(schedule="*/99 * * * *")), _OK),
    ("step-100", Case("step", _spec(schedule="*/100 * * * *")), _NO),
    ("at-reboot", Case("reboot", _spec(schedule="@reboot")), _NO),
    ("at-every", Case("every", _spec(schedule="@every 5m")), _NO),
    ("descriptor-upper-case", Case("upper", _spec(schedule="@DAILY")), _NO),
    ("six-fields-seconds", Case("seconds", _spec(schedule="0 */5 * * * *")), _NO),
    ("seven-fields-quartz", Case("quartz", _spec(schedule="0 0 12 * * ? 2026")), _NO),
    ("backwards-range", Case("backwards", _spec(schedule="5-1 * * * *")), _OPERATOR),
    ("backwards-month-names", Case("backwards", _spec(schedule="0 0 * dec-jan *")), _OPERATOR),
    ("question-marks", Case("question", _spec(schedule="0 0 ? * ?")), _OK),
    ("day-of-week-7", Case("dow", _spec(schedule="0 0 * * 7")), _NO),
    ("tab-separator", Case("tab", _spec(schedule="0\t0 * * *")), _NO),
    ("schedule-128-chars", Case("long", _spec(schedule=long_schedule(128))), _OK),
    ("schedule-129-chars", Case("long", _spec(schedule=long_schedule(129))), _NO),
    # U+017F (long s) folds to s in both engines' (?i:sun); robfig/cron (the CronJob controller) does not.
    ("long-s-day-name", Case("longs", _spec(schedule="0 0 * * \u017fun")), ("operator-only", "refused")),
    ("name-63", Case("a" * 63, _BASE), _OK),
    ("name-64", Case("a" * 64, _BASE), _NO),
    ("name-64-with-dots", Case("a." * 31 + "aa", _BASE), _NO),
    ("zone-unknown", Case("zone", _spec(timeZone="Mars/Olympus")), _OPERATOR),
    ("zone-local", Case("zone", _spec(timeZone="Local")), _NO),
    ("zone-component-14", Case("zone", _spec(timeZone="America/Argentina/ComodRivadavia")), _OK),
    ("zone-component-15", Case("zone", _spec(timeZone="America/Argentina/ComodRivadaviaX")), _NO),
    ("zone-64-chars", Case("zone", _spec(timeZone="/".join(["Abcdefghijklmn"] * 5)[:64])), _OPERATOR),
    ("zone-65-chars", Case("zone", _spec(timeZone="/".join(["Abcdefghijklmn"] * 5)[:65])), _NO),
    ("url-ftp", Case("url", _spec(flow__endpoint="ftp://flows.example.com/run")), _NO),
    ("url-javascript", Case("url", _spec(notifications__webhook__url="javascript:alert(1)")), _NO),
    ("url-upper-case-scheme", Case("url", _spec(flow__endpoint="HTTPS://flows.example.com/")), _NO),
    ("url-credentials", Case("url", _spec(flow__endpoint="https://user:pw@flows.example.com/")), _NO),
    ("url-ascii-space", Case("url", _spec(flow__endpoint="https://flows.example.com/a b")), _NO),
    ("url-unicode-host", Case("url", _spec(flow__endpoint="https://bücher.example/run")), _OK),
    # RE2 (the API server) reads \s as [\t\n\f\r ] only; the rules spell that out so Python reads the same.
    ("url-nbsp-in-host", Case("url", _spec(flow__endpoint="https://flows\u00a0example.com/")), _OK),
    ("url-em-space-in-path", Case("url", _spec(notifications__webhook__url="https://hooks.example.com/a\u2003b")), _OK),
    ("url-vertical-tab", Case("url", _spec(flow__endpoint="https://flows.example.com/a\vb")), _OK),
    ("url-tab", Case("url", _spec(flow__endpoint="https://flows.example.com/a\tb")), _NO),
    ("url-form-feed-in-host", Case("url", _spec(flow__endpoint="https://flows\f.example.com/")), _NO),
    ("url-2048", Case("url", _spec(flow__endpoint=long_url(2048))), _OK),
    ("url-2049", Case("url", _spec(flow__endpoint=long_url(2049))), _NO),
    ("header-name-space", Case("hdr", _hook({"X Team": "a"})), _NO),
    ("header-name-empty", Case("hdr", _hook({"": "a"})), _NO),
    ("header-name-256", Case("hdr", _hook({"X" * 256: "a"})), _OK),
    ("header-name-257", Case("hdr", _hook({"X" * 257: "a"})), _NO),
    ("header-name-unicode", Case("hdr", _hook({"X-Ünï": "a"})), _NO),
    ("header-value-crlf", Case("hdr", _hook({"X": "a\r\nX-Evil: 1"})), _NO),
    ("header-value-unicode-4096", Case("hdr", _hook({"X": "ü" * 4096})), _OK),
    ("header-value-4097", Case("hdr", _hook({"X": "ü" * 4097})), _NO),
    ("headers-32", Case("hdr", _hook({f"X-{i}": "v" for i in range(32)})), _OK),
    ("headers-33", Case("hdr", _hook({f"X-{i}": "v" for i in range(33)})), _NO),
    ("headers-and-secret", Case("hdr", _hook({"X": "a"}, headersSecretRef={"name": "hook"})), _OK),
    ("trigger-128-unicode", Case("trig", _spec(trigger="ü" * 128)), _OK),
    ("trigger-129-unicode", Case("trig", _spec(trigger="ü" * 129)), _NO),
    ("trigger-astral-128", Case("trig", _spec(trigger="\U0001f600" * 128)), _OK),
    ("history-limit-0", Case("hist", _spec(historyLimit=0)), _NO),
    ("history-limit-50", Case("hist", _spec(historyLimit=50)), _OK),
    ("history-limit-51", Case("hist", _spec(historyLimit=51)), _NO),
    ("history-limit-null", Case("hist", _spec(historyLimit=None)), ("null-pruned",)),
    ("history-limit-float-integral", Case("hist", _spec(historyLimit=10.0)), _OK),
    ("history-limit-float", Case("hist", _spec(historyLimit=10.5)), _NO),
    ("emails-20", Case("mail", _spec(notifications__emails=["ops@example.com"] * 20)), _OK),
    ("emails-21", Case("mail", _spec(notifications__emails=["ops@example.com"] * 21)), _NO),
    ("email-254", Case("mail", _spec(notifications__emails=["ops@" + "a" * 250])), _OK),
    ("email-255", Case("mail", _spec(notifications__emails=["ops@" + "a" * 251])), _NO),
    ("email-nbsp", Case("mail", _spec(notifications__emails=["ops\u00a0team@example.com"])), _OK),
    ("email-space", Case("mail", _spec(notifications__emails=["ops team@example.com"])), _NO),
    ("on-three", Case("on", _spec(notifications__on=["Success", "Failure", "Success"])), _NO),
    ("automatic-without-volume", Case("auto", _spec(automatic={"enabled": True})), _NO),
    ("automatic-with-volume", Case("auto", _spec(automatic={"enabled": True, "volume": {"emptyDir": {}}})), _OK),
    ("automatic-path-dotdot", Case("auto", _spec(automatic__path="a/../b")), _NO),
    ("automatic-path-dotdot-prefix", Case("auto", _spec(automatic__path="a/..b")), _OK),
    ("automatic-path-absolute", Case("auto", _spec(automatic__path="/in")), _NO),
    ("secret-name-253", Case("sec", _spec(flow__authTokenSecretRef={"name": "a" * 253, "key": "k"})), _OK),
    ("secret-name-254", Case("sec", _spec(flow__authTokenSecretRef={"name": "a" * 254, "key": "k"})), _NO),
    ("secret-key-slash", Case("sec", _spec(flow__authTokenSecretRef={"name": "s", "key": "a/b"})), _NO),
    ("node-selector-value-63", Case("ns", _spec(jobTemplate__nodeSelector={"k": "v" * 63})), _OK),
    ("node-selector-value-64", Case("ns", _spec(jobTemplate__nodeSelector={"k": "v" * 64})), _NO),
    ("unknown-field", Case("unknown", _spec(foo=1)), _NO),
    ("spec-missing-flow", Case("missing", {"schedule": "@daily"}), _NO),
    ("spec-not-an-object", Case("notobj", "x"), _NO),
)
"""The bounds and corners named in the oracle's brief: cron edges, names at 63/64, header names, URL
schemes, the one rule that ties two fields (automatic.volume when enabled), sizes at and past each bound."""

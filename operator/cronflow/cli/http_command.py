"""Pure: one crontab command line that calls a URL with curl or wget -> the ScheduledJob `flow` fields.

Only what maps faithfully is translated; anything else raises `Untranslatable` with the reason. The
command is never run: it is split with `shlex` after a scan for what only a shell could do
(pipelines, lists, substitutions, variables, redirections other than discarding output).
"""

import base64
import json
import math
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlsplit

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_ATTEMPTS = 10
MAX_TIMEOUT_SECONDS = 3600
_REFUSED_HEADERS = {
    "cookie": "a Cookie header: cronflow does not send cookies",
    "host": "a Host header: cronflow sends the endpoint's host",
}
# Output thrown away or merged (`>/dev/null 2>&1`): cronflow keeps the answer in the results instead.
_DISCARDED_OUTPUT = re.compile(r"(\s+(?:[12]?>>?|&>>?)\s*(?:/dev/null|&[12]))+\s*$")
_CRON_PERCENT = re.compile(r"(?<!\\)%")
_SHELL_ONLY = {
    "|": "a pipeline or `||`",
    "&": "a background job or `&&`",
    ";": "a command list",
    "<": "an input redirection",
    ">": "an output redirection to a file",
    "`": "command substitution",
    "(": "a subshell",
    ")": "a subshell",
    "$": "a shell variable or substitution",
    "\n": "more than one line",
}


class Untranslatable(ValueError):
    """The command cannot be expressed as a flow; str() says why."""


@dataclass
class Request:
    """What the command asks for, gathered option by option."""

    url: str | None = None
    method: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    data: str | None = None
    data_in_query: bool = False
    verify_tls: bool = True
    timeout_seconds: int | None = None
    attempts: int | None = None

    def set_url(self, url: str) -> None:
        if self.url is not None:
            raise Untranslatable("more than one URL: one ScheduledJob calls one endpoint")
        self.url = url

    def add_header(self, raw: str) -> None:
        name, sep, value = raw.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise Untranslatable(f"header {raw!r} is not 'Name: value'")
        refused = _REFUSED_HEADERS.get(name.lower())
        if refused:
            raise Untranslatable(refused)
        self.headers[name] = value

    def add_data(self, data: str, raw: bool = False) -> None:
        if data.startswith("@") and not raw:
            raise Untranslatable("the body is read from a file (@file): put the JSON into the ScheduledJob")
        self.data = data if self.data is None else f"{self.data}&{data}"


def translate(command: str) -> dict[str, Any]:
    """The flow (camelCase spec fields) that makes the same HTTP call as `command`."""
    words = split_command(command)
    program = PurePosixPath(words[0]).name
    parsers: dict[str, Callable[[list[str]], Request]] = {"curl": _parse_curl, "wget": _parse_wget}
    if program not in parsers:
        raise Untranslatable(f"runs {program!r}, not curl or wget")
    return _flow(parsers[program](words[1:]))


def split_command(command: str) -> list[str]:
    """The words of a cron command (`\\%` is a literal %), refusing what needs a shell."""
    if _CRON_PERCENT.search(command):
        raise Untranslatable("an unescaped % (cron turns it into a line break and standard input)")
    text = _DISCARDED_OUTPUT.sub("", command.strip()).replace("\\%", "%")
    for char, reason in _unquoted_specials(text):
        raise Untranslatable(f"{reason} ({char!r}): only a single curl or wget call translates")
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise Untranslatable(f"cannot split the command: {error}") from None
    if not words:
        raise Untranslatable("no command")
    if "=" in words[0]:
        raise Untranslatable("sets a variable before the command")
    return words


def _unquoted_specials(text: str) -> Iterator[tuple[str, str]]:
    """Characters a shell (or cron: an unescaped `%`) would act on, with why they cannot translate."""
    quote = ""
    escaped = False
    for char in text:
        if escaped:
            escaped = False
            continue
        if char == "\\" and quote != "'":
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
            elif quote == '"' and char in "$`":
                yield char, _SHELL_ONLY[char]
        elif char in "'\"":
            quote = char
        elif char in _SHELL_ONLY:
            yield char, _SHELL_ONLY[char]
        elif char == "~":
            yield char, "a home directory (~)"


_CURL_FLAGS = {
    "-s",
    "--silent",
    "-S",
    "--show-error",
    "-f",
    "--fail",
    "--fail-with-body",
    "-L",
    "--location",
    "-v",
    "--verbose",
    "-q",
    "--disable",
    "-g",
    "--globoff",
    "--compressed",
    "-N",
    "--no-buffer",
    "-#",
    "--progress-bar",
    "-i",
    "--include",
    "--http1.1",
    "--http2",
    "-0",
    "--http1.0",
    "--no-progress-meter",
}
_CURL_IGNORED_WITH_VALUE = {"-w", "--write-out", "--connect-timeout", "--retry-delay", "--retry-max-time"}
_CURL_DATA = {"-d", "--data", "--data-raw", "--data-binary", "--data-ascii"}
_CURL_SHORT_WITH_VALUE = set("XHdmoAewuFbTKEr")
_DISCARDED_OUTPUTS = {"/dev/null", "-"}


def _parse_curl(args: list[str]) -> Request:
    request = Request()
    pending = list(_expand_short(args, _CURL_SHORT_WITH_VALUE))
    while pending:
        arg = pending.pop(0)
        if not arg.startswith("-") or arg == "-":
            request.set_url(arg)
        elif arg in _CURL_FLAGS:
            continue
        elif arg in ("-k", "--insecure"):
            request.verify_tls = False
        elif arg in ("-G", "--get"):
            request.data_in_query = True
        else:
            _curl_option(request, arg, _value(pending, arg))
    return request


def _curl_option(request: Request, option: str, value: str) -> None:
    if option in ("-X", "--request"):
        request.method = value.upper()
    elif option in ("-H", "--header"):
        request.add_header(value)
    elif option in ("-A", "--user-agent"):
        request.add_header(f"User-Agent: {value}")
    elif option in ("-e", "--referer"):
        request.add_header(f"Referer: {value}")
    elif option in _CURL_DATA:
        request.add_data(value, raw=option == "--data-raw")
    elif option == "--json":
        request.add_data(value)
        request.headers.setdefault("Accept", "application/json")
    elif option in ("-m", "--max-time"):
        request.timeout_seconds = _seconds(value, option)
    elif option == "--retry":
        request.attempts = _count(value, option) + 1
    elif option in ("-o", "--output"):
        if value not in _DISCARDED_OUTPUTS:
            raise Untranslatable(f"writes the answer to a file ({option} {value}); cronflow keeps it in the results")
    elif option == "--url":
        request.set_url(value)
    elif option in _CURL_IGNORED_WITH_VALUE:
        return
    elif option in ("-u", "--user"):
        request.add_header(f"Authorization: Basic {base64.b64encode(value.encode()).decode()}")
    elif option in ("-b", "--cookie"):
        raise Untranslatable(f"{option}: cronflow does not send cookies")
    elif option in ("-F", "--form"):
        raise Untranslatable("a multipart form (-F): write flow.form by hand (fields and fileField)")
    else:
        raise Untranslatable(f"curl option {option} has no cronflow equivalent")


_WGET_FLAGS = {"-q", "--quiet", "-nv", "--no-verbose", "--delete-after", "-S", "--server-response"}
_WGET_SHORT_WITH_VALUE = set("OTtU")


def _parse_wget(args: list[str]) -> Request:
    request = Request(attempts=1)
    pending = list(_expand_short(args, _WGET_SHORT_WITH_VALUE))
    while pending:
        arg = pending.pop(0)
        option, sep, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if not arg.startswith("-"):
            request.set_url(arg)
        elif arg in _WGET_FLAGS:
            continue
        elif arg == "--no-check-certificate":
            request.verify_tls = False
        elif arg == "--spider":
            raise Untranslatable("--spider only checks that the URL exists")
        else:
            _wget_option(request, option, inline if sep else _value(pending, option))
    return request


def _wget_option(request: Request, option: str, value: str) -> None:
    if option in ("-O", "--output-document"):
        if value not in _DISCARDED_OUTPUTS:
            raise Untranslatable(f"writes the answer to a file ({option} {value}); cronflow keeps it in the results")
    elif option == "--method":
        request.method = value.upper()
    elif option == "--header":
        request.add_header(value)
    elif option in ("-U", "--user-agent"):
        request.add_header(f"User-Agent: {value}")
    elif option in ("--post-data", "--body-data"):
        request.add_data(value)
        if option == "--post-data":
            request.method = request.method or "POST"
    elif option in ("-T", "--timeout"):
        request.timeout_seconds = _seconds(value, option)
    elif option in ("-t", "--tries"):
        request.attempts = _count(value, option) or MAX_ATTEMPTS
    elif option in ("--post-file", "--body-file"):
        raise Untranslatable(f"the body is read from a file ({option}): put the JSON into the ScheduledJob")
    elif option in ("--user", "--password", "--http-user", "--http-password"):
        raise Untranslatable(f"credentials on the command line ({option}): keep them in a Secret")
    else:
        raise Untranslatable(f"wget option {option} has no cronflow equivalent")


def _expand_short(args: list[str], with_value: set[str]) -> Iterator[str]:
    """`-sSk` -> `-s -S -k`; `-XPOST` / `-qO-` -> `-X POST` / `-q -O -` (curl and wget short options)."""
    for arg in args:
        if not arg.startswith("-") or arg.startswith("--") or len(arg) <= 2:
            yield arg
            continue
        for index, letter in enumerate(arg[1:], start=1):
            yield f"-{letter}"
            if letter in with_value:
                rest = arg[index + 1 :]
                if rest:
                    yield rest
                break


def _value(pending: list[str], option: str) -> str:
    if not pending:
        raise Untranslatable(f"option {option} has no value")
    return pending.pop(0)


def _seconds(value: str, option: str) -> int:
    try:
        seconds = math.ceil(float(value))
    except ValueError:
        raise Untranslatable(f"{option} {value!r} is not a number of seconds") from None
    if not 1 <= seconds <= MAX_TIMEOUT_SECONDS:
        raise Untranslatable(f"{option} {value}: cronflow's timeout is 1..{MAX_TIMEOUT_SECONDS} s")
    return seconds


def _count(value: str, option: str) -> int:
    if not value.isdigit():
        raise Untranslatable(f"{option} {value!r} is not a count")
    return min(int(value), MAX_ATTEMPTS)


def _flow(request: Request) -> dict[str, Any]:
    if request.url is None:
        raise Untranslatable("no URL")
    url = request.url if "://" in request.url else f"http://{request.url}"
    if urlsplit(url).scheme not in ("http", "https"):
        raise Untranslatable(f"{urlsplit(url).scheme}:// is not http or https")
    method = request.method or ("POST" if request.data is not None and not request.data_in_query else "GET")
    if method not in METHODS:
        raise Untranslatable(f"method {method}: cronflow calls with {', '.join(METHODS)}")
    flow: dict[str, Any] = {"endpoint": url, "method": method}
    _add_body(flow, request)
    headers = {k: v for k, v in request.headers.items() if not _is_json_content_type(k, v) or "json" not in flow}
    if headers:
        flow["headers"] = headers
    if not request.verify_tls:
        flow["verifySslCertificate"] = False
    if request.timeout_seconds is not None:
        flow["timeoutSeconds"] = request.timeout_seconds
    if request.attempts is not None and request.attempts > 1:
        flow["retry"] = {"attempts": min(request.attempts, MAX_ATTEMPTS)}
    return flow


def _add_body(flow: dict[str, Any], request: Request) -> None:
    if request.data is None:
        return
    if request.data_in_query:
        flow["query"] = dict(parse_qsl(request.data, keep_blank_values=True))
        return
    if not request.data:
        return  # an empty body: the run sends the flow body, `{}` with no flow fields set
    try:
        body = json.loads(request.data)
    except ValueError:
        raise Untranslatable(
            "the body is not JSON (cronflow sends a JSON body or a multipart form, not form-encoded data)"
        ) from None
    if not isinstance(body, dict):
        raise Untranslatable("the JSON body is not an object (flow.json holds a JSON object)")
    flow["json"] = body
    content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), None)
    if content_type is not None and "json" not in content_type.lower():
        raise Untranslatable(f"Content-Type {content_type!r}: cronflow sends JSON bodies as application/json")


def _is_json_content_type(name: str, value: str) -> bool:
    return name.lower() == "content-type" and "json" in value.lower()

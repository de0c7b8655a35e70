"""Email notifications against a real aiosmtpd server on 127.0.0.1 that requires TLS and AUTH.

The certificates are made here with `openssl`: a test CA and server certificates it issued. Every
connection goes through a relay that records what the operator sends, so the tests can tell that the
password never crosses the wire in clear, and that it is never sent at all to an untrusted server.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from cronflow.notify import deliver
from cronflow.settings import OperatorSettings
from tests.support.helm import helm_binary

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
USER = "cronflow"
PASSWORD = "smtp-PLANTED-password-7f3a"
SJ = {"metadata": {"name": "nightly", "namespace": "team-a", "uid": "uid-1"}}
RESULT = {"job": "nightly-1", "status": "ERROR", "trigger": "schedule"}


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    other_name_cert: Path  # issued by the same CA for mail.example.test only
    other_name_key: Path


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def issue(directory: Path, name: str, san: str) -> tuple[Path, Path]:
    (directory / f"{name}.ext").write_text(
        f"subjectAltName={san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=directory)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-out", f"{name}.crt", "-extfile", f"{name}.ext", cwd=directory)
    return directory / f"{name}.crt", directory / f"{name}.key"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=cronflow test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=directory)
    cert, key = issue(directory, "server", "IP:127.0.0.1,DNS:localhost")
    other_cert, other_key = issue(directory, "other", "DNS:mail.example.test")
    return Pki(directory / "ca.crt", cert, key, other_cert, other_key)


@dataclass
class Inbox:
    """aiosmtpd handler and authenticator: keeps the messages and every login attempt."""

    messages: list[tuple[list[str], bytes]] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=data.login == USER.encode() and data.password == PASSWORD.encode())


class Relay:
    """A TCP relay in front of the SMTP server that records every byte the client sends."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sent = bytearray()
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, record: bool) -> None:
        try:
            while data := source.recv(65536):
                if record:
                    with self._lock:
                        self.sent += data
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._listener.close()

    def password_seen(self) -> bool:
        """Whether the password crossed the wire readable: as is, or in AUTH PLAIN or LOGIN's base64."""
        forms = [PASSWORD.encode(), base64.b64encode(PASSWORD.encode()),
                 base64.b64encode(f"\0{USER}\0{PASSWORD}".encode())]
        return any(form in self.sent for form in forms)


@dataclass
class Smtp:
    inbox: Inbox
    relay: Relay


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_smtp(implicit: ssl.SSLContext | None = None, starttls: ssl.SSLContext | None = None) -> Iterator[Smtp]:
    """aiosmtpd with AUTH required; with `starttls`, STARTTLS is required and AUTH offered only after it;
    without either context, AUTH is offered in clear (to see that the operator does not use it)."""
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), ssl_context=implicit, tls_context=starttls,
        require_starttls=starttls is not None, authenticator=inbox, auth_required=True,
        # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; implicit TLS is TLS from the first byte.
        auth_require_tls=starttls is not None,
    )
    controller.start()
    relay = Relay(controller.port)
    try:
        yield Smtp(inbox, relay)
    finally:
        relay.close()
        controller.stop()


@pytest.fixture
def starttls_server(pki: Pki) -> Iterator[Smtp]:
    yield from run_smtp(starttls=server_context(pki.server_cert, pki.server_key))


@pytest.fixture
def implicit_server(pki: Pki) -> Iterator[Smtp]:
    yield from run_smtp(implicit=server_context(pki.server_cert, pki.server_key))


@pytest.fixture
def wrong_name_server(pki: Pki) -> Iterator[Smtp]:
    yield from run_smtp(starttls=server_context(pki.other_name_cert, pki.other_name_key))


@pytest.fixture
def plain_server() -> Iterator[Smtp]:
    yield from run_smtp()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deliver, "FIRST_BACKOFF_SECONDS", 0.01)


def settings(server: Smtp, **overrides: Any) -> OperatorSettings:
    values: dict[str, Any] = {"smtp_host": "127.0.0.1", "smtp_port": server.relay.port, "smtp_username": USER,
                              "smtp_password": PASSWORD, "smtp_from": "cronflow@test.local", **overrides}
    return OperatorSettings(**values)


def send(server: Smtp, **overrides: Any) -> None:
    deliver.send_email(SJ, RESULT, ["oncall@example.com"], settings(server, **overrides))


def refusal(server: Smtp, **overrides: Any) -> str:
    """The message of the error sending raised ("" when it did not); the caller checks the server first."""
    try:
        send(server, **overrides)
    except Exception as error:
        assert isinstance(error, deliver.DeliveryError), repr(error)
        return str(error)
    return ""


def test_starttls_to_an_untrusted_certificate_is_refused_and_the_password_never_sent(
    starttls_server: Smtp,
) -> None:
    message = refusal(starttls_server)  # system CAs only: the test CA is not among them
    assert starttls_server.inbox.logins == []
    assert starttls_server.inbox.messages == []
    assert b"STARTTLS" in starttls_server.relay.sent  # TLS was asked for, the handshake failed
    assert not starttls_server.relay.password_seen()
    assert "the SMTP server's certificate is not trusted" in message
    assert "smtp_ca_file" in message
    assert PASSWORD not in message
    assert starttls_server.relay.connections == 1  # a certificate problem is not retried


def test_starttls_with_the_configured_ca_delivers_and_the_password_is_encrypted(
    starttls_server: Smtp, pki: Pki
) -> None:
    send(starttls_server, smtp_ca_file=str(pki.ca))
    assert starttls_server.inbox.logins == [(USER.encode(), PASSWORD.encode())]
    [(recipients, raw)] = starttls_server.inbox.messages
    assert recipients == ["oncall@example.com"]
    assert b"Subject: [cronflow] team-a/nightly: run ERROR" in raw
    assert not starttls_server.relay.password_seen()


def test_the_host_name_is_checked(wrong_name_server: Smtp, pki: Pki) -> None:
    message = refusal(wrong_name_server, smtp_ca_file=str(pki.ca))  # trusted CA, issued for mail.example.test
    assert wrong_name_server.inbox.logins == []
    assert not wrong_name_server.relay.password_seen()
    assert "not trusted" in message
    assert "127.0.0.1" in message  # OpenSSL: Hostname mismatch ... for '127.0.0.1'


def test_implicit_tls_with_the_configured_ca_delivers(implicit_server: Smtp, pki: Pki) -> None:
    send(implicit_server, smtp_tls="implicit", smtp_ca_file=str(pki.ca))
    assert implicit_server.inbox.logins == [(USER.encode(), PASSWORD.encode())]
    assert len(implicit_server.inbox.messages) == 1
    assert not implicit_server.relay.password_seen()


def test_implicit_tls_to_an_untrusted_certificate_is_refused(implicit_server: Smtp) -> None:
    message = refusal(implicit_server, smtp_tls="implicit")
    assert implicit_server.inbox.logins == []
    assert "not trusted" in message
    assert implicit_server.relay.connections == 1


def test_a_server_without_starttls_gets_no_password(plain_server: Smtp) -> None:
    """What a man in the middle who strips STARTTLS from the EHLO answer would look like."""
    message = refusal(plain_server)
    assert plain_server.inbox.logins == []
    assert not plain_server.relay.password_seen()
    assert "STARTTLS extension not supported" in message


def test_no_tls_with_a_username_is_refused_before_connecting(plain_server: Smtp) -> None:
    message = refusal(plain_server, smtp_starttls=False)
    assert not plain_server.relay.password_seen()
    assert plain_server.inbox.logins == []
    assert plain_server.relay.connections == 0
    assert "the password is not sent without TLS" in message


def test_no_tls_without_a_username_still_delivers_as_before() -> None:
    """The e2e tests' setup: a local SMTP server without TLS and without AUTH."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        deliver.send_email(SJ, RESULT, ["oncall@example.com"], OperatorSettings(
            smtp_host="127.0.0.1", smtp_port=controller.port, smtp_starttls=False))
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_a_missing_ca_file_is_a_clear_final_error(starttls_server: Smtp, tmp_path: Path) -> None:
    with pytest.raises(deliver.DeliveryError, match=r"cannot load the SMTP CA bundle .*missing\.pem"):
        send(starttls_server, smtp_ca_file=str(tmp_path / "missing.pem"))
    assert starttls_server.relay.connections == 0


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "starttls"),
        ({"smtp_port": 465}, "implicit"),
        ({"smtp_port": 465, "smtp_starttls": False}, "implicit"),
        ({"smtp_starttls": False}, "none"),
        ({"smtp_tls": "implicit", "smtp_port": 2465}, "implicit"),
        ({"smtp_tls": "starttls", "smtp_starttls": False}, "starttls"),
        ({"smtp_tls": "none", "smtp_port": 465}, "none"),
    ],
)
def test_smtp_security_from_the_settings(values: dict[str, Any], expected: str) -> None:
    assert deliver.smtp_security(OperatorSettings(smtp_host="mail", **values)) == expected


def test_the_tls_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRONFLOW_SMTP_TLS", "implicit")
    monkeypatch.setenv("CRONFLOW_SMTP_CA_FILE", "/etc/cronflow/smtp-ca/ca.crt")
    loaded = OperatorSettings()
    assert (loaded.smtp_tls, loaded.smtp_ca_file) == ("implicit", "/etc/cronflow/smtp-ca/ca.crt")
    monkeypatch.setenv("CRONFLOW_SMTP_TLS", "sometimes")
    with pytest.raises(ValueError, match="smtp_tls"):
        OperatorSettings()


# --- the chart's values for them ----------------------------------------------------------------------

CHART = Path(__file__).resolve().parents[2] / "charts" / "cronflow"


def operator_pod(*values: str) -> dict[str, Any]:
    sets = [arg for value in values for arg in ("--set", value)]
    rendered = subprocess.run([helm_binary(), "template", "cronflow", str(CHART), *sets],
                              capture_output=True, text=True, timeout=60, check=True).stdout
    [deployment] = [doc for doc in yaml.safe_load_all(rendered) if doc and doc["kind"] == "Deployment"]
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


def test_the_chart_sets_the_tls_mode_and_mounts_the_ca_secret() -> None:
    pod = operator_pod("smtp.host=mail.example.com", "smtp.tls=implicit", "smtp.caSecretRef.name=smtp-ca",
                       "smtp.caSecretRef.key=bundle.pem")
    [main] = pod["containers"]
    env = {item["name"]: item.get("value") for item in main["env"]}
    assert env["CRONFLOW_SMTP_TLS"] == "implicit"
    assert env["CRONFLOW_SMTP_CA_FILE"] == "/etc/cronflow/smtp-ca/bundle.pem"
    assert {"name": "smtp-ca", "mountPath": "/etc/cronflow/smtp-ca", "readOnly": True} in main["volumeMounts"]
    items = [{"key": "bundle.pem", "path": "bundle.pem"}]
    volume = {"name": "smtp-ca", "secret": {"secretName": "smtp-ca", "items": items}}
    assert volume in pod["volumes"]


def test_the_chart_defaults_leave_tls_auto_and_the_system_cas() -> None:
    [main] = operator_pod("smtp.host=mail.example.com")["containers"]
    names = {item["name"] for item in main["env"]}
    assert "CRONFLOW_SMTP_TLS" not in names  # auto, the settings' default
    assert "CRONFLOW_SMTP_CA_FILE" not in names
    assert [mount["name"] for mount in main["volumeMounts"]] == ["tmp"]

"""`kubectl cronflow dashboard`: open the dashboard in a browser, signed in with the current kubeconfig's token.

By default through `kubectl port-forward` to the chart's cronflow-api Service (gateway.enabled=true); with
--local the gateway runs in this process instead, against the kubeconfig's API server. Either way the page
acts with the kubeconfig's own bearer token, handed over in the URL's fragment (which browsers never send
to a server); the page keeps it in the tab's session storage and drops it from the address bar.
"""

import argparse
import re
import subprocess
import sys
import threading
import webbrowser
from typing import Any
from urllib.parse import urlencode

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

_EPILOG = ("Through a port-forward to the chart's gateway Service (gateway.enabled=true), or with --local a gateway "
           "run here. A context that authenticates with a client certificate has no token to hand over: sign in on "
           "the page with one (kubectl create token).")
SERVICE = "cronflow-api"
SERVICE_NAMESPACE = "cronflow-system"
_FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+)")


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """`dashboard` with its options, as a subcommand of the plugin."""
    summary = "Open the dashboard in a browser, signed in with the current kubeconfig's token."
    sub = commands.add_parser("dashboard", parents=parents, help=summary, description=summary, epilog=_EPILOG)
    sub.add_argument("--local", action="store_true", help="run the gateway here instead of port-forwarding")
    sub.add_argument("--service", default=SERVICE, help=f"the gateway's Service (default {SERVICE})")
    sub.add_argument("--service-namespace", default=SERVICE_NAMESPACE,
                     help=f"its namespace (default {SERVICE_NAMESPACE})")
    sub.add_argument("--service-port", type=int, default=80, help="its port (default 80)")
    sub.add_argument("--port", type=int, default=0, help="local port (default: a free one)")
    sub.add_argument("--no-browser", action="store_true", help="print the address instead of opening a browser")
    sub.set_defaults(offline=run)


def run(args: argparse.Namespace) -> int:
    """Serve or forward, open the page, and keep going until interrupted."""
    try:
        server = kubeconfig_server(args.kubeconfig, args.context)
        namespace = args.namespace or _context_namespace(args.kubeconfig, args.context)
    except ConfigException as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    token = bearer_token(server)
    if token is None:
        print("note: this kubeconfig context has no bearer token (it authenticates otherwise, e.g. with a client "
              "certificate, which a browser cannot present): sign in on the page with a token, e.g. "
              "kubectl -n NAMESPACE create token NAME",
              file=sys.stderr)
    try:
        return _local(server, namespace, token, args) if args.local else _forward(namespace, token, args)
    except KeyboardInterrupt:
        return 0


def kubeconfig_server(kubeconfig: str | None, context: str | None) -> client.Configuration:
    """The kubeconfig context as a client configuration (exec plugins and token files resolved)."""
    found = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=found)  # type: ignore[no-untyped-call]
    return found


def bearer_token(server: client.Configuration) -> str | None:
    """The context's bearer token, or None when it authenticates otherwise."""
    value = str(server.api_key.get("BearerToken") or "")  # the client keeps basic auth there too, as "Basic ..."
    return value.removeprefix("Bearer ").strip() or None if value.startswith("Bearer ") else None


def page_url(port: int, token: str | None, namespace: str) -> str:
    """The page's address; the token and namespace in the fragment, which the browser keeps to itself."""
    fragment = {"namespace": namespace, **({"token": token} if token else {})}
    return f"http://127.0.0.1:{port}/#{urlencode(fragment)}"


def _open(port: int, token: str | None, namespace: str, no_browser: bool) -> None:
    print(f"dashboard at http://127.0.0.1:{port}/ (Ctrl-C stops it)", file=sys.stderr)
    if no_browser or not webbrowser.open(page_url(port, token, namespace)):
        print("sign in there with your token", file=sys.stderr)


def _forward(namespace: str, token: str | None, args: argparse.Namespace) -> int:
    """`kubectl port-forward` to the chart's Service; the page opens once it forwards."""
    command = ["kubectl", "-n", args.service_namespace, "port-forward", f"svc/{args.service}",
               f"{args.port or ''}:{args.service_port}", "--address", "127.0.0.1"]
    for option in ("kubeconfig", "context"):
        if getattr(args, option):
            command[1:1] = [f"--{option}", getattr(args, option)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as forward:
        assert forward.stdout is not None
        try:
            opened = False
            for line in forward.stdout:  # read to the end: kubectl logs every connection it forwards
                if not opened and (match := _FORWARDING.search(line)):
                    _open(int(match[1]), token, namespace, args.no_browser)
                    opened = True
            return forward.wait()
        finally:
            forward.terminate()


def _local(server: client.Configuration, namespace: str, token: str | None, args: argparse.Namespace) -> int:
    """The gateway in this process on 127.0.0.1, with the kubeconfig's API server address and CA only."""
    import uvicorn  # the web stack only here; the gateway's own modules import the plugin's trigger tokens

    from cronflow.gateway.access import KubeCluster
    from cronflow.gateway.app import create_app
    from cronflow.gateway.settings import GatewaySettings

    app = create_app(GatewaySettings(namespace=namespace), lambda caller: KubeCluster(server, caller))
    served = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port, log_config=None))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    while thread.is_alive() and not served.started:
        thread.join(0.05)
    if not served.started:
        return 1
    try:
        _open(served.servers[0].sockets[0].getsockname()[1], token, namespace, args.no_browser)
        thread.join()
    finally:
        served.should_exit = True
    return 0


def _context_namespace(kubeconfig: str | None, context: str | None) -> str:
    contexts, current = config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    chosen = next((c for c in contexts if c["name"] == context), current) if context else current
    return str((chosen or {}).get("context", {}).get("namespace") or "default")

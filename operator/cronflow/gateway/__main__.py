"""`cronflow-api`: command line -> settings -> the app (the REST API and the dashboard) under uvicorn."""

import argparse
import sys
from collections.abc import Sequence

import uvicorn
from kubernetes.config import ConfigException
from pydantic import ValidationError

from cronflow.gateway.access import KubeCluster, api_server
from cronflow.gateway.app import create_app
from cronflow.gateway.settings import GatewaySettings
from cronflow.logs import configure_logging


def parse_args(argv: Sequence[str]) -> dict[str, object]:
    """Command-line overrides of the CRONFLOW_API_* environment."""
    parser = argparse.ArgumentParser(prog="cronflow-api", description="Serve the scheduler API on ScheduledJobs.")
    parser.add_argument("--namespace", "-n", help="default namespace of the jobs (CRONFLOW_API_NAMESPACE)")
    parser.add_argument("--host", help="address to listen on (CRONFLOW_API_HOST, default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port to listen on (CRONFLOW_API_PORT, default 8000)")
    parser.add_argument("--flow-endpoint", metavar="URL",
                        help="the flow service's run-binary URL the jobs call (CRONFLOW_API_FLOW_ENDPOINT)")
    parser.add_argument("--spool-claim", metavar="PVC",
                        help="PersistentVolumeClaim for spooled_mode jobs (CRONFLOW_API_SPOOL_CLAIM)")
    parser.add_argument("--log-format", choices=["json", "text"], help="CRONFLOW_API_LOG_FORMAT")
    parser.add_argument("--dashboard-namespaces", metavar="NS,NS",
                        help="namespaces the dashboard offers besides --namespace (CRONFLOW_API_DASHBOARD_NAMESPACES)")
    args = parser.parse_args(argv)
    return {key: value for key, value in vars(args).items() if value is not None}


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until stopped."""
    try:
        settings = GatewaySettings(**parse_args(sys.argv[1:] if argv is None else argv))  # type: ignore[arg-type]
    except ValidationError as error:
        print(f"cronflow-api: invalid settings:\n{error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, verbose=False)
    try:
        server = api_server()
    except ConfigException as error:
        print(f"cronflow-api: no API server to talk to: {error}", file=sys.stderr)
        return 2
    app = create_app(settings, lambda token: KubeCluster(server, token))
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, server_header=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

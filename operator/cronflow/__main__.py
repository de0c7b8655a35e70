"""`python -m cronflow`: command line -> settings -> kopf.run."""

import argparse
import asyncio
import sys

import kopf
from pydantic import ValidationError

from cronflow import handlers, metrics, startup_gate
from cronflow.logs import configure_logging
from cronflow.settings import OperatorSettings


def parse_args(argv: list[str]) -> dict[str, object]:
    """Command-line overrides of the CRONFLOW_* environment."""
    parser = argparse.ArgumentParser(prog="python -m cronflow", description="Run the cronflow operator.")
    parser.add_argument("--namespace", "-n", action="append", dest="namespaces", metavar="NS",
                        help="namespace to watch (repeatable); default: the whole cluster")
    parser.add_argument("--job-image", help="image of the job runner (CRONFLOW_JOB_IMAGE)")
    parser.add_argument("--log-format", choices=["json", "text"], help="CRONFLOW_LOG_FORMAT")
    parser.add_argument("--verbose", action="store_true", default=None, help="debug logging")
    parser.add_argument("--liveness-port", type=int, help="port of /healthz, 0 for none")
    parser.add_argument("--metrics-port", type=int, help="port of /metrics, 0 for none")
    parser.add_argument("--lease-namespace", metavar="NS",
                        help="namespace of the leader-election Lease (CRONFLOW_LEASE_NAMESPACE); default: "
                        "POD_NAMESPACE, else the first watched namespace, else default")
    args = parser.parse_args(argv)
    return {key: value for key, value in vars(args).items() if value is not None}


def main(argv: list[str] | None = None) -> int:
    """Run the operator until it is stopped."""
    try:
        settings = OperatorSettings(**parse_args(sys.argv[1:] if argv is None else argv))  # type: ignore[arg-type]
    except ValidationError as error:
        print(f"cronflow: invalid settings:\n{error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.verbose)
    handlers.configure(settings)
    startup_gate.install()
    metrics.serve(settings.metrics_port)
    liveness = f"http://0.0.0.0:{settings.liveness_port}/healthz" if settings.liveness_port else None
    asyncio.run(
        kopf.operator(
            clusterwide=not settings.namespaces,
            namespaces=settings.namespaces,
            standalone=True,
            liveness_endpoint=liveness,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

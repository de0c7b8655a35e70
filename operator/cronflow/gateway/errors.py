"""Every refused or failed request answers `{"status": "ERROR", "msg": ...}` with a 4xx or 5xx code."""

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from cronflow.gateway.access import ApiError
from cronflow.gateway.shapes import Error

log = logging.getLogger(__name__)
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Error, "description": why}
    for code, why in (
        (400, "a request this gateway cannot carry out"),
        (401, "no bearer token, or one the API server does not accept"),
        (403, "Kubernetes RBAC does not allow the caller this"),
        (404, "no such job or run"),
        (409, "a conflicting change"),
        (413, "the body is too large"),
        (422, "an invalid body or query, or a job the API server's schema refuses (its message)"),
        (429, "the API server is throttling"),
        (502, "the API server did not answer or failed"),
    )
}


class GatewayError(Exception):
    """A request answered with `status` and `msg`."""

    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.msg = msg


def from_api_error(error: ApiError, doing: str = "") -> GatewayError:
    """The API server's refusal as the caller's error (its own status and message); no answer or a 5xx: 502."""
    prefix = f"{doing}: " if doing else ""
    if 400 <= error.status < 500:
        return GatewayError(error.status, f"{prefix}{error.message}")
    if error.status == 0:
        return GatewayError(502, f"{prefix}the Kubernetes API server did not answer ({error.reason})")
    return GatewayError(502, f"{prefix}the Kubernetes API server failed: {error.status} {error.message}")


def answer(status: int, msg: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The error body."""
    return JSONResponse(Error(msg=msg).model_dump(), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Route every error to the ERROR shape; validation messages name the field, never echo its value."""

    @app.exception_handler(GatewayError)
    def _gateway(_: Request, error: GatewayError) -> JSONResponse:
        return answer(error.status, error.msg)

    @app.exception_handler(ApiError)
    def _api(_: Request, error: ApiError) -> JSONResponse:
        mapped = from_api_error(error)
        return answer(mapped.status, mapped.msg)

    @app.exception_handler(RequestValidationError)
    def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = ["/".join(str(part) for part in e["loc"]) + ": " + str(e["msg"]) for e in error.errors()]
        return answer(422, "; ".join(problems[:10]))

    @app.exception_handler(HTTPException)
    def _http(_: Request, error: HTTPException) -> JSONResponse:
        return answer(error.status_code, str(error.detail), error.headers)  # e.g. Allow with a 405

    @app.exception_handler(Exception)
    def _unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return answer(500, f"internal error ({type(error).__name__})")

"""The operator's client of a watcher's HTTP API (jobs_image/cronflow_job/watch.py), at its pod IP."""

from typing import Any, Literal

import requests

from cronflow.automatic.plan import Claim, WatcherError, WatcherState
from cronflow.children.watcher import PORT

TIMEOUT_SECONDS = 5


class WatcherClient:
    """Calls to one watcher pod; every call is bounded by TIMEOUT_SECONDS."""

    def __init__(self, pod_ip: str, token: str, port: int = PORT) -> None:
        host = f"[{pod_ip}]" if ":" in pod_ip else pod_ip
        self.base_url = f"http://{host}:{port}"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._session = requests.Session()

    def state(self) -> WatcherState:
        """The claims and file counts."""
        document = self._call("GET", "/state", None, (200,))
        try:
            return WatcherState(
                processing=[Claim(str(c["file"]), str(c["claimId"])) for c in document["processing"]],
                pending=int(document["pending"]),
                done=int(document["done"]),
                failed=int(document["failed"]),
                last_file=document.get("lastFile"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise WatcherError(f"unexpected /state answer from {self.base_url}: {error!r}") from None

    def complete(self, claim: Claim, status: Literal["OK", "ERROR"]) -> None:
        """Move the claimed file to done/ or failed/ (idempotent: a file moved already is fine)."""
        body = {"file": claim.file, "status": status, "claimId": claim.claim_id}
        self._call("POST", "/complete", body, (200,))

    def _call(self, method: str, path: str, body: Any, expected: tuple[int, ...]) -> Any:
        url = f"{self.base_url}{path}"
        try:
            response = self._session.request(method, url, json=body, headers=self._headers, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise WatcherError(f"{method} {url} failed: {type(error).__name__}") from None
        if response.status_code not in expected:
            raise WatcherError(f"{method} {url}: HTTP {response.status_code} {response.text[:200]}")
        try:
            return response.json()
        except ValueError:
            raise WatcherError(f"{method} {url}: the answer is not JSON") from None

"""Leader election on a coordination.k8s.io/v1 Lease, the way client-go's leaderelection does it.

Every operator for the same set of watched namespaces competes for one Lease (`lease_name`). The one
that holds it (the leader) renews it every RENEW_EVERY_SECONDS; the others (followers) read it every
RETRY_EVERY_SECONDS and take it over once it has expired: `renewTime` + `leaseDurationSeconds` is in
the past by their clock (or its holder released it on a clean shutdown). Every write carries the
resourceVersion it was computed from, so of two that race, one gets 409 Conflict and stays a follower.
A leader that could not renew for RENEW_DEADLINE_SECONDS stops acting on its own, before anyone
else may take over (LEASE_DURATION_SECONDS after its last renewal).

`decide` and `release_body` are pure (the Lease as the API's JSON, the identity, the time); `Elector`
is the thin loop around them, with the API behind `LeaseApi` (kube.KubeLeases in the operator).

The clocks of the operators' nodes must agree to within a few seconds: a follower whose clock runs
more than LEASE_DURATION_SECONDS - RENEW_EVERY_SECONDS ahead of the leader's would take over a lease
that is still being renewed (client-go compares local observation times instead; we read renewTime so
that a replacement for a crashed pod acts as soon as the old lease has expired, not a full lease
duration after it started).
"""

import asyncio
import enum
import hashlib
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from cronflow import metrics
from cronflow.reconcile.writer import ApiError

LEASE_DURATION_SECONDS = 15
"""How long a lease is valid after its last renewal."""
RENEW_DEADLINE_SECONDS = 10.0
"""A leader that has not renewed for this long stops acting (before anyone may take over)."""
RENEW_EVERY_SECONDS = 5.0
RETRY_EVERY_SECONDS = 2.0
"""A follower reads the lease this often; a leader retries a failed renewal this often."""
CONFLICT_RETRY_SECONDS = 0.2
"""After a 409 (someone else wrote the lease first): read it again soon."""
LEASE_PREFIX = "cronflow-operator"
NAMESPACES_ANNOTATION = "cronflow.dev/watched-namespaces"
log = logging.getLogger(__name__)


def lease_name(namespaces: Sequence[str]) -> str:
    """`cronflow-operator-<hash>`: the same for every operator that watches the same set of namespaces
    (in any order), different for a different set; the whole cluster is the empty set."""
    watched = ",".join(sorted(set(namespaces)))
    return f"{LEASE_PREFIX}-{hashlib.sha256(watched.encode()).hexdigest()[:10]}"


def lease_namespace(setting: str, pod_namespace: str, namespaces: Sequence[str]) -> str:
    """Where the lease lives: the setting, else the operator pod's own namespace (POD_NAMESPACE),
    else the first watched namespace in sorted order (so the same set agrees), else `default`."""
    return setting or pod_namespace or (min(namespaces) if namespaces else "default")


def new_identity(pod_name: str = "") -> str:
    """The holder identity of this process: the pod (or host) name and a random suffix, so that a
    restarted process never mistakes its predecessor's lease for its own."""
    return f"{pod_name or socket.gethostname()}_{secrets.token_hex(4)}"


def format_time(when: datetime) -> str:
    """A MicroTime as the API server wants it (RFC 3339 with exactly six fraction digits, UTC).

    Never on a whole second: the kubernetes client turns the body into its models and back, and
    `datetime.isoformat()` leaves the fraction out then, which the API server refuses."""
    if when.microsecond == 0:
        when += timedelta(microseconds=1)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: object) -> datetime | None:
    """A Time or MicroTime of the API; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Action(enum.Enum):
    CREATE = "create"
    """No lease yet: create it, held by me."""
    RENEW = "renew"
    """I hold it: renew it."""
    ACQUIRE = "acquire"
    """Released or expired: take it over."""
    FOLLOW = "follow"
    """Someone else holds it and it has not expired: write nothing."""


@dataclass(frozen=True)
class Decision:
    """What to do with the lease, the body to write (create or replace) and who holds it then."""

    action: Action
    holder: str
    body: dict[str, Any] | None = None
    previous: str = ""
    """The holder before a takeover (empty when the lease was released or had none)."""
    expires_in: float | None = None
    """FOLLOW: seconds until the holder's lease expires unless renewed."""


def holder_of(lease: Mapping[str, Any] | None) -> str:
    """The lease's holder identity, empty when none."""
    if lease is None:
        return ""
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


def decide(
    lease: Mapping[str, Any] | None, me: str, now: datetime, name: str, namespace: str,
    duration: int = LEASE_DURATION_SECONDS, watched: Sequence[str] = (),
) -> Decision:
    """The next step for `me` given the lease as read (None: there is none) at `now`."""
    stamp = format_time(now)
    if lease is None:
        body = {
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace,
                         "annotations": {NAMESPACES_ANNOTATION: ",".join(sorted(set(watched))) or "*"}},
            "spec": {"holderIdentity": me, "leaseDurationSeconds": duration, "acquireTime": stamp,
                     "renewTime": stamp, "leaseTransitions": 0},
        }
        return Decision(Action.CREATE, me, body)
    spec = dict(lease.get("spec") or {})
    holder = holder_of(lease)
    meta = {k: v for k, v in (lease.get("metadata") or {}).items() if k != "managedFields"}
    if holder == me:
        spec.update(renewTime=stamp, leaseDurationSeconds=duration)
        spec.setdefault("acquireTime", stamp)
        return Decision(Action.RENEW, me, _lease(meta, spec))
    if holder:
        renewed = parse_time(spec.get("renewTime")) or parse_time(spec.get("acquireTime"))
        valid_for = int(spec.get("leaseDurationSeconds") or duration)
        if renewed is not None:
            left = (renewed + timedelta(seconds=valid_for) - now).total_seconds()
            if left > 0:
                return Decision(Action.FOLLOW, holder, expires_in=left)
    spec.update(holderIdentity=me, leaseDurationSeconds=duration, acquireTime=stamp, renewTime=stamp,
                leaseTransitions=int(spec.get("leaseTransitions") or 0) + 1)
    return Decision(Action.ACQUIRE, me, _lease(meta, spec), previous=holder)


def release_body(lease: Mapping[str, Any] | None, me: str, now: datetime) -> dict[str, Any] | None:
    """The lease given up by `me` on a clean shutdown (no holder, expired at once, so that another
    operator takes over at its next read), or None when `me` does not hold it."""
    if lease is None or holder_of(lease) != me:
        return None
    spec = {k: v for k, v in (lease.get("spec") or {}).items() if k != "holderIdentity"}
    spec.update(leaseDurationSeconds=1, renewTime=format_time(now))
    meta = {k: v for k, v in (lease.get("metadata") or {}).items() if k != "managedFields"}
    return _lease(meta, spec)


def _lease(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": dict(meta), "spec": dict(spec)}


class LeaseApi(Protocol):
    """The three Lease calls the elector makes; each raises ApiError (409 when it lost a race)."""

    def read(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The lease as JSON, None when there is none."""

    def create(self, namespace: str, body: Mapping[str, Any]) -> None:
        """Create it (409 when it exists already)."""

    def replace(self, namespace: str, name: str, body: Mapping[str, Any]) -> None:
        """Replace it, guarded by the body's resourceVersion (409 when it changed)."""


class Elector:
    """Competes for the lease until cancelled; `on_change(leading)` is called on the event loop.

    `step` (one read and at most one write, blocking) runs in a thread; the loop around it also
    watches the renew deadline while a step hangs, so a leader cut off from the API server stops
    acting in time.
    """

    def __init__(
        self, api: LeaseApi, namespace: str, name: str, identity: str,
        on_change: Callable[[bool], None], watched: Sequence[str] = (),
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.on_change = on_change
        self.watched = list(watched)
        self.wall = wall
        self.clock = clock
        self.leading = False
        self.holder: str | None = None
        """The holder as last seen (None: not known yet)."""
        self.error: str | None = None
        """The last failed attempt's error; None after an answer."""
        self.answered_at: float | None = None
        """When the API server last answered about the lease (monotonic)."""
        self._renewed_at = 0.0
        self._announced: bool | None = None
        self._stopped = False
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}"

    def step(self) -> float:
        """Read the lease, write it when `decide` says so; the seconds until the next step."""
        if self._stopped:
            return RETRY_EVERY_SECONDS
        started = self.clock()
        try:
            decision = decide(self.api.read(self.namespace, self.name), self.identity, self.wall(),
                              self.name, self.namespace, watched=self.watched)
            if decision.action is Action.FOLLOW:
                self._answered()
                self._follow(decision.holder, decision.expires_in)
                return RETRY_EVERY_SECONDS
            assert decision.body is not None
            if decision.action is Action.CREATE:
                self.api.create(self.namespace, decision.body)
            else:
                self.api.replace(self.namespace, self.name, decision.body)
        except ApiError as error:
            if error.status == 409:  # another operator wrote it first: see who, soon
                self._answered()
                log.debug("lease %s: %s", self.where, error)
                return CONFLICT_RETRY_SECONDS
            self._failed(error)
            return RETRY_EVERY_SECONDS
        self._answered()
        self._lead(decision, started)
        return RENEW_EVERY_SECONDS

    def _answered(self) -> None:
        self.error, self.answered_at = None, self.clock()

    def _lead(self, decision: Decision, started: float) -> None:
        with self._lock:
            if self._stopped:
                return
            self._renewed_at = started  # the lease counts from before the request was sent
            if not self.leading:
                how = {Action.CREATE: "created it", Action.RENEW: "renewed its own",
                       Action.ACQUIRE: f"took it over from {decision.previous}" if decision.previous
                       else "took it over (released)"}[decision.action]
                log.info("leader: this operator (%s) holds lease %s (%s) and acts on its namespaces",
                         self.identity, self.where, how)
            self.leading, self.holder = True, self.identity

    def _follow(self, holder: str, expires_in: float | None) -> None:
        with self._lock:
            if self.leading:
                log.warning("lost lease %s to %s: this operator (%s) stops acting and follows",
                            self.where, holder, self.identity)
            elif holder != self.holder:
                log.info("follower: lease %s is held by %s (valid for %.0f s more); this operator (%s) "
                         "writes nothing and takes over when it expires", self.where, holder, expires_in or 0,
                         self.identity)
            self.leading, self.holder = False, holder

    def _failed(self, error: ApiError) -> None:
        message = f"{error.status} {error.reason}: {error.message}" if error.status else str(error)
        if message != self.error:
            log.info("lease %s: %s", self.where, message)
        self.error = message
        self.check_deadline()

    def check_deadline(self) -> None:
        """A leader that has not renewed for RENEW_DEADLINE_SECONDS stops acting."""
        with self._lock:
            if self.leading and self.clock() - self._renewed_at > RENEW_DEADLINE_SECONDS:
                log.warning("lost lease %s: not renewed for %.0f s (%s); this operator (%s) stops acting",
                            self.where, self.clock() - self._renewed_at, self.error or "no answer", self.identity)
                self.leading, self.holder = False, None

    def _until_deadline(self) -> float | None:
        if not self.leading:
            return None
        return max(0.05, self._renewed_at + RENEW_DEADLINE_SECONDS - self.clock())

    def announce(self) -> None:
        """Tell on_change and the metric when leading changed (on the event loop)."""
        leading = self.leading
        if leading != self._announced:
            self._announced = leading
            metrics.LEADER.set(1 if leading else 0)
            self.on_change(leading)

    async def _watch(self, future: "asyncio.Future[Any]") -> None:
        """Wait for `future`, stepping down meanwhile if the renew deadline passes."""
        try:
            while True:
                done, _ = await asyncio.wait({future}, timeout=self._until_deadline())
                self.check_deadline()
                self.announce()
                if done:
                    return
        finally:
            future.cancel()  # on cancellation; a step already in its thread finishes on its own

    async def run(self) -> None:
        """Compete for the lease until cancelled."""
        metrics.LEADER.set(0)
        while True:
            step = asyncio.ensure_future(asyncio.to_thread(self.step))
            await self._watch(step)
            delay = step.result()
            await self._watch(asyncio.ensure_future(asyncio.sleep(delay)))

    def release(self) -> None:
        """Stop acting and, when this operator holds the lease, give it up (blocking; best effort: on
        failure the lease simply expires)."""
        with self._lock:
            self._stopped = True
            self.leading = False
        metrics.LEADER.set(0)
        try:  # also when a write in flight made this operator the holder after all
            body = release_body(self.api.read(self.namespace, self.name), self.identity, self.wall())
            if body is not None:
                self.api.replace(self.namespace, self.name, body)
                log.info("released lease %s: another operator may take over at once", self.where)
        except ApiError as error:
            log.info("could not release lease %s (it expires in %d s): %s", self.where,
                     LEASE_DURATION_SECONDS, error)

    def readiness(self) -> str | None:
        """None while the API server answers about the lease (leader or follower alike), else why not."""
        if self.answered_at is None:
            return f"no answer about lease {self.where} yet" + (f": {self.error}" if self.error else "")
        age = self.clock() - self.answered_at
        if age > LEASE_DURATION_SECONDS:
            return f"no answer about lease {self.where} for {age:.0f} s: {self.error or 'waiting'}"
        return None

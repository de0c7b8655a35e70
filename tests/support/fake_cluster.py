"""The one fake of the gateway's `Cluster`: an in-memory API server with users, RBAC by namespace, and the
CRD's validation (the models, with the API server's message format).

`connect(token)` is what the gateway app is given: an unknown token gets 401 on every call, a user's call in
a namespace not in `allowed[user]`, or with a verb not in `verbs[user]`, gets 403, as Kubernetes RBAC would
answer; `admins` may do anything anywhere (list namespaces too), as cluster-admin.
"""

import copy
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cronflow import names
from cronflow.api.models import InvalidSpec, parse_spec
from cronflow.gateway.access import ListPage
from cronflow.reconcile.writer import ApiError

_uids = itertools.count(1)
EVERY_VERB = frozenset({"get", "list", "watch", "create", "update", "patch", "delete"})


@dataclass
class FakeApi:
    """Users by token, the namespaces each may use, and the objects."""

    users: dict[str, str] = field(default_factory=dict)
    allowed: dict[str, set[str]] = field(default_factory=dict)
    verbs: dict[str, frozenset[str]] = field(default_factory=dict)
    admins: set[str] = field(default_factory=set)
    namespaces: list[str] = field(default_factory=lambda: ["default"])
    patches: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    """Every spec patch made: namespace, name, the patch."""
    scheduledjobs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    secrets: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    secrets_forbidden: bool = False
    """Every Secret create answers 403 (a Role without secrets create)."""
    closed: int = 0

    def add_user(self, token: str, username: str, *namespaces: str, verbs: frozenset[str] = EVERY_VERB) -> None:
        self.users[token] = username
        self.allowed[username] = set(namespaces)
        self.verbs[username] = verbs

    def connect(self, token: str) -> "FakeCluster":
        return FakeCluster(self, token)

    def set_status(self, namespace: str, name: str, **status: Any) -> None:
        """What the operator would write."""
        self.scheduledjobs[(namespace, name)].setdefault("status", {}).update(status)


class FakeCluster:
    """The `Cluster` of one request."""

    def __init__(self, api: FakeApi, token: str) -> None:
        self.api = api
        self.token = token

    def _check(self, namespace: str | None, resource: str = names.PLURAL, verb: str = "get") -> str:
        user = self.api.users.get(self.token)
        if user is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        if user in self.api.admins:
            return user
        if namespace is not None and (namespace not in self.api.allowed[user] or verb not in self.api.verbs[user]):
            raise ApiError(403, "Forbidden", f'{resource}.{names.GROUP} is forbidden: User "{user}" cannot {verb} '
                           f'resource "{resource}" in API group "{names.GROUP}" in the namespace "{namespace}"')
        return user

    def username(self) -> str:
        return self._check(None)

    def list_scheduledjobs(self, namespace: str) -> list[dict[str, Any]]:
        self._check(namespace, verb="list")
        return [copy.deepcopy(sj) for (ns, _), sj in sorted(self.api.scheduledjobs.items()) if ns == namespace]

    def list_scheduledjobs_page(self, namespace: str, limit: int, continue_: str | None) -> ListPage:
        """Chunks in name order, as the API server's; the continue token is the last name given."""
        self._check(namespace, verb="list")
        after = sorted(name for ns, name in self.api.scheduledjobs if ns == namespace and name > (continue_ or ""))
        chunk = [copy.deepcopy(self.api.scheduledjobs[(namespace, name)]) for name in after[:limit]]
        rest = len(after) - len(chunk)
        return ListPage(chunk, after[limit - 1] if rest else None, rest or None)

    def can(self, verb: str, namespace: str, resource: str = names.PLURAL, group: str = names.GROUP) -> bool:
        user = self._check(None)
        if user in self.api.admins:
            return True
        return (resource, group) == (names.PLURAL, names.GROUP) and namespace in self.api.allowed[user] \
            and verb in self.api.verbs[user]

    def list_namespaces(self) -> list[str]:
        if self._check(None) not in self.api.admins:
            raise ApiError(403, "Forbidden", "namespaces is forbidden: cannot list resource \"namespaces\"")
        return list(self.api.namespaces)

    def read_scheduledjob(self, namespace: str, name: str) -> dict[str, Any] | None:
        self._check(namespace)
        found = self.api.scheduledjobs.get((namespace, name))
        return copy.deepcopy(found) if found else None

    def create_scheduledjob(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        meta = manifest["metadata"]
        self._check(meta["namespace"], verb="create")
        key = (meta["namespace"], meta["name"])
        if key in self.api.scheduledjobs:
            raise ApiError(409, "Conflict", f'{names.PLURAL}.{names.GROUP} "{meta["name"]}" already exists')
        try:
            parse_spec(manifest["spec"])
        except InvalidSpec as error:
            raise ApiError(422, "Unprocessable Entity",
                           f'{names.KIND}.{names.GROUP} "{meta["name"]}" is invalid: {error}') from None
        created = copy.deepcopy(dict(manifest))
        created["metadata"].update(uid=f"00000000-0000-4000-8000-{next(_uids):012d}",
                                   creationTimestamp="2026-11-22T12:00:00Z")
        self.api.scheduledjobs[key] = created
        return copy.deepcopy(created)

    def patch_spec(self, sj: Mapping[str, Any], spec: Mapping[str, Any]) -> None:
        meta = sj["metadata"]
        self._check(meta["namespace"], verb="patch")
        stored = self.api.scheduledjobs.get((meta["namespace"], meta["name"]))
        if stored is None or stored["metadata"]["uid"] != meta["uid"]:
            raise ApiError(409, "Conflict", "Precondition failed: UID in precondition does not match")
        stored["spec"].update(spec)
        self.api.patches.append((meta["namespace"], meta["name"], dict(spec)))

    def delete_scheduledjob(self, sj: Mapping[str, Any]) -> None:
        meta = sj["metadata"]
        self._check(meta["namespace"], verb="delete")
        key = (meta["namespace"], meta["name"])
        if key not in self.api.scheduledjobs or self.api.scheduledjobs[key]["metadata"]["uid"] != meta["uid"]:
            raise ApiError(409, "Conflict", "Precondition failed: UID in precondition does not match")
        del self.api.scheduledjobs[key]
        for secret_key, secret in list(self.api.secrets.items()):  # the garbage collector, at once
            if any(ref["uid"] == meta["uid"] for ref in secret["metadata"].get("ownerReferences", [])):
                del self.api.secrets[secret_key]

    def create_secret(self, manifest: Mapping[str, Any]) -> None:
        meta = manifest["metadata"]
        self._check(meta["namespace"], resource="secrets", verb="create")
        if self.api.secrets_forbidden:
            raise ApiError(403, "Forbidden", f'secrets is forbidden: cannot create in "{meta["namespace"]}"')
        self.api.secrets[(meta["namespace"], meta["name"])] = copy.deepcopy(dict(manifest))

    def close(self) -> None:
        self.api.closed += 1

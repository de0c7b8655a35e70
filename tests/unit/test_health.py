"""The operator's readiness: the lists behind its watches must answer, lately, and its controller must run."""

import urllib3
from kubernetes.client.exceptions import ApiException

from cronflow import health


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_watch_lists_cover_every_watched_kind_in_every_watched_namespace() -> None:
    lists = health.watch_lists(["team-a", "team-b"])
    assert ("/apis/cronflow.dev/v1alpha1/namespaces/team-a/scheduledjobs", "") in lists
    assert ("/apis/batch/v1/namespaces/team-b/jobs", "app.kubernetes.io/managed-by=cronflow") in lists
    assert len(lists) == 8
    cluster_wide = [path for path, _ in health.watch_lists([])]
    assert cluster_wide == [
        "/apis/cronflow.dev/v1alpha1/scheduledjobs", "/apis/batch/v1/cronjobs", "/apis/batch/v1/jobs",
        "/apis/apps/v1/deployments",
    ]


def test_ready_once_every_list_answered_and_the_controller_runs() -> None:
    asked: list[str] = []
    readiness = health.Readiness(health.watch_lists(["ns"]), lister=lambda path, _: asked.append(path), clock=Clock())
    assert readiness.answer() == "the controller has not started"
    readiness.controller_running = True
    assert readiness.answer() == "the API server has not been asked yet"
    readiness.refresh()
    assert readiness.answer() is None
    assert len(asked) == 4


def test_not_ready_while_a_list_fails_and_ready_again_when_it_answers() -> None:
    failure: list[Exception] = [urllib3.exceptions.MaxRetryError(None, "/", "connect timeout")]  # type: ignore[arg-type]

    def lister(path: str, _: str) -> None:
        if failure and path.endswith("/jobs"):
            raise failure[0]

    readiness = health.Readiness(health.watch_lists(["ns"]), lister=lister, clock=Clock(), controller_running=True)
    readiness.refresh()
    reason = readiness.answer()
    assert reason is not None and reason.startswith("GET /apis/batch/v1/namespaces/ns/jobs: MaxRetryError")
    failure[0] = ApiException(status=403, reason="Forbidden")
    readiness.refresh()
    assert readiness.answer() == "GET /apis/batch/v1/namespaces/ns/jobs: HTTP 403 Forbidden"
    failure.clear()
    readiness.refresh()
    assert readiness.answer() is None


def test_a_check_that_has_not_come_back_for_too_long_is_not_ready() -> None:
    clock = Clock()
    readiness = health.Readiness(health.watch_lists([]), lister=lambda *_: None, clock=clock, controller_running=True)
    readiness.refresh()
    clock.now += health.STALE_SECONDS + 1  # the next round still waits for the API server
    assert readiness.answer() == f"no answer from the API server for {health.STALE_SECONDS + 1:.0f} s"


def test_not_ready_while_the_leader_election_has_no_answer_about_its_lease() -> None:
    reason: list[str | None] = ["no answer about lease ns/cronflow-operator-x yet"]
    readiness = health.Readiness(health.watch_lists(["ns"]), lister=lambda *_: None, clock=Clock(),
                                 controller_running=True, election=lambda: reason[0])
    readiness.refresh()
    assert readiness.answer() == "leader election: no answer about lease ns/cronflow-operator-x yet"
    reason[0] = None  # leader or follower alike
    assert readiness.answer() is None

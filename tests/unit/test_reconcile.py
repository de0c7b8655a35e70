"""Reconcile as one table, in the style of the CronJob controller's TestControllerV2SyncCronJob.

Each row starts from a converged world (one pass already made and applied to the fake), changes it as
a user, a controller or a failure would, runs one pass, and names the writes and Events it expects.
Every row then runs a second pass and expects no write at all: reconcile converges.
"""

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from cronflow import names
from cronflow.api.models import parse_spec
from cronflow.automatic.plan import Claim
from cronflow.children.cronjob import RUN_AS_ID, Owner, build_trigger_job
from cronflow.reconcile.scheduledjob import REFUSED_RETRY, UNREACHABLE_PASSES, Memory, Outcome, reconcile
from cronflow.reconcile.writer import ApiError
from tests.support.fake_writer import FakeWriter, uid

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
IMAGE = "cronflow-job:dev"
SJ_UID = "11111111-2222-3333-4444-555555555555"
AUTOMATIC = {"enabled": True, "volume": {"persistentVolumeClaim": {"claimName": "inbox"}}, "pollSeconds": 5}


def scheduledjob(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "cronflow.dev/v1alpha1", "kind": "ScheduledJob",
        "metadata": {"name": "nightly", "namespace": "team-a", "uid": SJ_UID, "generation": 1, "resourceVersion": "1"},
        "spec": {"schedule": "30 2 * * *", "flow": {"endpoint": "https://flows.example.com/run"}, **spec},
        "status": {},
    }


def converged(**spec: Any) -> FakeWriter:
    """A world in which one pass has been made; the call log starts empty."""
    world = FakeWriter(sj=scheduledjob(**spec))
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    world.writes.clear()
    world.events.clear()
    world.status_patches.clear()
    return world


def result_pod(status: str = "OK", http: int = 200) -> dict[str, Any]:
    document = {"v": 1, "status": status, "finishedAt": "2026-11-22T02:31:05Z", "attempts": 1,
                "httpResult": {"status": http, "headers": [], "response": "{}", "truncated": False}, "message": ""}
    terminated = {"exitCode": 0 if status == "OK" else 1, "message": json.dumps(document)}
    return {"metadata": {"creationTimestamp": "2026-11-22T02:30:00Z"},
            "status": {"containerStatuses": [{"state": {"terminated": terminated}}]}}


def add_job(
    world: FakeWriter, name: str, *, start: str = "2026-11-22T02:30:01Z", finished: str | None = None,
    held: bool = True, recorded: bool = False, deleting: bool = False, trigger: str = "Schedule",
    owner_uid: str | None = None,
) -> dict[str, Any]:
    """A Job of the CronJob (or of `owner_uid`) as the cache would hold it."""
    assert world.cronjob is not None
    controller = owner_uid or world.cronjob["metadata"]["uid"]
    meta: dict[str, Any] = {
        "name": name, "namespace": "team-a", "uid": uid(), "resourceVersion": "5",
        "creationTimestamp": start, "labels": {names.SCHEDULEDJOB_LABEL: "nightly"},
        "annotations": {names.TRIGGER_ANNOTATION: trigger},
        "ownerReferences": [{"uid": controller, "controller": True, "kind": "CronJob", "name": "nightly"}],
        "finalizers": [names.RESULT_FINALIZER] if held else [],
    }
    if recorded:
        meta["annotations"][names.RECORDED_ANNOTATION] = "true"
    if deleting:
        meta["deletionTimestamp"] = "2026-11-22T02:30:30Z"
    status: dict[str, Any] = {"startTime": start}
    if finished:
        status["conditions"] = [{"type": finished, "status": "True"}]
        ok = finished == "Complete"
        world.pods[name] = result_pod("OK" if ok else "ERROR", 200 if ok else 500)
    world.jobs[name] = {"metadata": meta, "status": status}
    return world.jobs[name]


def ready(world: FakeWriter) -> dict[str, Any]:
    return next(c for c in world.sj["status"]["conditions"] if c["type"] == "Ready")


def reasons(world: FakeWriter) -> list[str]:
    return [reason for _, reason, _ in world.events]


@dataclass
class Case:
    name: str
    spec: dict[str, Any]
    change: Callable[[FakeWriter], None]
    writes: list[str]
    events: list[str] = field(default_factory=list)
    check: Callable[[FakeWriter, Outcome], None] | None = None
    converges: bool = True
    """False where the failure stays (a second pass tries the same write again)."""


def _delete_cronjob(w: FakeWriter) -> None:
    w.cronjob = None


def _unsuspend(w: FakeWriter) -> None:
    assert w.cronjob is not None
    w.cronjob["spec"]["suspend"] = False


def _edit_image(w: FakeWriter) -> None:
    assert w.cronjob is not None
    w.cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] = "evil:latest"


def _recreate_owner(w: FakeWriter) -> None:
    w.sj["metadata"]["uid"] = "99999999-0000-0000-0000-000000000000"  # kubectl replace --force


def _cronjob_going_away(w: FakeWriter) -> None:
    assert w.cronjob is not None
    w.cronjob["metadata"]["deletionTimestamp"] = "2026-11-22T11:59:59Z"


def _server_defaults(w: FakeWriter) -> None:
    """What the API server adds and how it writes quantities must not count as drift."""
    assert w.cronjob is not None
    pod = w.cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod.update(dnsPolicy="ClusterFirst", schedulerName="default-scheduler", terminationGracePeriodSeconds=30)
    pod["containers"][0].update(imagePullPolicy="IfNotPresent")
    pod["containers"][0]["resources"]["limits"]["cpu"] = "1"  # the spec asked for 1000m
    w.cronjob["metadata"]["labels"]["added-by-someone"] = "x"
    w.cronjob["status"] = {"lastScheduleTime": None}


def _refuse_apply(w: FakeWriter) -> None:
    w.fail["apply CronJob"] = ApiError(422, "Unprocessable Entity", 'CronJob.batch "nightly" is invalid: requests')
    w.sj["spec"]["jobTemplate"] = {"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}
    w.sj["spec"]["trigger"] = "now"


def _trigger(w: FakeWriter) -> None:
    w.sj["spec"]["trigger"] = "run-1"


def _trigger_job_exists(w: FakeWriter) -> None:
    _trigger(w)
    owner = Owner(name="nightly", namespace="team-a", uid=SJ_UID)
    w.create_job(build_trigger_job(owner, parse_spec(w.sj["spec"]), IMAGE, "run-1"))
    w.writes.clear()


def _refuse_trigger(w: FakeWriter) -> None:
    _trigger(w)
    w.fail["create Job"] = ApiError(403, "Forbidden", "exceeded quota: jobs")


def _running_job(w: FakeWriter) -> None:
    add_job(w, "nightly-29001", held=False)


def _finished_job(w: FakeWriter) -> None:
    add_job(w, "nightly-29001", finished="Complete")


def _recorded_but_not_released(w: FakeWriter) -> None:
    _finished_job(w)
    w.sj["status"]["results"] = [{"job": "nightly-29001", "trigger": "Schedule", "status": "OK"}]


def _deleted_while_running(w: FakeWriter) -> None:
    add_job(w, "nightly-29001", deleting=True)


def _foreign_job(w: FakeWriter) -> None:
    add_job(w, "nightly-manual-abc", trigger="Manual", owner_uid="00000000-dead-0000-0000-000000000000")


def _outage(w: FakeWriter) -> None:
    """Ten scheduled runs while the operator was down: no finalizer on any, all finished."""
    for minute in range(10):
        start = f"2026-11-22T02:{30 + minute}:01Z"
        add_job(w, f"nightly-290{minute:02d}", start=start, finished="Complete", held=False)


def _many_recorded(w: FakeWriter) -> None:
    for minute in range(5):
        add_job(w, f"nightly-290{minute:02d}", start=f"2026-11-22T02:{30 + minute}:01Z", finished="Complete",
                held=False, recorded=True)


def _invalid(w: FakeWriter) -> None:
    w.sj["spec"]["timeZone"] = "Mars/Olympus_Mons"


def _status_refused(w: FakeWriter) -> None:
    _finished_job(w)
    w.fail["patch status"] = ApiError(422, "Unprocessable Entity", "status.results[0].message: Too long")


def _deleting_owner(w: FakeWriter) -> None:
    add_job(w, "nightly-29001")
    w.sj["metadata"]["deletionTimestamp"] = "2026-11-22T12:00:00Z"


def _check_apply_failed(w: FakeWriter, _: Outcome) -> None:
    condition = ready(w)
    assert (condition["status"], condition["reason"]) == ("False", names.APPLY_FAILED)
    assert "requests" in condition["message"]
    assert condition["observedGeneration"] == 1
    assert w.sj["status"]["lastTrigger"] == "now"


def _check_outage(w: FakeWriter, _: Outcome) -> None:
    assert len(w.recorded) == 10
    results = w.sj["status"]["results"]
    assert [r["job"] for r in results] == [f"nightly-290{m:02d}" for m in range(9, -1, -1)]  # newest first, once each
    assert w.sj["status"]["succeeded"] == 10
    assert w.sj["status"]["lastRunTime"] == "2026-11-22T02:39:01Z"
    assert len(w.status_patches) == 1


def _check_deleted(w: FakeWriter, _: Outcome) -> None:
    (result,) = w.recorded
    assert (result["status"], result["message"]) == ("ERROR", "the Job was deleted before it finished")
    assert "nightly-29001" not in w.jobs  # finalizer off: the deletion went through


def _check_recorded(w: FakeWriter, _: Outcome) -> None:
    (result,) = w.recorded
    assert (result["status"], result["httpResult"]["status"]) == ("OK", 200)
    job = w.jobs["nightly-29001"]["metadata"]
    assert job["finalizers"] == [] and job["annotations"][names.RECORDED_ANNOTATION] == "true"
    assert w.sj["status"]["lastRunTime"] == "2026-11-22T02:30:01Z"


def _check_not_released(w: FakeWriter, outcome: Outcome) -> None:
    assert names.RESULT_FINALIZER in w.jobs["nightly-29001"]["metadata"]["finalizers"]


CASES = [
    Case("nothing changed", {}, lambda w: None, []),
    Case("CronJob deleted by hand", {}, _delete_cronjob, ["apply CronJob/nightly"]),
    Case("CronJob un-suspended by hand while disabled", {"enabled": False}, _unsuspend,
         ["apply CronJob/nightly"], [names.APPLIED]),
    Case("CronJob image edited by hand", {}, _edit_image, ["apply CronJob/nightly"], [names.APPLIED]),
    Case("ScheduledJob recreated with a new uid", {}, _recreate_owner, ["apply CronJob/nightly"], [names.APPLIED]),
    Case("CronJob being deleted is waited for", {}, _cronjob_going_away, []),
    Case("server defaults and quantities are no drift",
         {"jobTemplate": {"resources": {"limits": {"cpu": "1000m", "memory": "256Mi"}}}}, _server_defaults, []),
    Case("CronJob refused: ApplyFailed, one Event, the trigger still runs", {}, _refuse_apply,
         ["apply CronJob/nightly", f"create Job/{names.trigger_job_name('nightly', 'now')}", "patch status/nightly"],
         [names.TRIGGERED, names.APPLY_FAILED], _check_apply_failed, converges=False),
    Case("new trigger token", {"enabled": False}, _trigger,
         [f"create Job/{names.trigger_job_name('nightly', 'run-1')}", "patch status/nightly"], [names.TRIGGERED]),
    Case("trigger Job exists already (restart after create)", {}, _trigger_job_exists,
         ["patch status/nightly"]),
    Case("trigger Job refused: acknowledged with a Warning", {}, _refuse_trigger,
         [f"create Job/{names.trigger_job_name('nightly', 'run-1')}", "patch status/nightly"], [names.TRIGGER_FAILED]),
    Case("running Job gets the result finalizer", {}, _running_job,
         ["patch Job/nightly-29001", "patch status/nightly"]),
    Case("finished Job recorded, then released", {}, _finished_job,
         ["patch status/nightly", "patch Job/nightly-29001"], [names.RUN_SUCCEEDED], _check_recorded),
    Case("recorded Job whose release failed is only released", {}, _recorded_but_not_released,
         ["patch Job/nightly-29001"]),
    Case("running Job deleted: ERROR, finalizer removed", {}, _deleted_while_running,
         ["patch status/nightly", "patch Job/nightly-29001"], [names.RUN_FAILED], _check_deleted),
    Case("Job of an earlier owner released, not recorded", {}, _foreign_job, ["patch Job/nightly-manual-abc"]),
    Case("ten runs during an outage: each recorded once", {}, _outage,
         ["patch status/nightly", *[f"patch Job/nightly-290{m:02d}" for m in range(10)],
          *[f"delete Job/nightly-290{m:02d}" for m in range(7)]],
         [names.RUN_SUCCEEDED] * 10, _check_outage),
    Case("recorded scheduled Jobs beyond three are deleted", {}, _many_recorded,
         ["delete Job/nightly-29000", "delete Job/nightly-29001"]),
    Case("spec the schema cannot check", {}, _invalid, ["patch status/nightly"], [names.INVALID_SPEC]),
    Case("status refused: Warning, the Job stays held", {}, _status_refused,
         ["patch status/nightly"], [names.STATUS_WRITE_FAILED], _check_not_released, converges=False),
    Case("ScheduledJob being deleted: its Jobs are released", {}, _deleting_owner, ["patch Job/nightly-29001"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_sync_scheduledjob(case: Case) -> None:
    world = converged(**case.spec)
    case.change(world)
    outcome = reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)
    assert world.writes == case.writes
    assert reasons(world) == case.events
    if case.check is not None:
        case.check(world, outcome)
    if case.converges:
        world.writes.clear()
        reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)
        assert world.writes == [], "a second pass over the result must write nothing"


def test_a_watcher_whose_empty_env_value_the_api_server_dropped_is_no_drift() -> None:
    world = automatic_world()  # no pattern: CRONFLOW_WATCH_PATTERN=""
    assert world.watcher_deployment is not None
    container = world.watcher_deployment["spec"]["template"]["spec"]["containers"][0]
    pattern = next(e for e in container["env"] if e["name"] == "CRONFLOW_WATCH_PATTERN")
    assert pattern.pop("value") == ""  # as the API server stores it
    world.writes.clear()
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert not any("Deployment" in w for w in world.writes)


def test_first_pass_writes_the_cronjob_and_the_status_only() -> None:
    world = FakeWriter(sj=scheduledjob())
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert world.writes == ["apply CronJob/nightly", "patch status/nightly"]
    assert world.events == []
    condition = ready(world)
    assert (condition["status"], condition["reason"], condition["observedGeneration"]) == ("True", "Reconciled", 1)
    assert world.cronjob is not None
    assert world.cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == RUN_AS_ID


def test_transient_errors_propagate_for_the_queue_to_retry() -> None:
    not_yet_mapped = 'cannot set blockOwnerDeletion in this case because cannot find RESTMapping for APIVersion'
    for status, message in ((409, "x"), (429, "x"), (500, "x"), (503, "x"), (0, "x"), (403, not_yet_mapped)):
        world = converged()
        world.cronjob = None
        world.fail["apply CronJob"] = ApiError(status, "x", message)
        with pytest.raises(ApiError):
            reconcile(world.observed(), world, IMAGE, NOW, Memory())


def test_a_result_is_reported_once_even_when_its_release_fails_and_the_pass_runs_again() -> None:
    world = converged()
    _finished_job(world)
    world.fail["patch Job"] = ApiError(409, "Conflict", "the object has been modified")
    with pytest.raises(ApiError):
        reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)
    assert [r["job"] for r in world.recorded] == ["nightly-29001"]
    world.fail.clear()
    reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)
    assert [r["job"] for r in world.recorded] == ["nightly-29001"]
    assert world.jobs["nightly-29001"]["metadata"]["finalizers"] == []


def test_a_trigger_job_of_an_earlier_owner_of_the_name_delays_the_trigger_instead_of_eating_it() -> None:
    world = converged(trigger="now")  # the Job of "now" exists, created for this owner
    job_name = names.trigger_job_name("nightly", "now")
    world.jobs[job_name]["metadata"]["ownerReferences"][0]["uid"] = "the-replaced-owner"
    world.jobs[job_name]["metadata"]["deletionTimestamp"] = "2026-11-22T12:00:00Z"
    world.sj["status"].pop("lastTrigger")  # replace --force: a new object, no status
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert "lastTrigger" not in world.sj["status"]
    assert job_name not in world.jobs  # released (not recorded), so the garbage collector's delete went through
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert world.sj["status"]["lastTrigger"] == "now"
    assert world.jobs[job_name]["metadata"]["ownerReferences"][0]["uid"] == SJ_UID


def test_a_stale_cache_conflicts_instead_of_recording_twice() -> None:
    world = converged()
    _finished_job(world)
    stale = world.observed()
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    world.writes.clear()
    with pytest.raises(ApiError) as raised:  # the same Job again, from a cache that lags behind the write
        reconcile(stale, world, IMAGE, NOW, Memory())
    assert raised.value.status == 409
    assert len(world.sj["status"]["results"]) == 1


def test_a_refused_apply_is_not_repeated_until_the_spec_changes_or_time_passes() -> None:
    world = converged()
    _refuse_apply(world)
    memory = Memory()
    for _ in range(3):
        reconcile(world.observed(), world, IMAGE, NOW, memory)
    assert world.writes.count("apply CronJob/nightly") == 1
    assert reasons(world).count(names.APPLY_FAILED) == 1
    assert ready(world)["reason"] == names.APPLY_FAILED
    reconcile(world.observed(), world, IMAGE, NOW + REFUSED_RETRY, memory)
    assert world.writes.count("apply CronJob/nightly") == 2
    world.fail.clear()
    world.sj["spec"].pop("jobTemplate")
    reconcile(world.observed(), world, IMAGE, NOW + REFUSED_RETRY, memory)
    assert world.writes.count("apply CronJob/nightly") == 2  # the CronJob that exists is right again
    assert ready(world)["status"] == "True"


def test_a_pass_over_a_cache_that_does_not_show_its_own_write_yet_waits_instead_of_conflicting() -> None:
    world = converged()
    _finished_job(world)
    stale = world.observed()
    memory = Memory()
    reconcile(world.observed(), world, IMAGE, NOW, memory)
    world.writes.clear()
    outcome = reconcile(stale, world, IMAGE, NOW, memory)  # e.g. woken by the Job event of the release
    assert world.writes == []
    assert outcome.requeue_after is not None


def test_invalid_spec_posts_its_warning_once() -> None:
    world = converged()
    _invalid(world)
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert reasons(world) == [names.INVALID_SPEC]
    assert ready(world)["reason"] == names.INVALID_SPEC


def automatic_world() -> FakeWriter:
    world = converged(automatic=AUTOMATIC)
    assert world.watcher_deployment is not None
    deployment_uid = world.watcher_deployment["metadata"]["uid"]
    owner = [{"uid": deployment_uid, "controller": True}]
    world.replicasets = [{"metadata": {"uid": "rs-1", "ownerReferences": owner}}]
    world.watcher_pods = [{
        "metadata": {"name": "w", "creationTimestamp": "2026-11-22T11:00:00Z",
                     "ownerReferences": [{"uid": "rs-1", "controller": True}]},
        "status": {"podIP": "10.0.0.9", "conditions": [{"type": "Ready", "status": "True"}],
                   "containerStatuses": [{"ready": True, "state": {"running": {"startedAt": "2026-11-22T11:00:00Z"}}}]},
    }]
    return world


def test_an_unreachable_watcher_turns_ready_false_after_several_passes_and_back() -> None:
    world = automatic_world()
    memory = Memory()
    world.watcher_api.down = True
    for _ in range(UNREACHABLE_PASSES - 1):
        reconcile(world.observed(), world, IMAGE, NOW, memory)
        assert ready(world)["status"] == "True"
    reconcile(world.observed(), world, IMAGE, NOW, memory)
    reconcile(world.observed(), world, IMAGE, NOW, memory)
    assert (ready(world)["status"], ready(world)["reason"]) == ("False", names.WATCHER_UNREACHABLE)
    assert reasons(world) == [names.WATCHER_UNREACHABLE]

    world.watcher_api.down = False
    outcome = reconcile(world.observed(), world, IMAGE, NOW, memory)
    assert (ready(world)["status"], ready(world)["reason"]) == ("True", names.RECONCILED)
    assert outcome.requeue_after == 5


def test_a_claim_gets_its_one_job_and_a_second_pass_creates_none() -> None:
    world = automatic_world()
    world.watcher_api.claims = [Claim("a.pdf", "a.pdf@1@2")]
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    job_name = names.file_job_name("nightly", "a.pdf@1@2")
    assert f"create Job/{job_name}" in world.writes
    world.writes.clear()
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert not any(w.startswith("create") for w in world.writes)


def test_a_look_alike_pod_with_the_labels_gets_no_call() -> None:
    world = automatic_world()
    world.watcher_pods[0]["metadata"]["ownerReferences"] = [{"uid": "someone-elses-rs", "controller": True}]
    world.watcher_api.claims = [Claim("a.pdf", "a.pdf@1@2")]
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert not any(w.startswith("create Job") for w in world.writes)
    assert "automatic" not in world.sj["status"]


def test_the_watcher_is_put_back_with_its_token_when_deleted() -> None:
    world = automatic_world()
    assert world.watcher_deployment is not None
    token = copy.deepcopy(world.watcher_deployment)
    world.watcher_deployment["spec"]["replicas"] = 0  # edited by hand
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert world.watcher_deployment["spec"]["replicas"] == 1
    assert world.watcher_deployment["spec"]["template"] == token["spec"]["template"]  # same token kept


TOKEN_REF = {"endpoint": "https://flows.example.com/run", "authTokenSecretRef": {"name": "flow-token", "key": "t"}}


@pytest.mark.parametrize(("labels", "message"), [
    (None, "Secret flow-token does not exist"),
    ({}, 'Secret flow-token is not labelled cronflow.dev/usable: "true"'),
    ({names.USABLE_LABEL: "false"}, 'Secret flow-token is not labelled cronflow.dev/usable: "true"'),
])
def test_a_secret_that_is_not_usable_stops_every_run_that_would_read_it(
    labels: dict[str, str] | None, message: str
) -> None:
    world = FakeWriter(sj=scheduledjob(flow=TOKEN_REF, trigger="now"))
    if labels is not None:
        world.secrets["flow-token"] = labels
    outcome = reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)
    condition = ready(world)
    assert (condition["status"], condition["reason"]) == ("False", names.SECRET_NOT_USABLE)
    assert condition["message"].startswith(message)
    assert world.cronjob is not None and world.cronjob["spec"]["suspend"] is True
    assert not any(w.startswith("create Job") for w in world.writes)
    assert reasons(world) == [names.TRIGGER_FAILED, names.SECRET_NOT_USABLE]
    assert outcome.requeue_after is not None and outcome.requeue_after <= 30

    world.secrets["flow-token"] = {names.USABLE_LABEL: "true"}
    world.sj["spec"]["trigger"] = "again"
    reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)
    assert ready(world)["status"] == "True"
    assert world.cronjob["spec"]["suspend"] is False
    assert any(w.startswith("create Job") for w in world.writes)


@pytest.mark.parametrize("spec", [
    {"notifications": {"webhook": {"url": "https://hooks.example.com/x", "headersSecretRef": {"name": "hook"}}}},
    {"flow": {"endpoint": "https://flows.example.com/run", "headersSecretRef": {"name": "hook"}}},
], ids=["webhook", "flow"])
def test_a_headers_secret_needs_the_label_too(spec: dict[str, Any]) -> None:
    world = FakeWriter(sj=scheduledjob(**spec), secrets={"hook": {"team": "a"}})
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert (ready(world)["reason"], "Secret hook " in ready(world)["message"]) == (names.SECRET_NOT_USABLE, True)
    assert world.cronjob is not None and world.cronjob["spec"]["suspend"] is True


def test_a_bad_jmespath_expression_is_an_invalid_spec_naming_the_field_with_a_warning() -> None:
    world = converged()
    world.sj["spec"]["flow"]["success"] = {"when": "status =="}
    reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)
    condition = ready(world)
    message = "spec.flow.success.when: not a JMESPath expression: Invalid jmespath expression: Incomplete expression"
    assert (condition["status"], condition["reason"], condition["message"]) == ("False", names.INVALID_SPEC, message)
    assert world.events == [("Warning", names.INVALID_SPEC, message)]
    assert world.writes == ["patch status/nightly"]  # the CronJob is left as it was


def test_a_schedule_that_never_fires_is_reported_not_shown_healthy() -> None:
    world = FakeWriter(sj=scheduledjob(schedule="0 0 31 2 *"))
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    condition = ready(world)
    assert (condition["status"], condition["reason"]) == ("False", names.SCHEDULE_NEVER_FIRES)
    assert "0 0 31 2 *" in condition["message"]
    assert reasons(world) == [names.SCHEDULE_NEVER_FIRES]
    world.sj["spec"]["enabled"] = False  # trigger-only: fine
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert ready(world)["status"] == "True"


HOOK = {"on": ["Success", "Failure"], "webhook": {"url": "https://hooks.example.com/x"}}


def test_a_job_is_held_until_its_notification_is_out_and_released_after() -> None:
    world = converged(notifications=HOOK)
    world.deliver_later = True
    _finished_job(world)
    memory = Memory()
    reconcile(world.observed(), world, IMAGE, NOW, memory, world.record)
    assert world.writes == ["patch status/nightly"]  # recorded, not released: the webhook is not out yet
    assert world.sent == ["nightly-29001"]
    reconcile(world.observed(), world, IMAGE, NOW, memory, world.record)
    assert world.sent == ["nightly-29001"], "not sent twice while on its way"
    world.undelivered.pop()()  # delivered (or finally failed)
    reconcile(world.observed(), world, IMAGE, NOW, memory, world.record)
    assert world.jobs["nightly-29001"]["metadata"]["finalizers"] == []
    assert [r["job"] for r in world.recorded] == ["nightly-29001"]


def test_after_a_restart_an_unsent_notification_is_sent_again_and_the_run_counted_once() -> None:
    world = converged(notifications=HOOK)
    world.deliver_later = True
    _finished_job(world)
    reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)
    world.undelivered.clear()  # the operator stops before delivering
    world.deliver_later = False
    reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)  # a new process: empty memory
    assert world.sent == ["nightly-29001", "nightly-29001"]
    assert [r["job"] for r in world.recorded] == ["nightly-29001"]
    assert len(world.sj["status"]["results"]) == 1
    assert world.jobs["nightly-29001"]["metadata"]["finalizers"] == []


def test_after_a_restart_results_whose_jobs_were_released_are_not_sent_again() -> None:
    world = converged(notifications=HOOK)
    _finished_job(world)
    reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)
    assert world.sent == ["nightly-29001"]
    reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)  # a new process
    reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)
    assert world.sent == ["nightly-29001"]

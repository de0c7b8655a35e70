"""Automatic mode on the node: a watcher pod claims files from a real volume (a hostPath PersistentVolume
bound to a claim), the operator runs one Job per file, the flow service sees each file exactly once."""

import base64
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_runs import apply_sj, results, trigger, wait_results
from tests.support.cluster import Cluster, OperatorProcess, wait_until
from tests.support.flow_server import Server
from tests.support.volumes import Volumes

pytestmark = pytest.mark.e2e

SJ = "flow"
POLL_SECONDS = 1


@pytest.fixture
def inbox(volumes: Volumes) -> Path:
    """The input directory of claim `inbox`, as the host sees it."""
    return volumes.create("inbox")


def apply_automatic(cluster: Cluster, namespace: str, server: Server, claim: str = "inbox", **automatic: Any) -> None:
    apply_sj(cluster, namespace, f"{server.url}/ok", historyLimit=50, automatic={
        "enabled": True, "volume": {"persistentVolumeClaim": {"claimName": claim}}, "path": "input",
        "pattern": "*.pdf", "pollSeconds": POLL_SECONDS, "maxParallel": 3, **automatic})


def runs_by_file(server: Server) -> Counter[str]:
    """How many flow calls the server got for each input file."""
    return Counter(json.loads(request.body).get("input_file", "") for request in server.received)


def processing_path(name: str) -> str:
    return f".cronflow/processing/{name}"


def drop(directory: Path, *names: str) -> None:
    for name in names:
        (directory / name).write_text(f"content of {name}\n")


def spool(directory: Path, sub: str) -> list[str]:
    return sorted(os.listdir(directory / ".cronflow" / sub))


def automatic_status(cluster: Cluster, namespace: str) -> dict[str, Any]:
    found: dict[str, Any] = (cluster.get_json("-n", namespace, "sj", SJ).get("status") or {}).get("automatic") or {}
    return found


def watcher_pods(cluster: Cluster, namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = cluster.get_json("-n", namespace, "pods", "-l", "cronflow.dev/role=watcher")["items"]
    return items


def test_each_dropped_file_runs_exactly_once_with_its_result_in_status(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, inbox: Path
) -> None:
    started = time.monotonic()
    files = [f"invoice-{i}.pdf" for i in range(5)]
    drop(inbox, *files, "notes.txt")
    apply_automatic(node, namespace, flow_server)
    recorded = wait_results(node, namespace, 5, SJ, timeout=180)

    assert sorted(r["inputFile"] for r in recorded) == files
    assert {(r["trigger"], r["status"]) for r in recorded} == {("File", "OK")}
    assert runs_by_file(flow_server) == Counter({processing_path(name): 1 for name in files})
    wait_until("all files in done/", lambda: spool(inbox, "done") == files, timeout=30)
    assert sorted(os.listdir(inbox)) == [".cronflow", "notes.txt"]
    status = wait_until("status.automatic to show 5 done", lambda: (
        s if (s := automatic_status(node, namespace)).get("done") == 5 else None), timeout=30)
    assert (status["pending"], status["processing"], status["failed"]) == (0, 0, 0)
    assert status["lastFile"] in files

    sj = node.get_json("-n", namespace, "sj", SJ)
    assert (sj["status"]["mode"], sj["status"]["succeeded"]) == ("Automatic", 5)
    assert node.get_json("-n", namespace, "cronjob", SJ)["spec"]["suspend"] is True
    deployment = node.get_json("-n", namespace, "deployment", f"{SJ}-watcher")
    assert deployment["metadata"]["ownerReferences"][0]["uid"] == sj["metadata"]["uid"]
    secret = node.get_json("-n", namespace, "secret", f"{SJ}-watcher-token")
    assert secret["metadata"]["ownerReferences"][0]["uid"] == sj["metadata"]["uid"]
    token = base64.b64decode(secret["data"]["token"]).decode()
    assert len(token) >= 32
    texts = (json.dumps(sj), json.dumps(deployment), json.dumps(node.get_json("-n", namespace, "events")),
             operator.log())
    for text in texts:
        assert token not in text
    mark = node.audit_offset()
    time.sleep(3 * POLL_SECONDS)
    assert len(flow_server.received) == 5
    assert node.operator_writes(mark, namespace) == [], "passes over an unchanged directory must not write"
    print(f"5 files -> 5 recorded runs in {time.monotonic() - started:.1f}s")

    trigger(node, namespace, "t1", SJ)
    manual = wait_results(node, namespace, 6, SJ, timeout=120)[0]
    assert (manual["trigger"], manual["status"], "inputFile" in manual) == ("Manual", "OK", False)
    assert len(flow_server.received) == 6 and "input_file" not in json.loads(flow_server.received[-1].body)


def test_a_file_is_picked_up_once_and_only_when_complete(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, inbox: Path
) -> None:
    apply_automatic(node, namespace, flow_server)
    wait_until("the watcher pod to be ready", lambda: any(
        c["type"] == "Ready" and c["status"] == "True"
        for p in watcher_pods(node, namespace) for c in p["status"].get("conditions") or []), timeout=90)

    slow = inbox / "slow.pdf"
    with slow.open("w") as writer:  # keeps growing for more than two polls
        for chunk in range(12):
            writer.write(f"chunk {chunk}\n")
            writer.flush()
            time.sleep(0.25)
            assert slow.exists(), "claimed while it was still being written"
    part = inbox / "big.pdf.part"
    part.write_text("half")
    time.sleep(3 * POLL_SECONDS)  # a pause longer than two polls: the .part name keeps it waiting
    assert part.exists()
    assert processing_path("big.pdf") not in runs_by_file(flow_server)
    with part.open("a") as writer:
        writer.write(" and the rest")
    part.rename(inbox / "big.pdf")

    wait_results(node, namespace, 2, SJ, timeout=120)
    wait_until("both files in done/", lambda: spool(inbox, "done") == ["big.pdf", "slow.pdf"], timeout=30)
    assert runs_by_file(flow_server) == Counter({processing_path("slow.pdf"): 1, processing_path("big.pdf"): 1})
    assert (inbox / ".cronflow/done/slow.pdf").read_text().count("chunk") == 12
    assert (inbox / ".cronflow/done/big.pdf").read_text() == "half and the rest"


def test_killing_the_watcher_and_the_operator_mid_way_still_runs_each_file_once(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, inbox: Path
) -> None:
    started = time.monotonic()
    files = [f"batch-{i}.pdf" for i in range(8)]
    drop(inbox, *files)
    apply_sj(node, namespace, f"{flow_server.url}/slow", historyLimit=50, automatic={
        "enabled": True, "volume": {"persistentVolumeClaim": {"claimName": "inbox"}}, "path": "input",
        "pollSeconds": POLL_SECONDS, "maxParallel": 2})
    wait_until("two runs in flight", lambda: len(flow_server.received) >= 2, timeout=120)

    operator.stop(kill=True)
    node.kubectl("-n", namespace, "delete", "pod", "-l", "cronflow.dev/role=watcher", "--grace-period=0", "--force")
    flow_server.release.set()  # the runs in flight answer now
    time.sleep(2)
    operator.start()
    recorded = wait_results(node, namespace, 8, SJ, timeout=240)

    assert sorted(r["inputFile"] for r in recorded) == files
    assert runs_by_file(flow_server) == Counter({processing_path(name): 1 for name in files})
    wait_until("all files in done/", lambda: spool(inbox, "done") == files, timeout=30)
    file_jobs = [j for j in node.get_json("-n", namespace, "jobs")["items"]
                 if j["metadata"]["annotations"].get("cronflow.dev/trigger") == "File"]
    assert len(file_jobs) == 8
    print(f"8 files with a watcher and an operator kill -> 8 runs in {time.monotonic() - started:.1f}s")


def test_paused_automatic_mode_keeps_new_files_until_it_is_enabled_again(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, inbox: Path
) -> None:
    drop(inbox, "first.pdf")
    apply_automatic(node, namespace, flow_server)
    wait_results(node, namespace, 1, SJ, timeout=120)

    node.kubectl("-n", namespace, "patch", "sj", SJ, "--type", "merge", "-p",
                 json.dumps({"spec": {"automatic": {"enabled": False}}}))
    wait_until("the watcher to be scaled to 0 and gone", lambda: node.get_json(
        "-n", namespace, "deployment", f"{SJ}-watcher")["spec"]["replicas"] == 0
        and not watcher_pods(node, namespace), timeout=60)
    drop(inbox, "second.pdf", "third.pdf")
    time.sleep(4 * POLL_SECONDS)
    assert len(flow_server.received) == 1
    assert sorted(os.listdir(inbox)) == [".cronflow", "second.pdf", "third.pdf"]

    node.kubectl("-n", namespace, "patch", "sj", SJ, "--type", "merge", "-p",
                 json.dumps({"spec": {"automatic": {"enabled": True}}}))
    wait_results(node, namespace, 3, SJ, timeout=120)
    expected = {processing_path(name): 1 for name in ("first.pdf", "second.pdf", "third.pdf")}
    assert runs_by_file(flow_server) == Counter(expected)


def test_a_missing_claim_makes_the_scheduledjob_not_ready_until_it_exists(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, volumes: Volumes
) -> None:
    apply_automatic(node, namespace, flow_server, claim="late-inbox")

    def ready() -> dict[str, Any] | None:
        status = node.get_json("-n", namespace, "sj", SJ).get("status") or {}
        return next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), None)

    down = wait_until("Ready=False WatcherUnavailable", lambda: (
        c if (c := ready()) and c["reason"] == "WatcherUnavailable" else None), timeout=60)
    assert down["status"] == "False"
    assert 'persistentvolumeclaim "late-inbox" not found' in down["message"]
    time.sleep(5 * POLL_SECONDS)
    assert ready() == down, "an unchanged problem must not be written again"
    events = [e for e in node.get_json("-n", namespace, "events")["items"] if e["reason"] == "WatcherUnavailable"]
    assert len(events) == 1 and events[0]["involvedObject"]["name"] == SJ
    assert operator.proc is not None and operator.proc.poll() is None

    drop(volumes.create("late-inbox"), "a.pdf")
    wait_until("Ready=True", lambda: (c := ready()) and c["status"] == "True", timeout=120)
    [result] = wait_results(node, namespace, 1, SJ, timeout=120)
    assert result["inputFile"] == "a.pdf"
    assert results(node, namespace, SJ) == [result]


def set_flow_endpoint(cluster: Cluster, namespace: str, endpoint: str) -> None:
    cluster.kubectl("-n", namespace, "patch", "sj", SJ, "--type", "merge", "-p",
                    json.dumps({"spec": {"flow": {"endpoint": endpoint}}}))


def test_a_failed_file_moved_back_runs_again(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, inbox: Path
) -> None:
    apply_sj(node, namespace, f"{flow_server.url}/fail", historyLimit=50, automatic={
        "enabled": True, "volume": {"persistentVolumeClaim": {"claimName": "inbox"}}, "path": "input",
        "pattern": "*.pdf", "pollSeconds": POLL_SECONDS, "maxParallel": 3})
    drop(inbox, "a.pdf")
    [failed] = wait_results(node, namespace, 1, SJ, timeout=120)
    assert (failed["inputFile"], failed["status"]) == ("a.pdf", "ERROR")
    wait_until("a.pdf in failed/", lambda: spool(inbox, "failed") == ["a.pdf"], timeout=30)

    set_flow_endpoint(node, namespace, f"{flow_server.url}/ok")  # the flow is fixed ...
    os.rename(inbox / ".cronflow/failed/a.pdf", inbox / "a.pdf")  # ... and the file moved back (same mtime)
    recorded = wait_results(node, namespace, 2, SJ, timeout=120)

    assert [(r["inputFile"], r["status"]) for r in recorded] == [("a.pdf", "OK"), ("a.pdf", "ERROR")]
    assert recorded[0]["job"] != recorded[1]["job"]
    assert [request.path for request in flow_server.received] == ["/fail", "/ok"]
    assert runs_by_file(flow_server) == Counter({processing_path("a.pdf"): 2})
    wait_until("a.pdf in done/", lambda: spool(inbox, "done") == ["a.pdf"], timeout=30)
    assert spool(inbox, "failed") == []
    assert spool(inbox, "claims") == []


def test_a_file_name_that_is_not_utf8_goes_to_failed_and_the_watcher_keeps_running(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, inbox: Path
) -> None:
    latin1 = b"rapport-\xe9t\xe9.pdf"  # as an SMB or FTP client with a Latin-1 code page names it
    with open(os.path.join(os.fsencode(inbox), latin1), "wb") as file:
        file.write(b"%PDF-1.4\n")
    drop(inbox, "first.pdf")
    apply_automatic(node, namespace, flow_server)

    [first] = wait_results(node, namespace, 1, SJ, timeout=120)
    assert (first["inputFile"], first["status"]) == ("first.pdf", "OK")
    wait_until("the Latin-1 name in failed/", lambda: os.listdir(
        os.fsencode(inbox / ".cronflow" / "failed")) == [latin1], timeout=60)
    reasons = (inbox / ".cronflow" / "failed.log").read_text(encoding="ascii")
    assert repr(latin1) in reasons and "not valid UTF-8" in reasons
    wait_until("status.automatic to count it failed", lambda: automatic_status(node, namespace).get("failed") == 1,
               timeout=60)

    drop(inbox, "second.pdf")
    recorded = wait_results(node, namespace, 2, SJ, timeout=120)
    assert sorted(r["inputFile"] for r in recorded) == ["first.pdf", "second.pdf"]
    assert runs_by_file(flow_server) == Counter({processing_path("first.pdf"): 1, processing_path("second.pdf"): 1})
    [pod] = watcher_pods(node, namespace)
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 0
    watcher_log = node.kubectl("-n", namespace, "logs", pod["metadata"]["name"]).stdout
    [rejected] = [line for line in watcher_log.splitlines() if " rejected " in line]
    assert rejected.startswith(f"cronflow-watch rejected file={latin1!r} reason=")


def ready_condition(cluster: Cluster, namespace: str) -> dict[str, Any]:
    status = cluster.get_json("-n", namespace, "sj", SJ).get("status") or {}
    return next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), {})


def test_a_watcher_that_stops_answering_turns_ready_false_once_and_back(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, inbox: Path
) -> None:
    apply_automatic(node, namespace, flow_server)
    drop(inbox, "first.pdf")
    wait_results(node, namespace, 1, name=SJ)
    processing = inbox / ".cronflow" / "processing"
    processing.chmod(0o000)  # the watcher (uid 65532) can no longer list its claims: /state fails
    try:
        down = wait_until(
            "Ready=False WatcherUnreachable",
            lambda: (c := ready_condition(node, namespace)).get("reason") == "WatcherUnreachable" and c,
            timeout=60, every=1,
        )
        assert down["status"] == "False"
        assert [p["status"]["phase"] for p in watcher_pods(node, namespace)] == ["Running"]  # its probe still passes
        time.sleep(5)
        events = [e for e in node.get_json("-n", namespace, "events")["items"] if e["reason"] == "WatcherUnreachable"]
        assert len(events) == 1 and events[0]["type"] == "Warning"
    finally:
        processing.chmod(0o777)
    wait_until("Ready=True again", lambda: ready_condition(node, namespace).get("status") == "True",
               timeout=60, every=1)

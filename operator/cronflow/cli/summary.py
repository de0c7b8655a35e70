"""Pure: what `kubectl cronflow status` says about one ScheduledJob, and when no operator has looked at it."""

from collections.abc import Mapping
from typing import Any

from cronflow import names
from cronflow.cli.tables import cell, format_table

UNRECONCILED = (
    "no operator has reconciled {name} yet (it has no status): is an operator running that watches "
    "namespace {namespace}? The chart's watchNamespaces (empty: every namespace) and hack/demo's operator "
    "(every namespace) decide; its log says which namespaces it watches."
)
STALE = (
    "the operator has not reconciled {name} since its last change (generation {generation}, status of "
    "generation {observed}): it may be down or busy; see its log and `kubectl describe sj {name}`."
)


def reconcile_note(obj: Mapping[str, Any]) -> str | None:
    """Why the status says nothing (yet) about the current spec, or None when it is up to date."""
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    name, namespace = meta.get("name", ""), meta.get("namespace", "")
    observed = [c.get("observedGeneration") for c in status.get("conditions") or [] if c.get("type") == names.READY]
    if not observed or observed[0] is None:
        return UNRECONCILED.format(name=name, namespace=namespace)
    generation = meta.get("generation")
    if generation is not None and observed[0] < generation:
        return STALE.format(name=name, generation=generation, observed=observed[0])
    return None


def status_table(obj: Mapping[str, Any]) -> str:
    """Field and value lines: state, mode, conditions with reason and message, the last and next runs."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    rows = [
        ("SCHEDULE", f"{spec.get('schedule', '')} ({spec.get('timeZone') or 'Etc/UTC'})"),
        ("STATE", status.get("state") or "<none>"),
        ("MODE", status.get("mode") or "<none>"),
    ]
    for condition in status.get("conditions") or []:
        text = f"{condition.get('status', '')} {condition.get('reason', '')}: {condition.get('message', '')}"
        rows.append((str(condition.get("type", "")).upper(), text))
    last = (status.get("results") or [{}])[0]
    if last:
        rows.append(("LAST RESULT", f"{last.get('status', '')} {last.get('job', '')} at {last.get('finishedAt', '')}"))
    rows.append(("CONSECUTIVE FAILURES", str(status.get("consecutiveFailures", 0))))
    rows.append(("NEXT RUNS", ", ".join(status.get("nextScheduleTimes") or []) or "<none>"))
    return format_table(("FIELD", "VALUE"), [(key, cell(value, 160)) for key, value in rows])

"""GateSet: kopf's toggle-set meaning, with waiters woken only when the set's state flips."""

import asyncio
from collections.abc import Callable, Iterable

import pytest
from kopf._cogs.aiokits import aiotoggles

from cronflow import startup_gate
from cronflow.startup_gate import GateSet

ToggleSetClass = Callable[[Callable[[Iterable[bool]], bool]], aiotoggles.ToggleSet]


async def _start_up(make_set: ToggleSetClass, objects: int) -> tuple[int, int]:
    """kopf's start-up over `objects` indexed objects: each, as it arrives, adds an off toggle and starts
    a worker that drops it once indexed and waits for the set to be on.
    Returns (evaluations of the set, workers released)."""
    gate = make_set(all)
    evaluations = 0
    is_on = gate.is_on

    def counting_is_on() -> bool:
        nonlocal evaluations
        evaluations += 1
        return is_on()

    gate.is_on = counting_is_on  # type: ignore[method-assign]
    blocker = await gate.make_toggle(name="orchestration blocker")
    released = 0

    async def worker(toggle: aiotoggles.Toggle) -> None:
        nonlocal released
        await gate.drop_toggle(toggle)
        await gate.wait_for(True)
        released += 1

    workers = []
    for n in range(objects):  # objects arrive one by one from the watch stream, as in kopf's watcher
        toggle = await gate.make_toggle(name=f"object {n}")
        workers.append(asyncio.create_task(worker(toggle)))
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    assert released == 0, "no worker goes on while any toggle is off"
    await gate.drop_toggle(blocker)
    await asyncio.wait_for(asyncio.gather(*workers), timeout=30)
    return evaluations, released


@pytest.mark.parametrize("make_set", [aiotoggles.ToggleSet, GateSet], ids=["kopf", "gate"])
def test_every_worker_is_released_once_the_last_toggle_is_dropped(make_set: ToggleSetClass) -> None:
    _, released = asyncio.run(_start_up(make_set, 50))
    assert released == 50


def test_evaluations_grow_linearly_with_the_objects_not_with_their_square() -> None:
    objects = 500
    evaluations, _ = asyncio.run(_start_up(GateSet, objects))
    kopf_evaluations, _ = asyncio.run(_start_up(aiotoggles.ToggleSet, objects))
    assert evaluations <= 5 * objects, evaluations
    assert kopf_evaluations > 100 * objects, kopf_evaluations  # every change wakes every waiter


def test_waits_for_off_and_on_follow_each_flip() -> None:
    asyncio.run(_flips())


async def _flips() -> None:
    gate = GateSet(any)
    assert gate.is_off()
    toggle = await gate.make_toggle(name="peering")
    on = asyncio.create_task(gate.wait_for(True))
    await asyncio.sleep(0)
    assert not on.done()
    await toggle.turn_to(True)
    await asyncio.wait_for(on, timeout=1)
    await gate.wait_for(True)  # already on: returns at once
    off = asyncio.create_task(gate.wait_for(False))
    await asyncio.sleep(0)
    assert not off.done()
    await gate.drop_toggle(toggle)
    await asyncio.wait_for(off, timeout=1)


def test_a_waiter_that_misses_a_short_flip_keeps_waiting_for_its_state() -> None:
    asyncio.run(_short_flip())


async def _short_flip() -> None:
    gate = GateSet(all)
    toggle = await gate.make_toggle(name="object")
    waiter = asyncio.create_task(gate.wait_for(True))
    await asyncio.sleep(0)
    await toggle.turn_to(True)
    await toggle.turn_to(False)  # flipped back before the waiter ran
    await asyncio.sleep(0.01)
    assert not waiter.done()
    await toggle.turn_to(True)
    await asyncio.wait_for(waiter, timeout=1)


def test_install_makes_kopf_build_gate_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiotoggles, "ToggleSet", aiotoggles.ToggleSet)  # undone after the test
    startup_gate.install()
    from kopf._core.reactor import orchestration

    assert vars(orchestration)["aiotoggles"].ToggleSet is GateSet  # orchestrator() builds operator_indexed with it

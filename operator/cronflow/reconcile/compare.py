"""Pure: does an object as it exists still have every field the operator wants in it?

Like Kubernetes' `equality.Semantic.DeepDerivative`: fields the API server defaults or others add are
ignored, every field of the desired manifest must be there with the same value. Lists of named items
(containers, env, volumes, ports) match by name, as server-side apply merges them; other lists match
item by item. Resource quantities compare by value ("1000m" is what the API server stores as "1"), and
an empty string, list or map matches a field that is absent (the API server omits them).
"""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

_SUFFIXES = {
    **{suffix: Decimal(2) ** (10 * power) for power, suffix in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"), 1)},
    **{suffix: Decimal(10) ** (-3 * power) for power, suffix in enumerate(("m", "u", "n"), 1)},
    **{suffix: Decimal(10) ** (3 * power) for power, suffix in enumerate(("k", "M", "G", "T", "P", "E"), 1)},
}


def drifted(desired: Mapping[str, Any], existing: Mapping[str, Any] | None) -> bool:
    """True when `existing` lacks or differs in a field of `desired` (metadata labels/owners and spec)."""
    if existing is None:
        return True
    want = {"metadata": _owned_metadata(desired), "spec": desired.get("spec")}
    have = {"metadata": _owned_metadata(existing), "spec": existing.get("spec")}
    return not _contains(want, have, ())


def _owned_metadata(manifest: Mapping[str, Any]) -> dict[str, Any]:
    meta = manifest.get("metadata") or {}
    return {key: meta.get(key) for key in ("labels", "annotations", "ownerReferences") if key in meta}


def _contains(want: Any, have: Any, path: tuple[str, ...]) -> bool:
    if have is None and want in ("", [], {}):
        return True  # the API server omits empty values (an env var with value "" comes back without it)
    if isinstance(want, Mapping):
        if not isinstance(have, Mapping):
            return False
        return all(_contains(value, have.get(key), (*path, str(key))) for key, value in want.items())
    if isinstance(want, list):
        if not isinstance(have, list):
            return False
        if want and all(isinstance(item, Mapping) and "name" in item for item in want):
            by_name = {item.get("name"): item for item in have if isinstance(item, Mapping)}
            return all(_contains(item, by_name.get(item["name"]), path) for item in want)
        return len(want) == len(have) and all(_contains(w, h, path) for w, h in zip(want, have, strict=True))
    if "resources" in path and isinstance(want, str | int) and isinstance(have, str | int):
        return _quantity(want) == _quantity(have)
    return bool(want == have)


def _quantity(value: str | int) -> Decimal | str:
    """A Kubernetes quantity as a number (the string itself when it is not one)."""
    text = str(value)
    for suffix, factor in _SUFFIXES.items():
        if text.endswith(suffix):
            number, multiplier = text[: -len(suffix)], factor
            break
    else:
        number, multiplier = text, Decimal(1)
    try:
        return Decimal(number) * multiplier
    except InvalidOperation:
        return text

"""The small readers that building a brief shares: a cell as an int, a float or a text (None when
missing), items unique in order, items grouped by key, a cohort inside another, a report named by its
reference number, and a figure as the dataset holds it."""

from __future__ import annotations

from .values import cell, value_or_none


def _int(v) -> int | None:
    v = value_or_none(v)
    return None if v is None else int(v)


def _float(v) -> float | None:
    v = value_or_none(v)
    return None if v is None else float(v)


def _unique(items) -> list:
    return list(dict.fromkeys(x for x in items if x))


def _str(v) -> str | None:
    v = value_or_none(v)
    return v if isinstance(v, str) and v else None


def where_text_of(ref, study: str) -> str:
    """A report named by the review's reference number where it has one: 'review ref 13 (storm-ref13)'."""
    return f"review ref {ref} ({study})" if ref is not None else study


def _by_key(items: list, key) -> list[tuple]:
    """The items grouped by key, groups in order of first appearance: [(key, items), ...]."""
    groups: dict = {}
    for x in items:
        groups.setdefault(key(x), []).append(x)
    return list(groups.items())


def _encloses(parents: dict, study: str, outer: str, inner: str) -> bool:
    """Whether cohort `outer` of the study encloses cohort `inner` (is its parent, or a parent's parent ...)."""
    seen = set()
    parent = parents.get((study, inner))
    while isinstance(parent, str) and parent not in seen:
        if parent == outer:
            return True
        seen.add(parent)
        parent = parents.get((study, parent))
    return False


def figure(value) -> str:
    """A reported figure as the dataset holds it: 9.0 -> '9', 13.93 -> '13.93'."""
    return cell(value)

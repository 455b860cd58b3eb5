"""The public condition walker `interlock.agreement.conditions`: parts, walk, references."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from interlock.agreement.conditions import parts, reference, references, target_kind, walk, walk_paths
from interlock.agreement.model import After, AllOf, At, Condition, Opened, Verified

CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)

NESTED = CONDITION.validate_python({
    "any": [
        {"after": {"verified": "oa"}, "plus": "1d"},
        {"all": [{"opened": "s1"}, {"at": "2026-01-01T00:00:00Z"}, {"verified": "oa"}]},
        {"delivered": "ob", "at_least": 3},
        "adopted",
        {"stage_complete": "s2"},
        {"breached": "oc"},
    ]
})


def test_references_in_written_order_each_once() -> None:
    assert references(NESTED) == [
        ("verified", "oa"), ("opened", "s1"), ("delivered", "ob"), ("stage_complete", "s2"), ("breached", "oc"),
    ]
    assert references("adopted") == []
    kinds = [target_kind(k) for k, _ in references(NESTED)]
    assert kinds == ["obligation", "stage", "obligation", "stage", "obligation"]


def test_walk_visits_every_sub_condition_with_its_path() -> None:
    walked = list(walk_paths(NESTED, ("stages", 0, "opens")))
    assert len(walked) == 11  # any, after, verified, all, opened, at, verified, delivered, adopted, complete, breached
    assert walked[0] == (("stages", 0, "opens"), NESTED)
    assert walked[2] == (("stages", 0, "opens", "any", 0, "after"), Verified(verified="oa"))
    assert walked[5][0] == ("stages", 0, "opens", "any", 1, "all", 1)
    assert isinstance(walked[5][1], At)
    assert [c for _, c in walked] == list(walk(NESTED))
    assert parts(Opened(opened="s1")) == [] and parts("adopted") == []
    assert reference(NESTED) is None and reference(Opened(opened="s1")) == ("opened", "s1")


def test_deep_nesting_does_not_exhaust_the_stack() -> None:
    cond: Any = Verified(verified="oa")
    for _ in range(5000):
        cond = AllOf.model_construct(all_=[After.model_construct(after=cond, plus=None)])
    assert references(cond) == [("verified", "oa")]
    assert sum(1 for _ in walk(cond)) == 10001


leaf = st.sampled_from(["s1", "s2", "oa", "ob"]).flatmap(
    lambda ident: st.sampled_from([{"opened": ident}, {"verified": ident}, {"breached": ident}, "adopted"])
)
tree = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(lambda c: {"after": c, "plus": "1h"}, inner),
        st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"all": cs}),
        st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"any": cs}),
    ),
    max_leaves=12,
)


def _leaves(data: Any) -> list[Any]:
    """The leaves of the raw data, written order (a separate, recursive reading of the same tree)."""
    if isinstance(data, dict) and ("all" in data or "any" in data):
        return [leaf for part in data.get("all", data.get("any")) for leaf in _leaves(part)]
    if isinstance(data, dict) and "after" in data:
        return _leaves(data["after"])
    return [data]


@given(tree)
def test_references_are_the_named_leaves_of_the_written_tree(data: Any) -> None:
    expected = [(k, v) for leaf in _leaves(data) if isinstance(leaf, dict) for k, v in leaf.items()]
    assert references(CONDITION.validate_python(data)) == list(dict.fromkeys(expected))

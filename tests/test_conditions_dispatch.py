"""The one dispatch over condition forms, `interlock.agreement.conditions.fold`.

Every form of `model.Condition` must reach its own `ConditionFold` method: a form added to the
model without a handler fails `test_every_form_of_the_model_has_an_example_and_a_handler`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

import pytest
from pydantic import TypeAdapter

from interlock.agreement import model
from interlock.agreement.conditions import ConditionFold, fold
from interlock.agreement.model import Condition
from interlock.engine.explain import describe
from interlock.engine.moments import Moment, moment

CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)

# One example of each form, with the method `fold` must call and the arguments it must pass.
EXAMPLES: dict[Any, tuple[Any, str, tuple[Any, ...]]] = {
    Literal["adopted"]: ("adopted", "adopted", ()),
    model.Opened: (model.Opened(opened="s1"), "opened", ("s1",)),
    model.Verified: (model.Verified(verified="oa"), "verified", ("oa",)),
    model.Delivered: (model.Delivered(delivered="ob", at_least=3), "delivered", ("ob", 3)),
    model.StageComplete: (model.StageComplete(stage_complete="s2"), "stage_complete", ("s2",)),
    model.Breached: (model.Breached(breached="oc"), "breached", ("oc",)),
    model.At: (model.At(at="2026-01-01T00:00:00Z"), "at", ("2026-01-01T00:00:00Z",)),
    model.After: (model.After(after="adopted", plus=timedelta(hours=2)), "after", (("adopted",), timedelta(hours=2))),
    model.AllOf: (
        model.AllOf(all=["adopted", model.Opened(opened="s1")]), "all_of", ([("adopted",), ("opened", "s1")],)
    ),
    model.AnyOf: (
        model.AnyOf(any=[model.Opened(opened="s1"), "adopted"]), "any_of", ([("opened", "s1"), ("adopted",)],)
    ),
}


def model_forms() -> set[Any]:
    """The member types of the `Condition` union, read from the model itself."""
    union = get_args(Condition)[0]
    return {get_args(member)[0] for member in get_args(union)}


class Record(ConditionFold[Any]):
    """Each form as `(method, *arguments)`, parts as their own records; calls logged in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def _note(self, *call: Any) -> tuple[Any, ...]:
        self.calls.append(call[0])
        return call

    def adopted(self) -> Any:
        return self._note("adopted")

    def opened(self, stage_id: str) -> Any:
        return self._note("opened", stage_id)

    def verified(self, obligation_id: str) -> Any:
        return self._note("verified", obligation_id)

    def delivered(self, obligation_id: str, at_least: float | int) -> Any:
        return self._note("delivered", obligation_id, at_least)

    def stage_complete(self, stage_id: str) -> Any:
        return self._note("stage_complete", stage_id)

    def breached(self, obligation_id: str) -> Any:
        return self._note("breached", obligation_id)

    def at(self, timestamp: str) -> Any:
        return self._note("at", timestamp)

    def after(self, base: Any, plus: timedelta) -> Any:
        return self._note("after", base, plus)

    def all_of(self, parts: list[Any]) -> Any:
        return self._note("all_of", parts)

    def any_of(self, parts: list[Any]) -> Any:
        return self._note("any_of", parts)


def test_every_form_of_the_model_has_an_example_and_a_handler() -> None:
    assert model_forms() == set(EXAMPLES), "a condition form without an example here (and a ConditionFold method)"
    methods = {method for _, method, _ in EXAMPLES.values()}
    assert set(ConditionFold.__abstractmethods__) == methods
    for condition, method, arguments in EXAMPLES.values():
        recorder = Record()
        assert fold(condition, recorder) == (method, *arguments)
        assert recorder.calls[-1] == method


def test_a_fold_missing_a_form_cannot_be_made() -> None:
    all_but_at = {name: value for name, value in vars(Record).items() if name != "at"}
    incomplete = type("Incomplete", (ConditionFold,), all_but_at)
    with pytest.raises(TypeError, match=r"abstract method '?at\b"):
        incomplete()


def test_parts_are_folded_first_left_to_right_each_once() -> None:
    nested = CONDITION.validate_python({
        "any": [
            {"after": {"verified": "oa"}, "plus": "1d"},
            {"all": [{"opened": "s1"}, {"at": "2026-01-01T00:00:00Z"}]},
            {"delivered": "ob", "at_least": 2.5},
            "adopted",
        ]
    })
    recorder = Record()
    folded = fold(nested, recorder)
    assert recorder.calls == ["verified", "after", "opened", "at", "all_of", "delivered", "adopted", "any_of"]
    assert folded == ("any_of", [
        ("after", ("verified", "oa"), timedelta(days=1)),
        ("all_of", [("opened", "s1"), ("at", "2026-01-01T00:00:00Z")]),
        ("delivered", "ob", 2.5),
        ("adopted",),
    ])


def test_deep_nesting_does_not_exhaust_the_stack() -> None:
    cond: Any = model.Verified(verified="oa")
    for _ in range(5000):
        cond = model.AllOf.model_construct(all_=[model.After.model_construct(after=cond, plus=timedelta(hours=1))])
    assert describe(cond).count("all of: ") == 5000
    assert describe(cond).endswith("1h after oa was verified")


def test_a_value_that_is_not_a_condition_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not a condition"):
        fold("closed", Record())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a condition"):
        fold(model.AllOf.model_construct(all_=[42]), Record())


class Events:
    """An engine context where s1 opened at 10:00 (entry 1) and oa was verified at 12:00 (entries 2, 3)."""

    base = datetime(2026, 1, 1, tzinfo=UTC)

    def adopted(self) -> Moment | None:
        return Moment(self.base, (0,))

    def opened(self, stage_id: str) -> Moment | None:
        return Moment(self.base.replace(hour=10), (1,)) if stage_id == "s1" else None

    def stage_complete(self, stage_id: str) -> Moment | None:
        return None

    def verified(self, obligation_id: str) -> Moment | None:
        return Moment(self.base.replace(hour=12), (2, 3)) if obligation_id == "oa" else None

    def delivered(self, obligation_id: str, at_least: float) -> Moment | None:
        return None

    def breached(self, obligation_id: str) -> Moment | None:
        return None

    def time(self, text: str) -> datetime:
        return datetime.fromisoformat(text)


def test_engine_moments_through_the_fold() -> None:
    ctx = Events()
    both = CONDITION.validate_python({"all": [{"opened": "s1"}, {"after": {"verified": "oa"}, "plus": "2h"}]})
    assert moment(both, ctx) == Moment(datetime(2026, 1, 1, 14, tzinfo=UTC), (1, 2, 3))
    first = CONDITION.validate_python({"any": [{"breached": "oa"}, {"at": "2026-01-01T11:00:00+00:00"}, "adopted"]})
    assert moment(first, ctx) == Moment(datetime(2026, 1, 1, tzinfo=UTC), (0,))
    waiting = CONDITION.validate_python({"all": [{"opened": "s1"}, {"stage_complete": "s1"}]})
    assert moment(waiting, ctx) is None


def test_explain_describes_through_the_fold() -> None:
    cond = CONDITION.validate_python({
        "any": [
            {"after": {"opened": "s2"}, "plus": "72h"},
            {"all": [{"breached": "oa"}, {"delivered": "ob", "at_least": 4}]},
        ]
    })
    assert describe(cond) == "the first of: 72h after stage s2 opened; all of: oa was breached; 4 of ob were verified"

"""Every error interlock raises has a stable, unique code and a one-line explanation."""

from __future__ import annotations

import inspect
import re

import interlock.errors as errors_module
from interlock.errors import InterlockError

ERRORS = [c for c in vars(errors_module).values() if inspect.isclass(c) and issubclass(c, InterlockError)]


def test_codes_are_unique_kebab_case() -> None:
    codes = [c.code for c in ERRORS]
    assert len(ERRORS) > 30
    assert sorted(set(codes)) == sorted(codes), [c for c in codes if codes.count(c) > 1]
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code) for code in codes), codes


def test_every_error_explains_itself_in_one_line() -> None:
    for cls in ERRORS:
        text = cls.explanation
        assert (text and "\n" not in text and text != InterlockError.explanation) or cls is InterlockError, cls
        assert 400 <= cls.http_status < 600, cls


def test_an_error_without_message_carries_its_explanation() -> None:
    for cls in ERRORS:
        try:
            err = cls()
        except TypeError:  # needs arguments of its own: then a message is always given
            continue
        assert err.to_dict() == {"code": cls.code, "message": cls.explanation}

"""The text rule in the domain (behind the API's own check): a decider's text helpers
refuse control characters other than tab and newline, and lone surrogates."""

from __future__ import annotations

import pytest

from domain.commands import require_text, require_texts
from domain.errors import InvalidInput
from domain.text import check_texts, forbidden_char


@pytest.mark.parametrize("char", ["\x00", "\x08", "\x0b", "\x0c", "\r", "\x1b", "\x1f", "\x7f", "\x80", "\x9f", "\ud800", "\udfff"])
def test_each_refused_character_is_refused_naming_the_field(char):
    with pytest.raises(InvalidInput) as err:
        require_text(f"ab{char}c", "name")
    assert err.value.details == {"field": "name"}
    assert f"U+{ord(char):04X} at index 2" in err.value.message


@pytest.mark.parametrize("text", ["tab\there", "two\nlines", "caf\u00e9 \u00a0 \u2028 \U0001f600", "\ufffe"])
def test_tab_newline_and_other_characters_are_text(text):
    assert forbidden_char(text) is None
    assert require_text(text, "name") == text.strip()


def test_lists_and_nested_data_name_the_item():
    with pytest.raises(InvalidInput, match=r"steps\[1\] contains a control character"):
        require_texts(["ok", "bad\x00"], "steps")
    with pytest.raises(InvalidInput) as err:
        check_texts({"a": [{"b": "x"}, {"b": "\x07"}]}, "input")
    assert err.value.details == {"field": "input.a[1].b"}
    with pytest.raises(InvalidInput) as err:
        check_texts({"k\x00": 1}, "input")
    assert err.value.details == {"field": "a key of input"}  # the refused key is not echoed


def test_a_token_actor_follows_the_rule():
    """The actor a token names is recorded on every event it sends: checked when it is issued."""
    from service.tokens import validate_actor

    with pytest.raises(ValueError, match=r"actor contains a control character \(U\+0000"):
        validate_actor("sam\x00")
    assert validate_actor(" sam ") == "sam"

"""JSON from outside (API bodies, uploaded GeoJSON and STIX), refused early when it is hostile.

Python's json module accepts things our code and databases do not: NaN and Infinity, integers
of thousands of digits (ValueError past 4,300, OverflowError when turned into a float), nesting
deep enough to exhaust the recursion limit (RecursionError), lone UTF-16 surrogates ("\\ud800",
which neither SQLite nor PostgreSQL can encode) and NUL characters. Each of those used to end in
a 500. `loads` refuses them with a message that says what and where, before any view, service
or library (stix2 recurses too) sees the data.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Deeper than any GeoJSON (a MultiPolygon is 5 levels) or STIX bundle we accept; far below the
# recursion limit of the libraries that walk the parsed value.
MAX_DEPTH = 64
# Longer than any real coordinate, depth or count written in decimal.
MAX_NUMBER_CHARS = 40


class HostileJSONError(ValidationError):
    """JSON that parses in Python but that the platform refuses; the message names why."""


def _number(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise HostileJSONError(
            _("A number of %(n)d characters is too long (at most %(max)d).")
            % {"n": len(text), "max": MAX_NUMBER_CHARS}
        )


def _int(text: str) -> int:
    _number(text)
    return int(text)


def _float(text: str) -> float:
    _number(text)
    value = float(text)
    if not math.isfinite(value):
        raise HostileJSONError(_("The number %(v)s is out of range.") % {"v": text[:20]})
    return value


def _constant(name: str) -> float:
    raise HostileJSONError(_("%(v)s is not a number JSON allows.") % {"v": name})


def _bad_text(s: str) -> str | None:
    if "\x00" in s:
        return _("Text may not contain NUL (U+0000) characters.")
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return _("Text contains a lone UTF-16 surrogate (an invalid character).")
    return None


def check_value(value: Any, what: str = "JSON") -> None:
    """Walk a parsed value without recursion: depth, and every key and string."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            raise HostileJSONError(
                _("%(what)s is nested more than %(max)d levels deep.")
                % {"what": what, "max": MAX_DEPTH}
            )
        if isinstance(item, str):
            problem = _bad_text(item)
            if problem:
                raise HostileJSONError(f"{what}{' at ' + path if path else ''}: {problem}")
        elif isinstance(item, dict):
            for k, v in item.items():
                problem = _bad_text(k)
                if problem:
                    raise HostileJSONError(f"{what}: {problem}")
                stack.append((v, depth + 1, f"{path}.{k}" if path else k))
        elif isinstance(item, list):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(item))


def loads(data: str | bytes, what: str = "JSON") -> Any:
    """Parse and check JSON from outside; HostileJSONError (a ValidationError) names the problem."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HostileJSONError(
                _("%(what)s is not UTF-8 text (byte %(at)d).") % {"what": what, "at": exc.start}
            ) from None
    try:
        value = json.loads(data, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise HostileJSONError(
            _("%(what)s is not valid JSON: %(error)s.") % {"what": what, "error": exc}
        ) from None
    except RecursionError:
        raise HostileJSONError(
            _("%(what)s is nested more than %(max)d levels deep.")
            % {"what": what, "max": MAX_DEPTH}
        ) from None
    check_value(value, what)
    return value

"""EventBridge schedule expressions, parsed as EventBridge (Scheduler and rules) reads them.

``schedule_problem(expression)`` returns None for a valid expression, else a sentence that
says what is wrong, so the configuration error names the field *and* the fix:

* ``rate(N unit)``: N a positive integer; unit ``minute``/``hour``/``day`` when N is 1,
  ``minutes``/``hours``/``days`` otherwise (EventBridge refuses ``rate(1 days)``);
* ``cron(minutes hours day-of-month month day-of-week year)``: six fields, each a list
  (``,``) of ``*``, a value, a range ``a-b`` or a step ``x/n``; month and day-of-week also
  take names (``JAN``, ``MON``); day-of-month takes ``L``, ``nW`` and ``LW``; day-of-week
  takes ``L``, ``nL`` and ``n#k``. Exactly one of day-of-month and day-of-week is ``?``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RATE = re.compile(r"^rate\((?P<value>\S+) (?P<unit>\S+)\)$")
CRON = re.compile(r"^cron\((?P<fields>.*)\)$")
UNITS = ("minute", "hour", "day")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class CronField:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()


FIELDS = (
    CronField("minutes", 0, 59),
    CronField("hours", 0, 23),
    CronField("day-of-month", 1, 31),
    CronField("month", 1, 12, MONTHS),
    CronField("day-of-week", 1, 7, DAYS),
    CronField("year", 1970, 2199),
)
EXAMPLES = "e.g. 'cron(0 3 ? * MON *)' or 'rate(7 days)'"


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes '²' and '٣', which int() refuses or
    EventBridge does not read."""
    return text.isascii() and text.isdigit()


def _value(field: CronField, text: str) -> int | None:
    upper = text.upper()
    if upper in field.names:
        return field.names.index(upper) + 1
    if not _digits(text):
        return None
    number = int(text)
    return number if field.low <= number <= field.high else None


def _range(field: CronField, text: str) -> bool:
    if "-" in text:
        low, _, high = text.partition("-")
        return _value(field, low) is not None and _value(field, high) is not None
    return _value(field, text) is not None


def _item_ok(field: CronField, item: str) -> bool:
    if item == "*":
        return True
    if field.name == "day-of-month" and (
        item in ("L", "LW") or (item.endswith("W") and _value(field, item[:-1]) is not None)
    ):
        return True
    if field.name == "day-of-week":
        if item == "L" or (item.endswith("L") and _value(field, item[:-1]) is not None):
            return True
        if "#" in item:
            day, _, nth = item.partition("#")
            return _value(field, day) is not None and nth in {"1", "2", "3", "4", "5"}
    if "/" in item:
        start, _, step = item.partition("/")
        return (start == "*" or _range(field, start)) and _digits(step) and int(step) > 0
    return _range(field, item)


def _cron_problem(fields_text: str) -> str | None:
    fields = fields_text.split()
    if len(fields) != len(FIELDS):
        return (
            f"a cron expression has 6 fields (minutes hours day-of-month month day-of-week "
            f"year), this one has {len(fields)}: {EXAMPLES}"
        )
    for field, text in zip(FIELDS, fields, strict=True):
        if text == "?":
            if field.name not in ("day-of-month", "day-of-week"):
                return f"'?' is allowed only in day-of-month or day-of-week, not in {field.name}"
            continue
        for item in text.split(","):
            if not _item_ok(field, item):
                names = f" or {field.names[0]}-{field.names[-1]}" if field.names else ""
                return (
                    f"{field.name} field {text!r} is not valid: use *, a value "
                    f"{field.low}-{field.high}{names}, a range a-b, a list a,b or a step x/n"
                )
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return (
            "exactly one of day-of-month and day-of-week must be '?' (EventBridge cannot "
            "combine them): e.g. 'cron(0 3 ? * MON *)' or 'cron(0 3 1 * ? *)'"
        )
    return None


def _rate_problem(value: str, unit: str) -> str | None:
    if not _digits(value) or int(value) < 1:
        return f"the rate must be a positive whole number, not {value!r}: {EXAMPLES}"
    singular = int(value) == 1
    expected = {u: u if singular else f"{u}s" for u in UNITS}
    stem = unit.removesuffix("s")
    if stem not in expected:
        return f"the rate's unit must be minute(s), hour(s) or day(s), not {unit!r}"
    if unit != expected[stem]:
        return f"write 'rate({value} {expected[stem]})': EventBridge wants the unit in the " + (
            "singular for 1" if singular else "plural above 1"
        )
    return None


def schedule_problem(expression: str) -> str | None:
    """None if ``expression`` is a valid EventBridge schedule, else what is wrong."""
    rate = RATE.match(expression)
    if rate:
        return _rate_problem(rate["value"], rate["unit"])
    cron = CRON.match(expression)
    if cron:
        return _cron_problem(cron["fields"])
    return f"is neither 'cron(...)' nor 'rate(N unit)': {EXAMPLES}"

"""The README's data-key table states each key's rule as seedcore/defaults.py has it:
the range of every numeric key, the values of every closed string key, the safe
set of every string that reaches a file or a shell."""

import json

import pytest

from seedcore.defaults import CHOICES, PATTERNS, RANGES
from tests.docs.test_readme_keys import documented


def rule_text(key: str) -> str:
    if key in RANGES:
        low, high, _ = RANGES[key]
        return f"range: {low}-{high}" if high is not None else f"range: {low} or more"
    if key in CHOICES:
        return "one of " + ", ".join(f"`{json.dumps(value)}`" for value in CHOICES[key])
    return f"safe set: {PATTERNS[key][1]}"


@pytest.mark.parametrize("key", sorted({*RANGES, *CHOICES, *PATTERNS}))
def test_each_rule_is_in_the_readme(key):
    meaning = documented()[key][1]
    assert meaning.endswith(f"({rule_text(key)})"), f"{key}: {meaning}"

"""docs/data-keys.md is what seedcore/defaults.py says: every key, its default, its rule and
its meaning (the comment above it), written by `make docs`."""

import json
import re

import pytest

from seedcore import keys_doc
from seedcore.defaults import ALL_DEFAULTS, CHOICES, PATTERNS, RANGES

ROW = re.compile(r"^\| `(?P<key>[a-z_]+)` \| (?P<default>.+?) \| (?P<rule>.*?) \| (?P<meaning>.*) \|$")


def rows() -> dict[str, dict]:
    return {m["key"]: m.groupdict() for line in keys_doc.TARGET.read_text().splitlines()
            if (m := ROW.match(line))}


def test_the_page_is_what_the_generator_writes():
    assert keys_doc.TARGET.read_text() == keys_doc.render(), "docs/data-keys.md is stale: run `make docs`"


def test_every_key_in_the_code_is_on_the_page_and_no_other():
    assert sorted(rows()) == sorted(ALL_DEFAULTS)


def test_each_default_is_the_codes():
    for key, row in rows().items():
        expected = "*(must be set)*" if ALL_DEFAULTS[key] is None else f"`{json.dumps(ALL_DEFAULTS[key])}`"
        assert row["default"] == expected, key


@pytest.mark.parametrize("key", sorted({*RANGES, *CHOICES, *PATTERNS}))
def test_each_rule_is_on_the_page(key):
    rule = rows()[key]["rule"].replace("\\", "")
    if key in RANGES:
        low, high, _ = RANGES[key]
        assert rule == f"{low}-{high}"
    elif key in CHOICES:
        assert all(f"`{json.dumps(value)}`" in rule for value in CHOICES[key])
    else:
        assert rule == PATTERNS[key][1]


def test_every_key_has_a_meaning():
    assert [key for key, row in rows().items() if not row["meaning"].strip()] == []


def test_the_keys_stay_under_their_prefix_headings():
    headings = [line[3:] for line in keys_doc.TARGET.read_text().splitlines() if line.startswith("## ")]
    assert headings == ["docker_", "ray_", "serve_", "gpu_", "rollout_", "verify_", "monitoring_", "tls_",
                        "firewall_", "web_", "connection_"]


def test_a_key_without_a_comment_is_refused():
    source = 'X_DEFAULTS = {\n    # Documented.\n    "x_one": 1,\n    "x_two": 2,\n}\n'
    with pytest.raises(ValueError, match="key x_two has no comment"):
        keys_doc.sections(source)


def test_the_comment_right_above_a_key_is_its_meaning_and_the_banner_the_intro():
    source = ("# ----\n# x_: what x does\n# ----\nX_DEFAULTS = {\n    # A shared note.\n\n"
              "    # The first key,\n    # on two lines.\n    \"x_one\": {\n        \"a\": 1,\n    },\n"
              "    # The second.\n    \"x_two\": 2,\n}\n")
    (section,) = keys_doc.sections(source)
    assert (section.prefix, section.intro) == ("x_", "What x does")
    assert [(k.name, k.meaning) for k in section.keys] == [("x_one", "The first key, on two lines."),
                                                           ("x_two", "The second.")]


def test_the_check_mode_fails_on_a_stale_page(monkeypatch, tmp_path, capsys):
    stale = tmp_path / "data-keys.md"
    stale.write_text("# Data keys\n")
    monkeypatch.setattr(keys_doc, "TARGET", stale)
    assert keys_doc.main(["--check"]) == 1
    assert "make docs" in capsys.readouterr().err
    assert keys_doc.main([]) == 0 and keys_doc.main(["--check"]) == 0

"""The README's data-key table says what the code does: every key, its default."""

import json
import re
from pathlib import Path

from seedcore.defaults import ALL_DEFAULTS

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(?P<key>[a-z_]+)` \| (?P<default>.+?) \| (?P<meaning>.*) \|$")


def documented() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in README.read_text().splitlines():
        match = ROW.match(line)
        if match and match["key"].startswith(("docker_", "ray_", "serve_", "verify_", "gpu_", "rollout_",
                                                           "monitoring_", "tls_", "firewall_", "web_",
                                                           "connection_")):
            rows[match["key"]] = (match["default"], match["meaning"].strip())
    return rows


def format_default(value) -> str:
    return "*(must be set)*" if value is None else f"`{json.dumps(value)}`"


def test_every_key_in_code_is_documented_and_no_other():
    assert sorted(documented()) == sorted(ALL_DEFAULTS)


def test_documented_defaults_match_the_code():
    rows = documented()
    wrong = {
        key: (rows[key][0], format_default(default))
        for key, default in ALL_DEFAULTS.items()
        if key in rows and rows[key][0] != format_default(default)
    }
    assert not wrong, "README default -> code default: " + repr(wrong)


def test_every_key_has_a_meaning():
    assert [key for key, (_, meaning) in documented().items() if not meaning] == []

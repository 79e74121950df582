"""What --diff shows of a file that may hold secrets: the host's masked read (its own
command, run here by sh on a file) against the render, every secret masked."""

import subprocess

import yaml

from seedcore.masking import Masks, masked_diff, masked_read
from seedcore.render import ComposeDumper, DoubleQuoted

TOKEN = "ray_secret_env.API_TOKEN"


def compose(**environment) -> str:
    environment = {key: DoubleQuoted(value) for key, value in environment.items()}
    document = {"services": {"ray-worker": {"image": "ray", "environment": environment,
                                            "labels": {"io.seedcore.role": "worker"}}}}
    return yaml.dump(document, Dumper=ComposeDumper, sort_keys=False, default_flow_style=False)


def on_host(tmp_path, text: str | None, keys=("API_TOKEN",)) -> str:
    path = tmp_path / "file"
    if text is not None:
        path.write_text(text)
    done = subprocess.run(["sh", "-c", masked_read(str(path), keys)], capture_output=True, text=True,
                          check=True, timeout=30)
    return done.stdout


def masks(*values: str) -> Masks:
    return Masks({"API_TOKEN": TOKEN}, {value: TOKEN for value in values})


def test_the_host_never_prints_a_secret_of_its_file(tmp_path):
    old = compose(API_TOKEN='old "quoted" $secret', DB_PASSWORD="hunter2-hunter2", FOO="1")
    printed = on_host(tmp_path, old)
    for value in ("old", "quoted", "hunter2"):
        assert value not in printed
    assert 'FOO: "1"' in printed


def test_a_changed_secret_is_marked_changed_without_its_values(tmp_path):
    diff = "\n".join(masked_diff(on_host(tmp_path, compose(API_TOKEN="old-value-1")),
                                 compose(API_TOKEN="new-value-2"), masks("new-value-2")))
    assert f"<secret: {TOKEN}, old value>" in diff and f"<secret: {TOKEN}, new value>" in diff
    assert "old-value-1" not in diff and "new-value-2" not in diff


def test_an_unchanged_secret_is_no_change(tmp_path):
    text = compose(API_TOKEN="same-value-3", FOO="1")
    diff = masked_diff(on_host(tmp_path, text), text.replace('FOO: "1"', 'FOO: "2"'), masks("same-value-3"))
    assert [line for line in diff if line.startswith(("-", "+"))] == ['-       FOO: "1"', '+       FOO: "2"']
    assert masked_diff(on_host(tmp_path, text), text, masks("same-value-3")) == []


def test_a_long_secret_folded_by_yaml_is_masked_whole(tmp_path):
    long = "part " * 40
    old = compose(API_TOKEN=long)
    assert old.count("\n") > 8  # YAML folded the value onto lines of its own
    printed = on_host(tmp_path, old)
    assert "part" not in printed
    assert masked_diff(printed, old, masks(long)) == []


def test_a_secret_value_elsewhere_is_masked_by_its_value(tmp_path):
    text = compose(OTHER="prefix-new-value-2$x")
    diff = "\n".join(masked_diff(on_host(tmp_path, None), text, masks("new-value-2$x")))
    assert "new-value-2" not in diff
    assert f"prefix-<secret: {TOKEN}>" in diff


def test_a_missing_file_is_all_added(tmp_path):
    diff = masked_diff(on_host(tmp_path, None), "A=1\n", masks())
    assert diff == ["@@ -0,0 +1 @@", "+ A=1"]

"""Secrets never reach pyinfra's output: a real run (not `--dry`) of the env
file and the registry login against `@fake` hosts, with `--diff`, `-vv` and
`--debug`. The hosts run nothing; the run goes as far as the uploads."""

import base64
import re
import secrets

import pytest

from tests.cli.cli import WORKER_IPS, Deployment

DEPLOY = "tests/cli/secrets_deploy.py"


@pytest.fixture
def secret_run(tmp_path, monkeypatch):
    token = "seedcore-token-" + secrets.token_hex(12)
    password = "seedcore-password-" + secrets.token_hex(12)
    store_password = "seedcore-gcs-store-" + secrets.token_hex(12)
    monkeypatch.setenv("SEEDCORE_TEST_API_TOKEN", token)
    monkeypatch.setenv("SEEDCORE_TEST_REGISTRY_PASSWORD", password)
    monkeypatch.setenv("SEEDCORE_TEST_GCS_STORE_PASSWORD", store_password)
    deployment = Deployment(tmp_path)
    data = {
        "ray_secret_env": {"SEEDCORE_API_TOKEN": "SEEDCORE_TEST_API_TOKEN"},
        "docker_registry_login": "registry.example.com",
        "docker_registry_user": "deploy",
        "docker_registry_password_env": "SEEDCORE_TEST_REGISTRY_PASSWORD",
        # Head fault tolerance: the store's password goes into the head's compose file.
        "ray_gcs_store_address": "10.0.0.50:6379",
        "ray_gcs_store_password_env": "SEEDCORE_TEST_GCS_STORE_PASSWORD",
    }
    deployment.head(**data)
    deployment.worker("worker-1", WORKER_IPS[0], **data)

    def run(*flags):
        result = deployment.run("-y", *flags, deploy=DEPLOY)
        assert result.code == 0, result.describe()
        return result

    return run, (token, password, store_password)


def base64_forms(value: str) -> list[str]:
    """What `value` looks like inside the base64 of any text holding it, at each
    of the three offsets it may start at (less the edges its neighbours change)."""
    return [base64.b64encode(b"\0" * shift + value.encode()).decode()[4:-4] for shift in range(3)]


# Each flag, and what shows that it took effect in the same output.
FLAGS = {
    "diff": (["--diff"], "Will create /opt/seedcore/serve/serve.yaml"),
    "vv": (["-vv"], ">>> mkdir -p /opt/seedcore && umask 077 && rm -f /opt/seedcore/ray.env.seedcore-new"),
    "debug": (["--debug"], "[fake] simulating command on @fake/head-1: mkdir -p /opt/seedcore && umask 077"),
    "all": (["--diff", "-vv", "--debug"], "Will create /opt/seedcore/serve/serve.yaml"),
}


@pytest.mark.parametrize("flags", list(FLAGS), ids=list(FLAGS))
def test_secrets_never_appear_in_the_output(secret_run, flags):
    run, values = secret_run
    extra, shown = FLAGS[flags]
    result = run(*extra)
    assert shown in result.output, result.describe()
    for value in values:
        assert value not in result.output, f"a secret was printed with {extra}"
        for encoded in base64_forms(value):
            assert encoded not in result.output, f"a secret was printed base64-encoded with {extra}"
    # The env file was written on both hosts (Results: hosts, success, error,
    # no change), and its text not shown.
    assert re.search(r"Write the Ray env file \(root only: it may hold secrets\)\s+2\s+2\s+-\s+-\s*$",
                     result.output, re.MULTILINE), result.describe()
    assert "SEEDCORE_API_TOKEN=" not in result.output


@pytest.mark.parametrize("flags", list(FLAGS), ids=list(FLAGS))
def test_tls_keys_never_appear_in_the_output(secret_run, tmp_path, flags):
    """The node keys (made in this test's tls_dir by the run) are written on the
    hosts, and neither they nor the CA key are shown, plainly or base64-encoded."""
    run, _ = secret_run
    extra, shown = FLAGS[flags]
    result = run(*extra)
    assert shown in result.output, result.describe()
    keys = [path.read_text() for path in (tmp_path / "tls").rglob("*.key")]
    assert len(keys) == 3, "the CA key and two node keys"
    for key in keys:
        # A P-256 PKCS#8 key: 36 bytes of fixed header (48 base64 characters), the
        # 32-byte private value, then the public key, which the certificates show.
        body = "".join(key.strip().splitlines()[1:-1])
        private = body[48:90]
        assert private not in result.output, f"a TLS key was printed with {extra}"
        for encoded in base64_forms(private):
            assert encoded not in result.output, f"a TLS key was printed base64-encoded with {extra}"
    assert "PRIVATE KEY" not in result.output
    assert re.search(r"Write the node's TLS key \(root only, never shown\)\s+2\s+2\s+-\s+-\s*$",
                     result.output, re.MULTILINE), result.describe()

"""The endpoint checks of a verify. Each probe reaches its endpoint through a
`seedcore.reach.Reach` (the SSH connection of the host being checked, in a run).

Each check returns a `Result`; `poll` retries one until it passes or its
deadline passes, and keeps what it saw last; `poll_all` polls a host's checks
side by side, each try on a channel of its own.
"""

import base64
import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from seedcore import pki
from seedcore.reach import TIMEOUT_S, Reach, Unreachable

RETRY_PAUSE_S = 0.5
# `doomed` may read a host over SSH: asked on the first red answer, then at most this often.
DOOMED_PAUSE_S = 2
# How many of one host's checks `poll_all` keeps in flight at once (each try holds
# one channel of the host's SSH connection while its request is answered).
IN_FLIGHT = 6

# The two failures from the operators' notes, as Ray 2.20.0 logs them.
LOG_SIGNATURES = {
    "metrics_port_clash": "Address already in use",
    "serve_future_race": "assert not dest.done()",
}


log = logging.getLogger(__name__)


class BadAnswer(ValueError):
    """An endpoint answered, but not with what its check reads (another shape of JSON):
    a red check, retried like any other until its deadline."""


class ProbeBug(RuntimeError):
    """A probe raised something no endpoint's answer explains (a KeyError, a TypeError...):
    a bug in the check itself, failed at once rather than retried until the deadline."""


def json_object(response) -> dict:
    """The response's JSON object, or BadAnswer naming what came instead."""
    body = response.json()  # a body that is not JSON: ValueError, a red check
    if not isinstance(body, dict):
        raise BadAnswer(f"expected a JSON object, got {type(body).__name__}")
    return body


def dig(document, *keys: str):
    """document[k1][k2]...; BadAnswer naming the path where the answer's shape differs."""
    for depth, key in enumerate(keys):
        if not isinstance(document, dict) or key not in document:
            raise BadAnswer(f"the answer has no {'.'.join(keys[:depth + 1])}")
        document = document[key]
    return document


def records(value, *keys: str) -> list[dict]:
    """`value` as a list of JSON objects that each hold `keys`; BadAnswer otherwise."""
    if not isinstance(value, list) or not all(isinstance(item, dict) and all(key in item for key in keys)
                                              for item in value):
        raise BadAnswer(f"expected a list of objects with {', '.join(keys)}")
    return value


@dataclass
class Result:
    host: str
    check: str
    ok: bool
    detail: str
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def poll(host: str, check: str, probe: Callable[[], tuple[bool, str]], deadline: float,
         doomed: Callable[[], str | None] | None = None) -> Result:
    """Run `probe` until it passes or `deadline` (a time.monotonic value) passes.

    `doomed`, asked after each red answer, returns why the check cannot turn
    green in this run (a container that exited, a host that failed): the
    check is then red at once with that reason instead of waiting.
    """
    started = time.monotonic()
    asked = None
    while True:
        try:
            ok, detail = probe()
        except (OSError, ValueError) as error:
            # Unreachable, or an answer of the wrong shape (BadAnswer): a red check, retried.
            ok, detail = False, f"{type(error).__name__}: {error}"
        except Exception as error:
            # Anything else is the probe's own bug: at once, with its traceback in the debug log.
            log.debug("check %s of %s raised", check, host, exc_info=True)
            raise ProbeBug(f"check {check!r} of {host} has a bug: {type(error).__name__}: {error} "
                           "(its traceback is in the debug log, -vv)") from error
        reason = None
        if not ok and doomed and (asked is None or time.monotonic() - asked >= DOOMED_PAUSE_S):
            asked = time.monotonic()
            reason = doomed()
        if reason:
            seconds = round(time.monotonic() - started, 1)
            detail = f"{reason} (red at once, after {seconds:.0f}s; last seen: {detail})"
            return Result(host, check, False, detail, seconds)
        if ok or time.monotonic() >= deadline:
            seconds = round(time.monotonic() - started, 1)
            if not ok:
                detail = f"{detail} (gave up after {seconds:.0f}s)"
            return Result(host, check, ok, detail, seconds)
        time.sleep(RETRY_PAUSE_S)


def when_answered(probe: Callable[[], tuple[bool, str]], doomed: Callable[[], str | None] | None):
    """(probe, doomed) where `doomed` counts only once the endpoint answered.

    A lost member of the cluster explains a wrong answer (a node count short by
    one, a replica gone with its node), not an endpoint that is not up yet: a
    node restarted in this run is polled until it answers, and only then is a
    lost member a reason to be red at once."""
    unreachable = [False]

    def watched() -> tuple[bool, str]:
        try:
            answer = probe()
        except Unreachable:
            unreachable[0] = True
            raise
        unreachable[0] = False
        return answer

    def why() -> str | None:
        return None if unreachable[0] or doomed is None else doomed()

    return watched, why


def shared(ask: Callable[[], str | None], max_age: float = DOOMED_PAUSE_S) -> Callable[[], str | None]:
    """`ask` (a `doomed`) for checks polled side by side: one asks at a time, and
    an answer younger than `max_age` seconds is given again instead of asking anew
    (a node's checks turning red together read its host once, not once each)."""
    lock = threading.Lock()
    kept: list = []

    def answer() -> str | None:
        with lock:
            if kept and time.monotonic() - kept[0] < max_age:
                return kept[1]
            value = ask()
            kept[:] = [time.monotonic(), value]
            return value

    return answer


Poll = tuple[str, Callable[[], tuple[bool, str]], Callable[[], str | None] | None]


def poll_all(host: str, polls: list[Poll], deadline: float, in_flight: int = IN_FLIGHT) -> list[Result]:
    """`poll` each (check, probe, doomed) of `polls` side by side, at most
    `in_flight` at once; the results in the order of `polls`.

    The wait ends at `deadline` (or, when that is sooner, one connection's
    timeout after the start, so that every check has had a try): a check
    whose try is still out then is red, with what it saw last, without
    waiting for that try; one that never got to try is red, saying so.
    """
    started = time.monotonic()
    ends = max(deadline, started + TIMEOUT_S)
    slots = threading.BoundedSemaphore(max(1, in_flight))
    results: list[Result | None] = [None] * len(polls)
    seen: list[str | None] = [None] * len(polls)
    tried = [False] * len(polls)
    errors: list[BaseException] = []

    def run(index: int, check: str, probe, doomed) -> None:
        def watched() -> tuple[bool, str]:
            try:
                ok, detail = probe()
            except Exception as error:
                seen[index] = f"{type(error).__name__}: {error}"
                raise
            seen[index] = detail
            return ok, detail

        with slots:
            if time.monotonic() >= ends:
                return
            tried[index] = True
            try:
                results[index] = poll(host, check, watched, deadline, doomed)
            except Exception as error:  # a bug in a probe: raised in the caller, as one after another would
                errors.append(error)

    threads = [threading.Thread(target=run, args=(index, *entry), daemon=True,
                                name=f"check {entry[0]} of {host}")
               for index, entry in enumerate(polls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, ends - time.monotonic()))
    if errors:
        raise errors[0]
    waited = round(time.monotonic() - started, 1)
    out = []
    for index, (check, *_) in enumerate(polls):
        result = results[index]
        if result is None:
            if tried[index]:
                detail = f"no answer by the deadline: a try was still out after {waited:.0f}s"
                detail += f" (last seen: {seen[index]})" if seen[index] else ""
            else:
                detail = (f"not tried by the deadline ({waited:.0f}s): {in_flight} other checks of "
                          f"{host} held every slot")
            result = Result(host, check, False, detail, waited)
        out.append(result)
    return out


def alive_nodes(reach: Reach, address: str, dashboard_port: int) -> list[dict]:
    """The head's list of ALIVE nodes (node_ip, resources_total, ...)."""
    url = (
        f"http://{address}:{dashboard_port}/api/v0/nodes"
        "?filter_keys=state&filter_predicates=%3D&filter_values=ALIVE&detail=1"
    )
    response = reach.get(url)
    response.raise_for_status()
    return records(dig(json_object(response), "data", "result", "result"), "node_ip")


def probe_version(reach: Reach, address: str, port: int, expected: str):
    def probe():
        response = reach.get(f"http://{address}:{port}/api/version")
        if response.status_code != 200:
            return False, f"HTTP {response.status_code}"
        version = json_object(response).get("ray_version")
        return version == expected, f"ray_version {version} (expected {expected})"
    return probe


def probe_text(reach: Reach, url: str, expected: str):
    def probe():
        response = reach.get(url)
        body = response.text.strip()
        ok = response.status_code == 200 and expected in body
        return ok, f"HTTP {response.status_code}: {body[:80]}"
    return probe


def probe_metrics(reach: Reach, address: str, port: int):
    def probe():
        response = reach.get(f"http://{address}:{port}/metrics")
        series = {
            line.split("{")[0].split(" ")[0]
            for line in response.text.splitlines()
            if line.startswith("ray_")
        }
        ok = response.status_code == 200 and bool(series)
        return ok, f"HTTP {response.status_code}, {len(series)} ray_ series"
    return probe


def probe_alive_count(reach: Reach, address: str, port: int, expected: int, seen: dict | None = None):
    """The head's ALIVE nodes are `expected`; the count last read is kept in `seen["dashboard"]`."""
    def probe():
        count = len(alive_nodes(reach, address, port))
        if seen is not None:
            seen["dashboard"] = count
        return count == expected, f"{count} ALIVE nodes (expected {expected})"
    return probe


def probe_node_alive(reach: Reach, head_address: str, port: int, node_ip: str):
    def probe():
        ips = sorted(node["node_ip"] for node in alive_nodes(reach, head_address, port))
        return node_ip in ips, f"{node_ip} {'in' if node_ip in ips else 'not in'} ALIVE nodes {ips}"
    return probe


def probe_node_gpus(reach: Reach, head_address: str, port: int, node_ip: str, expected: int):
    def probe():
        node = next((n for n in alive_nodes(reach, head_address, port) if n["node_ip"] == node_ip), None)
        if node is None:
            return False, f"{node_ip} not in ALIVE nodes"
        resources = node.get("resources_total") or {}
        gpus = resources.get("GPU", 0) if isinstance(resources, dict) else None
        if not isinstance(gpus, (int, float)):
            raise BadAnswer(f"resources_total of {node_ip} holds no GPU count")
        gpus = int(gpus)
        return gpus == expected, f"Ray reports {gpus} GPU (expected {expected})"
    return probe


def container_gpu_result(host: str, container: str, listed: list[str] | None, expected: int) -> Result:
    if listed is None:
        return Result(host, "nvidia-smi in container", False, f"nvidia-smi fails inside {container}")
    ok = len(listed) == expected
    return Result(host, "nvidia-smi in container", ok,
                  f"{len(listed)} GPUs inside {container} (expected {expected})")


def probe_health_route(reach: Reach, url: str, expected_version: str, seen: dict | None = None):
    """The health route answers ok with the expected Ray version; its alive_nodes last
    read is kept in `seen["health"]`."""
    def probe():
        response = reach.get(url)
        if response.status_code != 200:
            return False, f"HTTP {response.status_code}: {response.text[:80]}"
        body = json_object(response)
        if seen is not None and isinstance(body.get("alive_nodes"), int):
            seen["health"] = body["alive_nodes"]
        ok = body.get("status") == "ok" and body.get("ray_version") == expected_version
        return ok, f"{body}"
    return probe


# How long the health app may lag the dashboard: it re-reads the node list every 2 s
# (seedcore/apps/seedcore_health.py REFRESH_S), plus a margin.
COUNT_LAG_S = 2.5


def counts_agree(host: str, seen: dict, read_again: Callable[[], None] | None = None,
                 pause_s: float = COUNT_LAG_S) -> Result | None:
    """One finding for the head's two node counts (the dashboard's ALIVE list, the
    health route's alive_nodes) instead of two checks that contradict each other.
    Counts that differ are read again once, after the health app's refresh, by
    `read_again` (which updates `seen`); still apart, the finding is red and names
    both. None when either count was never read."""
    if seen.get("dashboard") is None or seen.get("health") is None:
        return None
    if seen["dashboard"] != seen["health"] and read_again is not None:
        time.sleep(pause_s)
        read_again()
    dashboard, health = seen["dashboard"], seen["health"]
    detail = f"the dashboard lists {dashboard} ALIVE nodes, Serve's /health counts {health}"
    if dashboard != health:
        detail += (f" (still, {pause_s:.1f}s later): the two views of the cluster disagree, a node is "
                   "joining or leaving; verify again once it settles")
    return Result(host, "node counts agree", dashboard == health, detail)


def log_results(host: str, container: str, counts: dict[str, int] | None) -> list[Result]:
    """One result per error signature: red when the container logged it, or
    when its logs could not be read (`counts` None: the container is missing)."""
    results = []
    for check, signature in LOG_SIGNATURES.items():
        if counts is None:
            detail = f"{container} logs not read: no such container"
            results.append(Result(host, f"log:{check}", False, detail))
            continue
        count = counts.get(signature, 0)
        detail = f"{count} x '{signature}' in {container} logs"
        results.append(Result(host, f"log:{check}", count == 0, detail))
    return results


GCS_REDIS_STORAGE = "StorageType::REDIS_PERSIST"


def gcs_storage_result(host: str, reported: str) -> Result:
    """What the head's GCS reported as its storage when it started: Redis, with the
    store on (Ray 2.20 logs `StorageType::REDIS_PERSIST`; in memory, `StorageType::IN_MEMORY`)."""
    seen = reported or "nothing (no gcs_server.out line)"
    return Result(host, "gcs storage type", reported == GCS_REDIS_STORAGE,
                  f"the GCS reports {seen}; expected {GCS_REDIS_STORAGE}")


def _resp(*parts: str) -> bytes:
    """One Redis command in RESP (its arguments as bulk strings, never parsed by Redis)."""
    out = f"*{len(parts)}\r\n".encode()
    for part in parts:
        data = part.encode()
        out += b"$" + str(len(data)).encode() + b"\r\n" + data + b"\r\n"
    return out


def redis_ask(reach: Reach, address: str, password: str, *command: str,
              tls: ssl.SSLContext | None = None) -> str:
    """AUTH, one command, then QUIT on the Redis at "host:port" (Redis answers all
    three, then closes); the raw reply of the command. With `tls`, over a TLS
    session whose server certificate must name the store's address."""
    host, _, port = address.rpartition(":")
    sock = reach.open(host, int(port), tls=tls)
    try:
        sock.sendall(_resp("AUTH", password) + _resp(*command) + _resp("QUIT"))
        reply = b""
        while len(reply) < 1 << 20:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    finally:
        sock.close()
    auth, _, rest = reply.partition(b"\r\n")
    if auth != b"+OK":
        raise ValueError(f"AUTH answered {auth.decode(errors='replace')[:80]!r}")
    return rest.decode(errors="replace").removesuffix("+OK\r\n")


def _store_name(address: str, tls: ssl.SSLContext | None) -> str:
    return f"{address} (TLS)" if tls is not None else address


def probe_gcs_store(reach: Reach, address: str, password: str, tls: ssl.SSLContext | None = None):
    """The GCS store answers PING once authenticated (over TLS with `tls`)."""
    def probe():
        try:
            reply = redis_ask(reach, address, password, "PING", tls=tls)
        except OSError as error:
            return False, f"{type(error).__name__}: {error}"
        return reply.startswith("+PONG"), f"{_store_name(address, tls)} answered {reply.strip()[:60]!r}"
    return probe


def probe_gcs_tables(reach: Reach, address: str, password: str, namespace: str,
                     tls: ssl.SSLContext | None = None):
    """Ray's GCS keeps its tables in the store: Ray 2.20 writes them all into one
    Redis hash named after RAY_external_storage_namespace."""
    def probe():
        try:
            reply = redis_ask(reach, address, password, "HLEN", namespace, tls=tls)
        except OSError as error:
            return False, f"{type(error).__name__}: {error}"
        count = int(reply[1:].split("\r\n", 1)[0]) if reply.startswith(":") else 0
        return count > 0, f"{count} GCS entries under namespace {namespace} in {_store_name(address, tls)}"
    return probe


def tls_expiry_result(host: str, cert_text: str | None, path: str, warn_days: int, now=None) -> Result:
    """Days left on the node certificate as it is on the host (its PEM, read back;
    never the key): red under `warn_days`, or when it is missing or unreadable."""
    if not cert_text or not cert_text.strip():
        return Result(host, "tls certificate", False, f"{path} is missing on the host")
    try:
        left = pki.days_left(cert_text, now)
        not_after = pki.load_cert(cert_text).not_valid_after_utc
    except ValueError as error:
        return Result(host, "tls certificate", False, f"{path} cannot be read as a certificate: {error}")
    return Result(host, "tls certificate", left >= warn_days,
                  f"{left:.0f} days left (notAfter {not_after:%Y-%m-%d %H:%M} UTC; red under "
                  f"tls_expiry_warn_days={warn_days})")


def basic_auth(user: str, password: str) -> str:
    """An HTTP Basic Authorization header value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def probe_door(reach: Reach, url: str, tls, user: str, password: str):
    """A web door: without credentials it must answer 401, with them 200."""

    def probe():
        anonymous = reach.get(url, tls=tls)
        if anonymous.status_code != 401:
            return False, (f"GET {url} without the password {reach.where}: HTTP {anonymous.status_code}, "
                           "not 401: the door is open")
        answer = reach.get(url, tls=tls, headers={"Authorization": basic_auth(user, password)})
        if answer.status_code != 200:
            return False, (f"GET {url} with the password {reach.where}: HTTP {answer.status_code} "
                           f"(401 without it): {answer.text[:80]}")
        return True, f"{url}: 401 without the password, 200 with it"

    return probe

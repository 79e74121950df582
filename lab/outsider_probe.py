"""Run inside the lab's outsider (python - < this file): try every way in.

argv[1]: JSON {"tcp": [[ip, port], ...], "jobs": "http://head:8265", "client": "ray://head:10001",
               "doors": {"ca": PEM, "user": str, "right": str, "wrong": str, "urls": [https URL, ...]}}.
Prints JSON: {"tcp": {"ip:port": "open"|"refused"|"timeout"|...}, "jobs": str, "client": str,
              "doors": {url: {"none": status, "wrong": status, "right": status}}}
(a status: the HTTP code, or the error's name).
"""

import json
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

CONNECT_TIMEOUT_S = 3
CLIENT_TIMEOUT_S = 20


def tcp(target):
    ip, port = target
    try:
        with socket.create_connection((ip, port), timeout=CONNECT_TIMEOUT_S):
            return "open"
    except TimeoutError:
        return "timeout"
    except OSError as error:
        return type(error).__name__


def jobs(url):
    import requests

    try:
        answer = requests.post(f"{url}/api/jobs/", json={"entrypoint": "echo outsider-was-here"},
                               timeout=CONNECT_TIMEOUT_S)
        return f"answered {answer.status_code}"
    except requests.RequestException as error:
        return f"failed: {type(error).__name__}"


def client(address):
    code = f"import ray; ray.init({address!r}, logging_level='ERROR'); print('CONNECTED')"
    try:
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=CLIENT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return "failed: timeout"
    return "connected" if "CONNECTED" in run.stdout else f"failed: exit {run.returncode}"


def door(url, ca_file, user, right, wrong):
    import requests

    answers = {}
    for name, auth in (("none", None), ("wrong", (user, wrong)), ("right", (user, right))):
        try:
            answers[name] = requests.get(url, auth=auth, verify=ca_file, timeout=15).status_code
        except requests.RequestException as error:
            answers[name] = type(error).__name__
    return answers


def doors(asked):
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as handle:
        handle.write(asked["ca"])
    return {url: door(url, handle.name, asked["user"], asked["right"], asked["wrong"])
            for url in asked["urls"]}


def main():
    asked = json.loads(sys.argv[1])
    with ThreadPoolExecutor(max_workers=32) as pool:
        client_result = pool.submit(client, asked["client"]) if asked.get("client") else None
        jobs_result = pool.submit(jobs, asked["jobs"]) if asked.get("jobs") else None
        names = [f"{ip}:{port}" for ip, port in asked.get("tcp", [])]
        results = dict(zip(names, pool.map(tcp, asked.get("tcp", [])), strict=True))
        door_results = doors(asked["doors"]) if asked.get("doors") else {}
        print(json.dumps({"tcp": results, "jobs": jobs_result.result() if jobs_result else "",
                          "client": client_result.result() if client_result else "",
                          "doors": door_results}))


if __name__ == "__main__":
    main()

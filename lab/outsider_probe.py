"""Run inside the lab's outsider (python - < this file): try every way in.

argv[1]: JSON {"tcp": [[ip, port], ...], "jobs": "http://head:8265", "client": "ray://head:10001"}.
Prints JSON: {"tcp": {"ip:port": "open"|"refused"|"timeout"|...}, "jobs": str, "client": str}.
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


def main():
    asked = json.loads(sys.argv[1])
    with ThreadPoolExecutor(max_workers=32) as pool:
        client_result = pool.submit(client, asked["client"]) if asked.get("client") else None
        jobs_result = pool.submit(jobs, asked["jobs"]) if asked.get("jobs") else None
        names = [f"{ip}:{port}" for ip, port in asked["tcp"]]
        results = dict(zip(names, pool.map(tcp, asked["tcp"]), strict=True))
        print(json.dumps({"tcp": results, "jobs": jobs_result.result() if jobs_result else "",
                          "client": client_result.result() if client_result else ""}))


if __name__ == "__main__":
    main()

"""python -m bench.dev_gateway --url http://127.0.0.1:3001 --token "$(make -s token)": N concurrent clients
against a running dev gateway (`make dev`), reads and writes mixed; prints throughput and p50/p99.

Each client loops over: GET /job-infos/{id} (its own job info), PATCH it, GET /job-infos.
With --pgdata and --hold SECONDS, client 0's job info is first locked in the database for that long
(as a slow transaction would), so client 0's first PATCH waits: a gateway that serializes requests
stalls every client behind it. Used for the README's before/after figures of the dev gateway."""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import httpx
from sqlalchemy import create_engine, text


def hold_row(pgdata: str, job_id: str, seconds: float, locked: threading.Event) -> None:
    engine = create_engine(f"postgresql+psycopg://postgres@/jobprep?host={pgdata}")
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT 1 FROM job_infos WHERE id = :id FOR UPDATE"), {"id": job_id})
        locked.set()
        time.sleep(seconds)
    engine.dispose()


def run(
    url: str, token: str, clients: int, requests_per_client: int, pgdata: str | None = None, hold: float = 0
) -> dict[str, float]:
    headers = {"authorization": f"Bearer {token}"}
    latencies: list[float] = []
    others_worst: list[float] = [0.0]  # the slowest request of clients 1..N-1 (not the held one)
    errors: list[int] = []
    lock = threading.Lock()
    with httpx.Client(base_url=url, headers=headers, timeout=60) as setup:
        ids = [
            setup.post("/job-infos", json={"name": f"bench {i}", "experienceLevel": "junior", "description": "d"})
            .raise_for_status()
            .json()["id"]
            for i in range(clients)
        ]
        for i in ids:  # warm every function's first container before timing
            setup.get(f"/job-infos/{i}")
            setup.patch(f"/job-infos/{i}", json={"description": "warm"})
        setup.get("/job-infos")

    def client(job_id: str) -> None:
        mine: list[float] = []
        bad: list[int] = []
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            for n in range(requests_per_client):
                started = time.perf_counter()
                kind = n % 3
                if kind == 0:
                    response = http.get(f"/job-infos/{job_id}")
                elif kind == 1:
                    response = http.patch(f"/job-infos/{job_id}", json={"description": f"run {n}"})
                else:
                    response = http.get("/job-infos", params={"limit": 5})
                mine.append(time.perf_counter() - started)
                if response.status_code >= 400:
                    bad.append(response.status_code)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)
            if job_id != ids[0]:
                others_worst[0] = max(others_worst[0], *mine)

    threads = [threading.Thread(target=client, args=(ids[i],)) for i in range(clients)]
    if pgdata and hold:
        locked = threading.Event()
        threading.Thread(target=hold_row, args=(pgdata, ids[0], hold, locked), daemon=True).start()
        locked.wait(30)

        # client 0 starts with its PATCH, which waits for the lock
        def held_client() -> None:
            http_patch(url, headers, ids[0])
            client(ids[0])

        threads[0] = threading.Thread(target=held_client)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "seconds": round(elapsed, 2),
        "req_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
        "others_max_ms": round(others_worst[0] * 1000, 1),
    }


def http_patch(url: str, headers: dict[str, str], job_id: str) -> None:
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        http.patch(f"/job-infos/{job_id}", json={"description": "after the lock"}).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:3001")
    parser.add_argument("--token", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=60, help="per client")
    parser.add_argument("--pgdata", help="the dev database's folder (.local/pgdata), for --hold")
    parser.add_argument("--hold", type=float, default=0, help="seconds client 0's row stays locked")
    args = parser.parse_args()
    print(run(args.url, args.token, args.clients, args.requests, args.pgdata, args.hold))


if __name__ == "__main__":
    main()

"""A loopback load test of ``chatbot serve``: N concurrent clients for S seconds, 127.0.0.1 only.

    python bench/loadtest.py                          # 50 clients, 30 s, against --workers 2
    python bench/loadtest.py --clients 5 --seconds 2 --workers 1 --json

It starts ``chatbot serve`` on a free port, waits for /healthz, then each client asks
POST /v1/answer over one keep-alive connection, one request at a time, with questions from
tests/data/questions.tsv (every fifth client inside a session). Bounded in time (``--seconds``,
then at most 10 s to drain) and in requests (``--max-requests``). It prints requests/s, p50 and
p99 latency, errors and the server's peak RSS (sampled every 0.1 s, all its processes summed),
then stops the server with SIGTERM. Exit status 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time

from processes import HOST, ROOT, serving, status_kb, tree


def questions() -> list[str]:
    lines = (ROOT / "tests" / "data" / "questions.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t", 1)[1] for line in lines if "\t" in line]


async def client(number: int, port: int, asked: list[str], deadline: float, budget: list[int],
                 latencies: list[float], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    session = f"load-{number}" if number % 5 == 0 else None
    n = number
    try:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            request = {"question": asked[n % len(asked)]}
            if session:
                request["session"] = session
            n += 7
            body = json.dumps(request).encode()
            head = (f"POST /v1/answer HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            started = time.perf_counter()
            writer.write(head + body)
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            payload = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            status = status_line.split(b" ")[1:2]
            if status != [b"200"] or b'"status"' not in payload:
                errors.append(status_line.decode("latin-1").strip())
    except (OSError, asyncio.IncompleteReadError, ValueError) as e:
        errors.append(f"client {number}: {type(e).__name__}: {e}")
    finally:
        writer.close()


async def load(port: int, clients: int, seconds: float, max_requests: int, server_pid: int) -> dict:
    asked = questions()
    latencies: list[float] = []
    errors: list[str] = []
    budget = [max_requests]
    peak = {"sum": 0, "by_process": {}}
    stop = asyncio.Event()

    async def sample():
        while not stop.is_set():
            sizes = {p: status_kb(p, "VmRSS") for p in tree(server_pid)}
            if sum(sizes.values()) > peak["sum"]:
                peak["sum"], peak["by_process"] = sum(sizes.values()), sizes
            await asyncio.sleep(0.1)

    sampler = asyncio.create_task(sample())
    started = time.monotonic()
    deadline = started + seconds
    tasks = [asyncio.create_task(client(i, port, asked, deadline, budget, latencies, errors)) for i in range(clients)]
    done, pending = await asyncio.wait(tasks, timeout=seconds + 10)
    for task in pending:
        task.cancel()
        errors.append("a client did not finish within 10 s of the end")
    elapsed = time.monotonic() - started
    stop.set()
    await sampler
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {
        "clients": clients, "seconds": round(elapsed, 1), "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1), "p50_ms": round(pct(0.50), 1),
        "p99_ms": round(pct(0.99), 1), "errors": len(errors), "error_examples": errors[:5],
        "peak_rss_mb": round(peak["sum"] / 1024), "peak_rss_mb_by_process": sorted(
            (round(kb / 1024) for kb in peak["by_process"].values()), reverse=True),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    serve = ["--workers", str(args.workers), "--max-sessions", "1000"]
    with serving(serve, tries=300, stop_wait=30, stderr=subprocess.DEVNULL) as (server, port):
        time.sleep(1.0 if args.workers > 1 else 0)  # let the other workers finish loading their bot
        result = asyncio.run(load(port, args.clients, args.seconds, args.max_requests, server.pid))
    result["workers"] = args.workers
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"{result['clients']} clients x {result['seconds']} s against --workers {args.workers} on {HOST}:")
        print(f"  {result['requests']:,} requests, {result['requests_per_s']:,} requests/s")
        print(f"  latency p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms")
        print(f"  errors {result['errors']}" + (f": {result['error_examples']}" if result["errors"] else ""))
        print(f"  server peak RSS {result['peak_rss_mb']} MB (processes: {result['peak_rss_mb_by_process']} MB)")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

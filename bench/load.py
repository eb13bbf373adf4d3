"""A small HTTP/1.1 load generator on keep-alive connections (run in its own process).

``python -m bench.load PORT --requests N --concurrency C --seconds S [--token T]`` posts
``{"name": "get_action_list"}`` to ``127.0.0.1:PORT/api/messages/`` (``--path``, ``--body`` and
``--header NAME:VALUE`` post something else) and prints one JSON line: requests done, seconds,
requests per second, latency percentiles, errors. Bounded both in requests and time; loopback
only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

MESSAGES = "/api/messages/"
LIST_BODY = '{"name": "get_action_list"}'


def _request(port: int, token: str | None, path: str = MESSAGES, body_text: str = LIST_BODY,
             extra: tuple[str, ...] = ()) -> bytes:
    body = body_text.encode()
    headers = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *extra,
    ]
    if token:
        headers.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


async def _worker(port: int, request: bytes, budget: list[int], deadline: float,
                  latencies: list[float], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = head[9:12]
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if status != b"200":
                errors.append(status.decode())
    finally:
        writer.close()


async def run(port: int, requests: int, concurrency: int, seconds: float,
              token: str | None, path: str = MESSAGES, body: str = LIST_BODY,
              extra: tuple[str, ...] = ()) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[str] = []
    budget = [requests]
    start = time.perf_counter()
    deadline = start + seconds
    request = _request(port, token, path, body, extra)
    await asyncio.gather(*(_worker(port, request, budget, deadline, latencies, errors)
                           for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"requests": len(latencies), "seconds": elapsed, "rps": len(latencies) / elapsed,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "errors": len(errors)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--token")
    parser.add_argument("--path", default=MESSAGES)
    parser.add_argument("--body", default=LIST_BODY)
    parser.add_argument("--header", action="append", default=[], help="NAME: VALUE")
    args = parser.parse_args()
    result = asyncio.run(run(args.port, args.requests, args.concurrency, args.seconds,
                             args.token, args.path, args.body, tuple(args.header)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

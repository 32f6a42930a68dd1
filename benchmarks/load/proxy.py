"""A small reverse proxy for the run: TCP connections spread round-robin over the API replicas.

Run: ``python -m benchmarks.load.proxy --port 8080 --backend 8001 --backend 8002``. Each client connection
goes to the next replica that accepts a connection (a replica being restarted is skipped), and bytes are
piped both ways until either side closes. It works at the connection level, like haproxy in TCP mode:
keep-alive connections stay on their replica; a replica that goes away closes its connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys

__all__ = ["main", "serve"]

CONNECT_TIMEOUT = 2.0


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _connect(
    backends: list[int], turn: itertools.count[int]
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    first = next(turn)
    last: Exception | None = None
    for offset in range(len(backends)):
        port = backends[(first + offset) % len(backends)]
        try:
            return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            last = exc
    raise ConnectionError(f"no replica accepts connections: {last}")


async def serve(port: int, backends: list[int]) -> None:
    """Listen on ``127.0.0.1:port`` until cancelled."""
    turn = itertools.count()

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await _connect(backends, turn)
        except ConnectionError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    print(f"proxy listening on 127.0.0.1:{port} -> {backends}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """The proxy's command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", type=int, action="append", required=True, help="A replica's port.")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.backend))
    sys.exit(0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""An asyncio echo exchange, timed, for the EAGAIN rules (the man page, POLICY).

    ea_asyncio.py streams|sock CONNS MSGS

Server and client run in one event loop, so any wait the shim inserts into
an optimistic recv/send/accept stalls both.  `streams` uses
asyncio.start_server/open_connection; `sock` uses loop.sock_accept,
sock_connect, sock_recv and sock_sendall on raw non-blocking sockets.
Each of CONNS connections exchanges MSGS messages of 64 bytes both ways.
Prints "elapsed_ms=N echoed=M".
"""
import asyncio
import socket
import sys
import time

PAYLOAD = b"x" * 63 + b"\n"


async def streams(conns, msgs):
    async def handle(reader, writer):
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(line)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    echoed = 0
    for _ in range(conns):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(msgs):
            writer.write(PAYLOAD)
            await writer.drain()
            if await reader.readexactly(len(PAYLOAD)) == PAYLOAD:
                echoed += 1
        writer.close()
        await writer.wait_closed()
    server.close()
    await server.wait_closed()
    return echoed


async def sock_recv_exactly(loop, s, n):
    buf = b""
    while len(buf) < n:
        chunk = await loop.sock_recv(s, n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


async def sock_mode(conns, msgs):
    loop = asyncio.get_running_loop()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    lsock.setblocking(False)
    port = lsock.getsockname()[1]

    async def serve():
        for _ in range(conns):
            conn, _ = await loop.sock_accept(lsock)
            conn.setblocking(False)
            while True:
                data = await loop.sock_recv(conn, 4096)
                if not data:
                    break
                await loop.sock_sendall(conn, data)
            conn.close()

    server = asyncio.ensure_future(serve())
    echoed = 0
    for _ in range(conns):
        c = socket.socket()
        c.setblocking(False)
        await loop.sock_connect(c, ("127.0.0.1", port))
        for _ in range(msgs):
            await loop.sock_sendall(c, PAYLOAD)
            if await sock_recv_exactly(loop, c, len(PAYLOAD)) == PAYLOAD:
                echoed += 1
        c.close()
    await server
    lsock.close()
    return echoed


def main():
    mode, conns, msgs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    fn = streams if mode == "streams" else sock_mode
    t0 = time.monotonic()
    echoed = asyncio.run(fn(conns, msgs))
    ms = int((time.monotonic() - t0) * 1000)
    print("elapsed_ms=%d echoed=%d" % (ms, echoed), flush=True)


if __name__ == "__main__":
    main()

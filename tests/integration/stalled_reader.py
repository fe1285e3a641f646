#!/usr/bin/python3
"""stalled_reader.py URL CHANNEL MAX_CYCLES HOLD API - a signaling client that
stops reading, and the traffic that makes the server queue for it.

One session joins CHANNEL (following a redirect) on a socket with a small
receive buffer, reads its offer and its own connection.created, then never
reads again: its TCP window closes. Other clients then join and leave the
channel, each sending it notify messages, so the server's socket buffer
fills and messages pile up for it, until the node's metrics (API: its
http://HOST:PORT) count no session any more, or MAX_CYCLES times (the
kernel's send buffer grows to tcp_wmem's maximum, 4 MiB here, before
anything waits in the server itself). The stalled socket is kept
open HOLD seconds more (the caller watches the server's metrics meanwhile),
without reading, as a client that hangs would.

Prints one JSON line per step: {"event": "stalled", "url": ...},
{"event": "churned", "cycles": N, "seconds": S}, {"event": "done"}.
Uses Debian's python3-websockets (asyncio API, 10.x)."""
import asyncio
import json
import socket
import sys
import time
import urllib.parse
import urllib.request

import websockets


def out(**kv):
    print(json.dumps(kv), flush=True)


async def open_ws(url, rcvbuf=None):
    u = urllib.parse.urlparse(url)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:  # before connect: the window offered to the server stays small
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.setblocking(False)
    await asyncio.get_running_loop().sock_connect(s, (u.hostname, u.port))
    # max_queue=1, read_limit=1024: the library itself stops reading as soon
    # as one message waits unread, so the kernel's buffer fills too
    return await websockets.connect(url, sock=s, max_size=None, max_queue=1, read_limit=1024,
                                    ping_interval=None, close_timeout=1, open_timeout=10)


async def join(url, channel, rcvbuf=None, client_id=None):
    """An admitted session on the channel's node: (ws, url)."""
    redirected = False
    for _ in range(3):
        ws = await open_ws(url, rcvbuf)
        await ws.send(json.dumps({"type": "connect", "role": "recvonly", "channel_id": channel,
                                  "sdp": "v=0\r\n", **({"redirect": True} if redirected else {}),
                                  **({"client_id": client_id} if client_id else {})}))
        cid = None
        while True:
            m = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if m.get("type") == "redirect":
                await ws.close()
                url, redirected = m["location"], True
                break
            if m.get("type") == "offer":
                cid = m.get("connection_id")
            if m.get("type") == "notify" and m.get("event_type") == "connection.created" \
                    and cid is not None and m.get("connection_id") == cid:
                return ws, url
    raise RuntimeError("not admitted after 3 redirects")


def sessions(api):
    with urllib.request.urlopen(api + "/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("shoal_signaling_sessions "):
                return int(line.split()[1])
    return -1


async def main():
    url, channel, most, hold = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    stalled, owner = await join(url, channel, rcvbuf=4096)
    out(event="stalled", url=owner)
    api = sys.argv[5].replace("127.0.0.1", urllib.parse.urlparse(owner).hostname)
    start, cycles = time.monotonic(), 0
    while cycles < most:
        # the longest client_id (255 bytes) makes each notify about 540 bytes
        ws, _ = await join(owner, channel, client_id="c" * 255)
        await ws.close()
        cycles += 1
        if cycles % 100 == 0:
            await asyncio.sleep(0.1)  # the last churn client's close is done
            if sessions(api) == 0:
                break
    out(event="churned", cycles=cycles, seconds=round(time.monotonic() - start, 2))
    await asyncio.sleep(hold)  # stalled stays open, unread
    out(event="done")
    stalled.transport.abort()


asyncio.run(main())

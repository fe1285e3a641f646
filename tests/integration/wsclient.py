#!/usr/bin/python3
"""wsclient.py - a signaling client for tests: connects like sora-js-sdk
(connect, follow one redirect with "redirect": true, answer pings), holds
each session, and prints one JSON line per thing that happened:

  {"i": 0, "event": "redirect", "from": URL, "location": URL}
  {"i": 0, "event": "admitted", "url": URL, "ms": 12.3}   (its own connection.created)
  {"i": 0, "event": "notify", "event_type": ..., "channel_connections": N}
  {"i": 0, "event": "closed", "url": URL, "code": 1013, "reason": "..."}
  {"i": 0, "event": "error", "url": URL, "error": "..."}

usage: wsclient.py [--count N] [--hold S] [--role R] [--disconnect]
                   [--raw TEXT] [--reconnect] [--insecure] URL CHANNEL

--hold S: keep each session S seconds after its first admission (0: until
  the server closes it); --wait S: give up on a connect not admitted
  within S seconds (20), printing {"event": "timeout"};
--disconnect: then send {"type":"disconnect"} and wait for the close;
--raw TEXT: send TEXT instead of a connect (bad-input tests);
--insecure: for wss://, accept any certificate (self-signed in tests);
--reconnect: after a close by the server, connect again through URL (the
  entry), as an SDK's retry would, until --hold is over.
Uses Debian's python3-websockets (asyncio API, 10.x)."""
import argparse
import asyncio
import json
import ssl
import sys
import time

import websockets


def out(**kv):
    print(json.dumps(kv), flush=True)


async def session(i, args):
    url, redirected = args.url, False
    deadline = None  # set at the first admission: the hold counts from there
    while True:
        start = time.monotonic()
        try:
            tls = None
            if url.startswith("wss://"):
                tls = ssl.create_default_context()
                if args.insecure:  # the tests' self-signed certificates
                    tls.check_hostname = False
                    tls.verify_mode = ssl.CERT_NONE
            async with websockets.connect(url, max_size=None, open_timeout=10, close_timeout=5,
                                          ping_interval=None, ssl=tls) as ws:
                if args.raw is not None:
                    await ws.send(args.raw)
                else:
                    await ws.send(json.dumps({
                        "type": "connect", "role": args.role, "channel_id": args.channel,
                        "sora_client": "shoal wsclient", "environment": "tests",
                        "multistream": True, "audio": True, "video": True,
                        "sdp": "v=0\r\n", **({"redirect": True} if redirected else {})}))
                admitted = False
                while True:
                    if not admitted:
                        left = start + args.wait - time.monotonic()
                        if left <= 0:
                            out(i=i, event="timeout", url=url, error="not admitted within --wait")
                            return
                    else:
                        left = None if deadline is None else deadline - time.monotonic()
                    if admitted and left is not None and left <= 0:
                        if args.disconnect:
                            await ws.send(json.dumps({"type": "disconnect"}))
                            try:
                                await asyncio.wait_for(ws.wait_closed(), 5)
                            except asyncio.TimeoutError:
                                pass
                            out(i=i, event="closed", url=url, code=ws.close_code, reason=ws.close_reason)
                        return
                    try:
                        msg = await asyncio.wait_for(ws.recv(), left)
                    except asyncio.TimeoutError:
                        continue
                    m = json.loads(msg)
                    t = m.get("type")
                    if t == "redirect":
                        out(i=i, event="redirect", **{"from": url}, location=m["location"])
                        url, redirected = m["location"], True
                        break
                    if t == "ping":
                        await ws.send(json.dumps({"type": "pong"}))
                    elif t == "notify":
                        if not admitted and m.get("event_type") == "connection.created":
                            admitted = True
                            if deadline is None and args.hold > 0:
                                deadline = time.monotonic() + args.hold
                            out(i=i, event="admitted", url=url, ms=round((time.monotonic() - start) * 1000, 1),
                                connection_id=m.get("connection_id"))
                        else:
                            out(i=i, event="notify", event_type=m.get("event_type"),
                                channel_connections=m.get("channel_connections"))
                    else:
                        out(i=i, event="message", type=t)
        except websockets.exceptions.ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else None
            reason = e.rcvd.reason if e.rcvd else ""
            out(i=i, event="closed", url=url, code=code, reason=reason)
        except (OSError, asyncio.TimeoutError, websockets.exceptions.InvalidHandshake) as e:
            out(i=i, event="error", url=url, error=str(e) or type(e).__name__)
        else:
            continue  # left the with-block for a redirect
        if not args.reconnect or deadline is None or time.monotonic() >= deadline:
            return
        await asyncio.sleep(0.2)
        url, redirected = args.url, False


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--hold", type=float, default=0)
    p.add_argument("--wait", type=float, default=20, help="seconds to wait for admission per connect")
    p.add_argument("--role", default="sendrecv")
    p.add_argument("--disconnect", action="store_true")
    p.add_argument("--raw")
    p.add_argument("--reconnect", action="store_true")
    p.add_argument("--insecure", action="store_true", help="wss: accept any certificate")
    p.add_argument("url")
    p.add_argument("channel")
    args = p.parse_args()
    await asyncio.gather(*(session(i, args) for i in range(args.count)))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)

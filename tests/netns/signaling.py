#!/usr/bin/python3
"""Signaling scenarios on real shoald processes in network namespaces, with
client WebSocket sessions held open on every node throughout.

usage: signaling.py SCENARIO   (see SCENARIOS below; each is one CTest test)

Clients (asyncio, Debian's python3-websockets, in the observer namespace)
behave like sora-js-sdk: connect to a random node, follow a redirect with
"redirect": true, stay 2 to 6 s (or until the server closes the session),
then connect again after 300 ms through another random node. The churn
matters: a channel's new clients keep arriving on both sides of a
partition, so a node that kept its clients without majority would meet the
majority's new owner of the channel (checked: with the closing disabled
in signaling_admit.c, this scenario fails). Every 100 ms the scenario
samples which node each client is admitted on, and fails if a sample ever
shows clients of one channel admitted on two nodes (split brain as a user
would see it). At the end, with the cluster whole again, every client must
be admitted again by itself.
"""

import asyncio
import json
import os
import random
import sys
import threading
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Scenario, ScenarioFailure, run  # noqa: E402

CHANNELS = 8
PER_CHANNEL = 3
BACK = 40  # all clients admitted again after the last heal (detection, fence, retries)


class Clients:
    """CHANNELS x PER_CHANNEL sessions on a thread of their own."""

    def __init__(self, s):
        self.s = s
        self.at = {}            # client -> host index it is admitted on, or None
        self.admissions = 0
        self.closes = {}        # close reason code -> count
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.churn = False      # clients leave and come back while True
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        tasks = [self.client(c) for c in range(CHANNELS * PER_CHANNEL)]
        self.loop.run_until_complete(asyncio.gather(*tasks))

    def host_of(self, url):
        ip = url.split("//")[1].split(":")[0]
        for i in self.s.lab.hosts:
            if self.s.lab.ip(i) == ip:
                return i
        return None

    async def client(self, c):
        channel = "room-%d" % (c % CHANNELS)
        while not self.stop.is_set():
            url = "ws://%s:5000/signaling" % self.s.lab.ip(random.choice(list(self.s.lab.hosts)))
            redirected = False
            for _hop in range(3):
                try:
                    async with websockets.connect(url, open_timeout=3, close_timeout=1, ping_interval=None) as ws:
                        await ws.send(json.dumps({"type": "connect", "role": "sendrecv", "channel_id": channel,
                                                  "sora_client": "netns", "sdp": "v=0\r\n",
                                                  **({"redirect": True} if redirected else {})}))
                        next_url = None
                        leave_at = None
                        while not self.stop.is_set():
                            if leave_at is not None and self.churn and time.monotonic() >= leave_at:
                                with self.lock:
                                    self.at[c] = None  # leaving: no longer counted on its node
                                await ws.send('{"type":"disconnect"}')
                                break
                            try:
                                msg = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                            except asyncio.TimeoutError:
                                continue
                            t = msg.get("type")
                            if t == "redirect":
                                next_url = msg["location"]
                                break
                            if t == "ping":
                                await ws.send('{"type":"pong"}')
                            elif t == "notify" and msg.get("event_type") == "connection.created":
                                with self.lock:
                                    if self.at.get(c) is None:
                                        self.at[c] = self.host_of(url)
                                        self.admissions += 1
                                        leave_at = time.monotonic() + random.uniform(2, 6)
                        if next_url is None:
                            break
                        url, redirected = next_url, True
                except websockets.exceptions.ConnectionClosed as e:
                    reason = (e.rcvd.reason if e.rcvd else "connection lost").split(":")[0]
                    with self.lock:
                        self.closes[reason] = self.closes.get(reason, 0) + 1
                    break
                except (OSError, asyncio.TimeoutError, websockets.exceptions.InvalidHandshake):
                    break
                finally:
                    with self.lock:
                        self.at[c] = None
            await asyncio.sleep(0.3)

    def admitted(self):
        with self.lock:
            return sum(1 for v in self.at.values() if v is not None)

    def split(self):
        """Channels whose clients are admitted on more than one node now."""
        nodes = {}
        with self.lock:
            for c, h in self.at.items():
                if h is not None:
                    nodes.setdefault(c % CHANNELS, set()).add(h)
        return {ch: hs for ch, hs in nodes.items() if len(hs) > 1}

    def shutdown(self):
        self.stop.set()
        self.thread.join(10)


class Watch:
    """The 100 ms check that no channel is ever served by two nodes."""

    def __init__(self, s, clients):
        self.s, self.clients = s, clients
        self.violations = []
        self.samples = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            bad = self.clients.split()
            self.samples += 1
            if bad:
                self.violations.append((self.s.now(), bad))
            self.stop.wait(0.1)

    def check(self):
        if self.violations:
            t, bad = self.violations[0]
            raise ScenarioFailure("at %.1fs clients of one channel were admitted on two nodes: %s (%d samples)"
                                  % (t, {"room-%d" % k: sorted(v) for k, v in bad.items()}, len(self.violations)))


def through_faults():
    """Sessions on every node through a 3|2 partition, flapping, a kill -9
    and its restart: never one channel on two nodes; all back at the end."""
    with Scenario("sig", 5, "10.79.20") as s:
        s.eventually(lambda: all(s.serving(i) for i in range(1, 6)), 30, "all 5 serve")
        clients = Clients(s)
        clients.start()
        watch = Watch(s, clients)
        try:
            total = CHANNELS * PER_CHANNEL
            s.eventually(lambda: clients.admitted() == total, 30, "%d clients admitted" % total)
            s.act("partition 1,2,3 | 4,5 for 15 s")
            s.lab.partition("1,2,3|4,5")
            s.eventually(lambda: not s.serving(4) and not s.serving(5), 30, "the minority side stops serving")
            s.eventually(lambda: clients.admitted() == total, BACK,
                         "every client admitted on the majority side (minority clients reconnected)")
            s.act("clients churn (leave after 2-6 s, come back through a random node) for 10 s")
            clients.churn = True
            time.sleep(10)
            s.act("heal")
            s.lab.heal()
            s.eventually(lambda: all(s.serving(i) for i in range(1, 6)), 30, "all 5 serve again")
            s.act("flapping 1,2,3 | 4,5 every 3 s for 18 s")
            s.flap("1,2,3|4,5", 3, 18)
            s.act("healed; clients stay; kill -9 host 1")
            clients.churn = False
            s.kill(1)
            time.sleep(6)
            s.act("start host 1 again")
            s.start(1)
            s.eventually(lambda: all(s.serving(i) for i in range(1, 6)), 30, "all 5 serve again")
            s.eventually(lambda: clients.admitted() == total, BACK, "every client admitted again")
            watch.check()
            s.act("ok: %d samples, no channel on two nodes; %d admissions; closes by reason %s"
                  % (watch.samples, clients.admissions, clients.closes))
            if not clients.closes.get("CLUSTER-NOT-MAJORITY"):
                raise ScenarioFailure("no client was closed for a lost majority: the minority kept its clients?")
        finally:
            watch.stop.set()
            clients.shutdown()


SCENARIOS = {"through_faults": through_faults}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        sys.exit("usage: signaling.py {%s}" % "|".join(SCENARIOS))
    run(SCENARIOS[sys.argv[1]])

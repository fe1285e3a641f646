"""harness - scenarios on the namespace lab, observed every 100 ms.

A Scenario makes its own lab (bench/lablib.py), moves this process into the
lab's observer namespace, and samples every node's ListClusterNodes and /.ok
every 100 ms on a background thread for the whole scenario. Checks are made
on those samples (and on the nodes' own logs for events too brief to sample).
When a check fails, the scenario prints a timeline: what was done, and each
node's view whenever it changed. The lab is always taken down, even on ^C.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
import lablib  # noqa: E402

SKIP = 77  # CTest's SKIP_RETURN_CODE for these tests


class ScenarioFailure(Exception):
    pass


def namespaces_usable():
    """(True, "") if this process can make network namespaces and nft tables."""
    if os.geteuid() != 0:
        return False, "not root"
    probe = "slab-probe-%d" % os.getpid()
    p = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if p.returncode != 0:
        return False, "ip netns add failed: " + p.stderr.strip()
    q = subprocess.run(["ip", "netns", "exec", probe, "nft", "list", "tables"], capture_output=True,
                       text=True)
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    if q.returncode != 0:
        return False, "nft unusable in a namespace: " + q.stderr.strip()
    return True, ""


class Scenario:
    def __init__(self, name, n, subnet, temporary=0, start=True, period=0.1):
        self.name = name
        self.lab = lablib.Lab("t-" + name, subnet, "shoal", cluster_name="netns")
        self.n, self.temporary, self.start_all = n, temporary, start
        self.period = period
        self.t0 = None
        self.actions = []          # (t, text)
        self.samples = []          # (t, host, view or None, ok status)
        self.latest = {}           # host -> (view, ok)
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.thread = None

    # ---- lifecycle ---------------------------------------------------------
    def __enter__(self):
        if lablib.Lab.exists(self.lab.name):  # a previous run was killed hard
            lablib.Lab.load(self.lab.name).down()
        signal.signal(signal.SIGTERM, lambda s, f: (_ for _ in ()).throw(KeyboardInterrupt()))
        self.t0 = time.monotonic()
        self.lab.up(self.n, self.temporary, start=self.start_all)
        self.act("lab up: %d hosts%s" % (self.n + self.temporary,
                                          "" if self.start_all else " (nodes not started)"))
        lablib.enter_observer(self.lab)
        self.thread = threading.Thread(target=self._sample_loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop_flag.set()
        if self.thread:
            self.thread.join(5)
        lablib.leave_observer()
        if exc_type is not None and not issubclass(exc_type, KeyboardInterrupt):
            self.print_timeline(exc)
        self.lab.down()
        return False

    def now(self):
        return time.monotonic() - self.t0

    def act(self, text):
        with self.lock:
            self.actions.append((self.now(), text))
        print("%7.2fs  %s" % (self.now(), text), flush=True)

    # ---- sampling ----------------------------------------------------------
    def _sample_loop(self):
        clients = {}
        while not self.stop_flag.is_set():
            started = time.monotonic()
            for i in sorted(self.lab.hosts):
                c = clients.setdefault(i, lablib.ShoalClient(self.lab.ip(i), timeout=0.3))
                view = c.members()
                ok = c.ok_code() if view is not None else "down"
                with self.lock:
                    self.samples.append((self.now(), i, view, ok))
                    self.latest[i] = (view, ok)
            spent = time.monotonic() - started
            self.stop_flag.wait(max(0.0, self.period - spent))
        for c in clients.values():
            c.close()

    def ok(self, i):
        """Latest /.ok of host i: "200", "503 CODE" or "down"."""
        with self.lock:
            return (self.latest.get(i) or (None, "down"))[1]

    # Process control through the scenario: the host's last sample is
    # forgotten, so that no check passes on what it said before.
    def _forget(self, i):
        with self.lock:
            self.latest[i] = (None, "down")

    def start(self, i):
        self.lab.start(i)
        self._forget(i)

    def kill(self, i):
        self.lab.kill(i)
        self._forget(i)

    def stop(self, i):
        ok = self.lab.stop(i)
        self._forget(i)
        return ok

    def wait_up(self, i, timeout=10):
        """Waits until host i's API answers (after a start). Asks the node
        itself: the latest sample may predate the restart."""
        def answers():
            c = lablib.ShoalClient(self.lab.ip(i), timeout=0.5)
            try:
                return c.ok_code() != "down"
            finally:
                c.close()
        self.eventually(answers, timeout, "host %d answers" % i)

    def serving(self, i):
        return self.ok(i) == "200"

    def api(self, i, target, body=None):
        c = lablib.ShoalClient(self.lab.ip(i), timeout=15)
        try:
            return c.action(target, body)
        finally:
            c.close()

    def samples_of(self, i, t_from, t_to=None):
        with self.lock:
            return [(t, ok) for t, h, v, ok in self.samples
                    if h == i and t >= t_from and (t_to is None or t <= t_to)]

    def serving_gaps(self, i, t_from, t_to=None, silence=1.0):
        """Times host i did not serve between t_from and t_to: each sample
        where it answered /.ok with something other than 200, and each
        stretch of unanswered samples longer than `silence` seconds (the
        sampler waits 0.3 s; one lone miss on a loaded 2-core machine is the
        sampler's, not an outage an operator's health check would see, and
        a crashed node stays silent). Returns [(t, what)]."""
        gaps, quiet_since = [], None
        for t, ok in self.samples_of(i, t_from, t_to):
            if ok == "down":
                if quiet_since is None:
                    quiet_since = t
                elif t - quiet_since > silence:
                    gaps.append((quiet_since, "no answer for over %.1fs" % silence))
                    quiet_since = float("inf")  # report a stretch once
                continue
            quiet_since = None
            if ok != "200":
                gaps.append((t, ok))
        if quiet_since is not None and quiet_since != float("inf"):
            last = self.samples_of(i, t_from, t_to)[-1][0]
            if last - quiet_since > silence:
                gaps.append((quiet_since, "no answer for over %.1fs" % silence))
        return sorted(gaps)

    def view(self, viewer):
        with self.lock:
            return (self.latest.get(viewer) or (None, None))[0]

    def state(self, viewer, member):
        v = self.view(viewer)
        return None if v is None else v.get(self.name_of(member))

    def name_of(self, i):
        return lablib.node_name(self.lab, i)

    def running(self):
        return [i for i, h in self.lab.hosts.items() if h.get("pid")]

    # ---- checks ------------------------------------------------------------
    def eventually(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        start = self.now()
        while time.monotonic() < deadline:
            if pred():
                self.act("ok: %s (after %.1fs)" % (what, self.now() - start))
                return self.now() - start
            time.sleep(self.period)
        raise ScenarioFailure("%s: not true within %.0fs" % (what, timeout))

    def holds_for(self, pred, duration, what):
        """pred must hold at every 100 ms check for duration seconds."""
        end = time.monotonic() + duration
        while time.monotonic() < end:
            if not pred():
                raise ScenarioFailure("%s: broken at %.1fs" % (what, self.now()))
            time.sleep(self.period)
        self.act("ok: %s held for %.0fs" % (what, duration))

    def flap(self, spec, every, seconds):
        """Cuts spec and heals in turn every `every` s for `seconds` s; ends healed."""
        end = time.monotonic() + seconds
        cut = False
        while time.monotonic() < end:
            if cut:
                self.lab.heal()
            else:
                self.lab.partition(spec)
            cut = not cut
            time.sleep(every)
        self.lab.heal()

    def lists(self, viewers, member, state):
        return all(self.state(v, member) == state for v in viewers)

    def all_alive(self, hosts=None):
        hosts = hosts or self.running()
        return all(self.lists(hosts, m, "alive") for m in hosts)

    def deaths_logged(self, member=None, since=None):
        """member_dead events in every node's own cluster.jsonl."""
        count = 0
        for i in self.lab.hosts:
            try:
                with open(os.path.join(self.lab.host_dir(i), "log", "cluster.jsonl")) as f:
                    for line in f:
                        try:
                            ev = json.loads(line)
                        except ValueError:
                            continue
                        if ev.get("event") != "member_dead":
                            continue
                        if member is not None and ev.get("member") != self.name_of(member):
                            continue
                        count += 1
            except OSError:
                pass
        return count

    def sampled_dead(self, member, t_from):
        """Samples after t_from in which some node listed member dead."""
        name = self.name_of(member)
        with self.lock:
            return [(t, i) for t, i, v, ok in self.samples if t >= t_from and v and v.get(name) == "dead"]

    # ---- report ------------------------------------------------------------
    def print_timeline(self, exc):
        out = sys.stderr
        print("\n==== scenario %s FAILED: %s" % (self.name, exc), file=out)
        print("==== timeline (actions, and each node's view when it changed)", file=out)
        names = {i: self.name_of(i) for i in self.lab.hosts}
        rows = [(t, "ACTION " + a) for t, a in self.actions]
        last = {}
        for t, i, v, ok in self.samples:
            key = (json.dumps(v, sort_keys=True), ok)
            if last.get(i) == key:
                continue
            last[i] = key
            if v is None:
                desc = "no answer"
            else:
                desc = " ".join("h%d=%s" % (j, v.get(names[j], "-")) for j in sorted(names))
            rows.append((t, "h%d sees %s  /.ok %s" % (i, desc, ok)))
        for t, text in sorted(rows, key=lambda r: r[0]):
            print("%8.2fs  %s" % (t, text), file=out)
        for i in sorted(self.lab.hosts):
            p = os.path.join(self.lab.host_dir(i), "agent.log")
            if os.path.exists(p) and os.path.getsize(p) > 0:
                print("==== h%d agent.log (tail)" % i, file=out)
                with open(p, errors="replace") as f:
                    print("".join(f.readlines()[-15:]), file=out)


def run(main):
    """Entry point of a scenario script: skips cleanly where namespaces
    cannot be made, exits 1 on a failed check."""
    usable, why = namespaces_usable()
    if not usable:
        print("SKIP: network namespaces cannot be made here (%s)" % why)
        sys.exit(SKIP)
    try:
        main()
    except ScenarioFailure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)
    except lablib.LabError as e:
        print("FAIL (lab): %s" % e, file=sys.stderr)
        sys.exit(1)
    print("PASS")

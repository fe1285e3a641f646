#!/usr/bin/python3
"""Roster, majority and fencing scenarios on real shoald processes.

usage: roster.py SCENARIO   (each is one CTest test)

Serving is read from /.ok every 100 ms on every node (200 = serving, 503
with the reason otherwise). Bounds: the lease is 2 s, so a cut-off minority
must stop within LEASE_BOUND (lease + one sampling period + slack for a
loaded CI machine); a healed cluster must serve again within HEAL_BOUND.
"""

import itertools
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Scenario, ScenarioFailure, run  # noqa: E402

LEASE_BOUND = 3.0
HEAL_BOUND = 8.0
FORM = 20


def all_serving(s, hosts):
    return all(s.serving(i) for i in hosts)


def none_serving(s, hosts):
    return not any(s.serving(i) for i in hosts)


def cluster_ids(s, hosts):
    ids = set()
    for i in hosts:
        st = s.api(i, "GetClusterStatus")[1] or {}
        ids.add(st.get("cluster_id"))
    return ids


def never_served(s, hosts, t_from, t_to, what):
    for i in hosts:
        bad = [t for t, ok in s.samples_of(i, t_from, t_to) if ok == "200"]
        if bad:
            raise ScenarioFailure("%s: host %d served at %.2fs" % (what, i, bad[0]))


def always_served(s, hosts, t_from, t_to, what):
    for i in hosts:
        bad = s.serving_gaps(i, t_from, t_to)
        if bad:
            raise ScenarioFailure("%s: host %d did not serve at %.2fs (%s)" % (what, i, bad[0][0], bad[0][1]))


def formation():
    """3 nodes with one contact list form exactly one cluster in every start
    order, at once or seconds apart; a lone node waits, not forming a
    cluster of one; with one contact node missing the other two form it."""
    with Scenario("formation", 3, "10.80.1", start=False) as s:
        lab = s.lab

        def reset():
            for i in lab.hosts:
                if lab.hosts[i].get("pid"):
                    s.kill(i)
                lab.wipe(i)

        for order in itertools.permutations([1, 2, 3]):
            reset()
            s.act("start in order %s, 1 s apart" % (order,))
            s.start(order[0])
            time.sleep(1.0)
            if s.serving(order[0]) or (s.api(order[0], "GetClusterStatus")[1] or {}).get("initialized"):
                raise ScenarioFailure("a lone node formed a cluster of one")
            for i in order[1:]:
                s.start(i)
                time.sleep(1.0)
            s.eventually(lambda: all_serving(s, [1, 2, 3]), FORM, "all 3 serve")
            ids = cluster_ids(s, [1, 2, 3])
            if len(ids) != 1 or None in ids:
                raise ScenarioFailure("more than one cluster formed: %s" % ids)
        reset()
        s.act("one contact node missing: start 1 and 2 only")
        s.start(1)
        s.start(2)
        s.eventually(lambda: all_serving(s, [1, 2]), FORM, "1 and 2 serve without 3")
        status = s.api(1, "GetClusterStatus")[1]
        if sorted(status["roster"]) != sorted(lab.node_name_of(i) for i in (1, 2, 3)):
            raise ScenarioFailure("roster is %s" % status["roster"])
        s.start(3)
        s.eventually(lambda: all_serving(s, [1, 2, 3]), FORM, "3 joins later and serves")
        if len(cluster_ids(s, [1, 2, 3])) != 1:
            raise ScenarioFailure("node 3 did not join the same cluster")


def partition_3_2():
    """5 nodes split 3|2: the 2 stop within the lease and report
    CLUSTER-NOT-MAJORITY, the 3 never stop; after heal all serve again."""
    with Scenario("rpart32", 5, "10.80.2") as s:
        s.eventually(lambda: all_serving(s, range(1, 6)), FORM, "all 5 serve")
        t_cut = s.now()
        s.act("partition 1,2,3 | 4,5")
        s.lab.partition("1,2,3|4,5")
        took = s.eventually(lambda: none_serving(s, [4, 5]), LEASE_BOUND, "the 2-node side stops serving")
        for i in (4, 5):
            if "CLUSTER-NOT-MAJORITY" not in s.ok(i):
                raise ScenarioFailure("host %d reports %s" % (i, s.ok(i)))
        time.sleep(6)
        always_served(s, [1, 2, 3], t_cut, s.now(), "majority side")
        s.act("heal")
        t_heal = s.now()
        s.lab.heal()
        s.eventually(lambda: all_serving(s, range(1, 6)), HEAL_BOUND, "all 5 serve again")
        always_served(s, [1, 2, 3], t_cut, s.now(), "majority side")
        s.act("minority stopped %.2fs after the cut; all served %.2fs after heal" % (took, s.now() - t_heal))


def partition_2_2_1():
    """2|2|1: no side has a majority, nobody serves; after heal all serve."""
    with Scenario("rpart221", 5, "10.80.3") as s:
        s.eventually(lambda: all_serving(s, range(1, 6)), FORM, "all 5 serve")
        s.act("partition 1,2 | 3,4 | 5")
        s.lab.partition("1,2|3,4|5")
        s.eventually(lambda: none_serving(s, range(1, 6)), LEASE_BOUND, "nobody serves")
        t = s.now()
        time.sleep(5)
        never_served(s, range(1, 6), t, s.now(), "2|2|1")
        s.act("heal")
        s.lab.heal()
        s.eventually(lambda: all_serving(s, range(1, 6)), HEAL_BOUND, "all 5 serve again")


def flapping():
    """3|2 cut and healed every 3 s for 60 s: the 2-node side never has a
    majority while cut; after the last heal all serve."""
    with Scenario("rflap", 5, "10.80.4") as s:
        s.eventually(lambda: all_serving(s, range(1, 6)), FORM, "all 5 serve")
        s.act("flapping 1,2,3 | 4,5 every 3 s for 60 s")
        end = time.monotonic() + 60
        cuts = []
        while time.monotonic() < end:
            t = s.now()
            s.lab.partition("1,2,3|4,5")
            time.sleep(3)
            cuts.append((t, s.now()))  # the cut ends when healing starts
            s.lab.heal()
            time.sleep(3)
        s.act("last heal")
        # While cut, the 2 may serve only on grants from before the cut.
        for t0, t1 in cuts:
            never_served(s, [4, 5], t0 + LEASE_BOUND, t1, "minority during a cut")
        s.eventually(lambda: all_serving(s, range(1, 6)), HEAL_BOUND, "all 5 serve after the last heal")


def kill_two_of_three():
    """Kill 2 of 3: the survivor stops serving; restart them: all serve."""
    with Scenario("rkill2", 3, "10.80.5") as s:
        s.eventually(lambda: all_serving(s, [1, 2, 3]), FORM, "all 3 serve")
        s.act("kill -9 hosts 2 and 3")
        s.kill(2)
        s.kill(3)
        s.eventually(lambda: not s.serving(1), LEASE_BOUND, "host 1 alone stops serving")
        s.act("restart hosts 2 and 3")
        s.start(2)
        s.start(3)
        s.eventually(lambda: all_serving(s, [1, 2, 3]), HEAL_BOUND + 5, "all 3 serve again")


def purge_and_register():
    """Purge a stopped node; back with its old data it is refused (and says
    so); wiped and registered again it serves."""
    with Scenario("rpurge", 4, "10.80.6") as s:
        lab = s.lab
        s.eventually(lambda: all_serving(s, range(1, 5)), FORM, "all 4 serve")
        s.eventually(lambda: len((s.api(1, "GetClusterStatus")[1] or {}).get("roster", [])) == 4, 10,
                     "host 4 registered itself")
        s.act("stop host 4, purge it")
        s.stop(4)
        code, doc = s.api(1, "PurgeClusterNode", {"target_node_name": lab.node_name_of(4)})
        if code != 200 or lab.node_name_of(4) in doc["roster"]:
            raise ScenarioFailure("purge failed: %s %s" % (code, doc))
        s.act("start host 4 with its old data")
        s.start(4)
        s.wait_up(4)
        s.eventually(lambda: "NODE-PURGED" in s.ok(4), 15, "host 4 is refused: NODE-PURGED")
        code, doc = s.api(4, "RegisterClusterNode", {"contact_node_name": lab.node_name_of(1)})
        if code != 409 or doc.get("error") != "WIPE-DATA-FIRST":
            raise ScenarioFailure("register with old data: %s %s" % (code, doc))
        with open(os.path.join(lab.host_dir(4), "log", "cluster.jsonl")) as f:
            if "wipe data_dir" not in f.read():
                raise ScenarioFailure("host 4's log does not say to wipe its data")
        s.act("stop, wipe, start, register")
        s.stop(4)
        lab.wipe(4)
        s.start(4)
        s.eventually(lambda: "NODE-PURGED" in s.ok(4), 15, "wiped host 4 waits for registration")
        code, doc = s.api(4, "RegisterClusterNode", {"contact_node_name": lab.node_name_of(1)})
        if code != 200:
            raise ScenarioFailure("register after wipe: %s %s" % (code, doc))
        s.eventually(lambda: all_serving(s, range(1, 5)), 10, "all 4 serve")


def init_cluster():
    """Majority lost: stop all, wipe 2 of 3, start. The survivor's roster is
    restored (no second cluster), and InitCluster as in Sora's recovery
    procedure completes; with all 3 wiped the cluster forms again too."""
    with Scenario("rinit", 3, "10.80.7") as s:
        lab = s.lab
        names = [lab.node_name_of(i) for i in (1, 2, 3)]
        s.eventually(lambda: all_serving(s, [1, 2, 3]), FORM, "all 3 serve")
        before = cluster_ids(s, [1, 2, 3])
        s.act("stop all, wipe hosts 2 and 3, start all")
        for i in (1, 2, 3):
            s.stop(i)
        lab.wipe(2)
        lab.wipe(3)
        for i in (1, 2, 3):
            s.start(i)
        s.eventually(lambda: all_serving(s, [1, 2, 3]), FORM, "all 3 serve")
        after = cluster_ids(s, [1, 2, 3])
        if after != before:
            raise ScenarioFailure("cluster ids %s became %s" % (before, after))
        code, doc = s.api(2, "InitCluster", {"node_name_list": names})
        if code != 200:
            raise ScenarioFailure("InitCluster: %s %s" % (code, doc))
        s.act("stop all, wipe all, start, InitCluster")
        for i in (1, 2, 3):
            s.stop(i)
            lab.wipe(i)
        for i in (1, 2, 3):
            s.start(i)
        s.wait_up(1)
        code, doc = s.api(1, "InitCluster", {"node_name_list": names})
        if code != 200:
            raise ScenarioFailure("InitCluster after wiping all: %s %s" % (code, doc))
        s.eventually(lambda: all_serving(s, [1, 2, 3]), FORM, "all 3 serve")
        ids = cluster_ids(s, [1, 2, 3])
        if len(ids) != 1 or ids == before:
            raise ScenarioFailure("after InitCluster: cluster ids %s (before %s)" % (ids, before))


def rename():
    """Rename a node: stop, wipe, purge, change node_name, start, register."""
    with Scenario("rrename", 3, "10.80.8") as s:
        lab = s.lab
        s.eventually(lambda: all_serving(s, [1, 2, 3]), FORM, "all 3 serve")
        old = lab.node_name_of(3)
        s.act("stop host 3, wipe it, purge %s" % old)
        s.stop(3)
        lab.wipe(3)
        code, doc = s.api(1, "PurgeClusterNode", {"target_node_name": old})
        if code != 200:
            raise ScenarioFailure("purge: %s %s" % (code, doc))
        lab.hosts[3]["name"] = "renamed3"
        s.act("start it as %s and register" % lab.node_name_of(3))
        s.start(3)
        s.wait_up(3)
        code, doc = s.api(3, "RegisterClusterNode", {"contact_node_name": lab.node_name_of(1)})
        if code not in (200, 409) or (code == 409 and doc.get("error") != "ALREADY-REGISTERED"):
            raise ScenarioFailure("register: %s %s" % (code, doc))
        s.eventually(lambda: all_serving(s, [1, 2, 3]), FORM, "all 3 serve")
        roster = s.api(1, "GetClusterStatus")[1]["roster"]
        if sorted(roster) != sorted([lab.node_name_of(1), lab.node_name_of(2), lab.node_name_of(3)]):
            raise ScenarioFailure("roster is %s" % roster)


def rolling_update():
    """One node at a time: drain (ChangeMode), stop, start again, wait for
    /.ok 200, back to normal. The cluster keeps a serving majority all along."""
    with Scenario("rroll", 3, "10.80.9") as s:
        lab = s.lab
        s.eventually(lambda: all_serving(s, [1, 2, 3]), FORM, "all 3 serve")
        t0 = s.now()
        for i in (1, 2, 3):
            s.act("update host %d" % i)
            code, doc = s.api(i, "ChangeMode", {"mode": "block_new_connection"})
            if code != 200 or doc["mode"] != "block_new_connection":
                raise ScenarioFailure("ChangeMode: %s %s" % (code, doc))
            s.stop(i)
            s.start(i)
            s.eventually(lambda: s.serving(i), FORM, "host %d /.ok is 200 again" % i)
            s.api(i, "ChangeMode", {"mode": "normal"})
        others_ok = all(sum(1 for j in (1, 2, 3) if s.serving(j)) >= 2 for _ in [0])
        if not others_ok:
            raise ScenarioFailure("fewer than 2 serve at the end")
        # at every sample at least two nodes served
        with s.lock:
            by_time = {}
            for t, h, v, ok in s.samples:
                if t >= t0:
                    by_time.setdefault(round(t, 1), {})[h] = ok
        for t, oks in sorted(by_time.items()):
            if len(oks) == 3 and sum(1 for ok in oks.values() if ok == "200") < 2:
                raise ScenarioFailure("at %.1fs fewer than 2 nodes served: %s" % (t, oks))


def temporary_node():
    """A temporary node serves with the regular nodes' majority, and comes
    and goes without any roster change."""
    with Scenario("rtemp", 3, "10.80.10", temporary=1) as s:
        lab = s.lab
        s.eventually(lambda: all_serving(s, [1, 2, 3, 4]), FORM, "3 regular + 1 temporary serve")
        roster = s.api(1, "GetClusterStatus")[1]["roster"]
        if lab.node_name_of(4) in roster or len(roster) != 3:
            raise ScenarioFailure("the temporary node is in the roster: %s" % roster)
        s.act("throw the temporary node away (stop, wipe)")
        s.stop(4)
        lab.wipe(4)
        s.eventually(lambda: s.state(1, 4) == "left", 10, "listed as left")
        status = s.api(1, "GetClusterStatus")[1]
        if status["roster"] != roster or status["commit_index"] != s.api(2, "GetClusterStatus")[1]["commit_index"]:
            raise ScenarioFailure("roster changed: %s" % status)
        if not all_serving(s, [1, 2, 3]):
            raise ScenarioFailure("regular nodes stopped serving")


def full_disk():
    """log_dir on a full tmpfs: the node blocks new connections and says so;
    freed, it recovers by itself."""
    with Scenario("rdisk", 3, "10.80.11", start=False) as s:
        lab = s.lab
        logdir = os.path.join(lab.host_dir(2), "tmpfs-log")
        os.makedirs(logdir, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", logdir], check=True)
        try:
            lab.hosts[2]["log_dir"] = logdir
            for i in (1, 2, 3):
                s.start(i)
            s.eventually(lambda: all_serving(s, [1, 2, 3]), FORM, "all 3 serve")
            s.act("fill host 2's log_dir")
            subprocess.run(["dd", "if=/dev/zero", "of=" + os.path.join(logdir, "filler"), "bs=4k"],
                           capture_output=True)
            s.eventually(lambda: "FILES-NOT-WRITABLE" in s.ok(2), 10, "host 2 reports FILES-NOT-WRITABLE")
            st = s.api(2, "GetClusterStatus")[1]
            if st["effective_mode"] != "block_new_connection" or st["files_ok"]:
                raise ScenarioFailure("status: %s" % st)
            # gossip carries host 2's new mode on its next round (200 ms), which may
            # come after host 2's own /.ok already says so
            def host1_sees_block():
                nodes = s.api(1, "ListClusterNodes")[1]
                return nodes is not None and [m["mode"] for m in nodes if m["node_name"] ==
                                              lab.node_name_of(2)] == ["block_new_connection"]
            s.eventually(host1_sees_block, 2, "host 1 sees host 2 as block_new_connection")
            s.act("free the space")
            os.unlink(os.path.join(logdir, "filler"))
            s.eventually(lambda: s.serving(2), 10, "host 2 serves again")
        finally:
            for i in (1, 2, 3):
                if lab.hosts[i].get("pid"):
                    s.kill(i)
            subprocess.run(["umount", logdir])


SCENARIOS = {
    "formation": formation,
    "partition_3_2": partition_3_2,
    "partition_2_2_1": partition_2_2_1,
    "flapping": flapping,
    "kill_two_of_three": kill_two_of_three,
    "purge_and_register": purge_and_register,
    "init_cluster": init_cluster,
    "rename": rename,
    "rolling_update": rolling_update,
    "temporary_node": temporary_node,
    "full_disk": full_disk,
}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        sys.exit("usage: roster.py {%s}" % "|".join(SCENARIOS))
    run(SCENARIOS[sys.argv[1]])

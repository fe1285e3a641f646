/* test_raft.c - the roster log (Raft) driven by a fake clock, network and disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "raft.h"
#include "raft_wire.h"
#include "vec.h"

#define N_MAX 7

typedef struct msg {
    int64_t at;
    int dst;
    uint32_t len;
    uint8_t *data;
} msg;

typedef struct rnet {
    int64_t now;
    int n;
    raft *node[N_MAX];
    bool up[N_MAX];
    bool cut[N_MAX][N_MAX];
    uint8_t *disk[N_MAX];        /* last durable state */
    size_t disk_len[N_MAX];
    bool crash_after_persist[N_MAX]; /* crash right after the next write, before sending */
    raft_roster boot;
    msg *q;
    uint32_t qlen, qcap;
    shoal_rng rng;
    uint64_t done_id[N_MAX * 64];       /* (node, id): ids are per node */
    int done_node[N_MAX * 64];
    char done_err[N_MAX * 64][64];
    int ndone;
} rnet;

static void name_of(int i, char *buf) { snprintf(buf, WIRE_NAME_MAX + 1, "n%d@10.0.0.%d", i, i + 1); }

static int index_of(const char *name) {
    int i;
    return sscanf(name, "n%d@", &i) == 1 ? i : -1;
}

static raft *make(rnet *t, int i) {
    raft_config c;
    raft_config_default(&c);
    name_of(i, c.node_name);
    snprintf(c.cluster_name, sizeof c.cluster_name, "test");
    return raft_new(&c, t->disk[i], t->disk_len[i], &t->boot, shoal_rng_next(&t->rng), t->now);
}

static void net_init(rnet *t, int n, int boot_n, uint64_t seed) {
    memset(t, 0, sizeof *t);
    shoal_rng_seed(&t->rng, seed);
    t->n = n;
    t->now = 1000;
    t->boot.n = (uint32_t)boot_n;
    for (int i = 0; i < boot_n; i++) name_of(i, t->boot.names[i]);
    for (int i = 0; i < n; i++) {
        t->node[i] = make(t, i);
        t->up[i] = true;
    }
}

static void net_free(rnet *t) {
    for (int i = 0; i < t->n; i++) {
        raft_free(t->node[i]);
        free(t->disk[i]);
    }
    for (uint32_t i = 0; i < t->qlen; i++) free(t->q[i].data);
    free(t->q);
}

static void crash(rnet *t, int i) {
    raft_free(t->node[i]);
    t->node[i] = NULL;
    t->up[i] = false;
}

static void restart(rnet *t, int i) {
    t->node[i] = make(t, i);
    assert_non_null(t->node[i]);
    t->up[i] = true;
}

static void drain(rnet *t, int i) {
    raft *r = t->node[i];
    uint32_t n;
    const raft_event *ev = raft_events(r, &n);
    for (uint32_t k = 0; k < n; k++)
        if (ev[k].type == RAFT_EV_PROPOSAL_DONE && t->ndone < N_MAX * 64) {
            t->done_id[t->ndone] = ev[k].id;
            t->done_node[t->ndone] = i;
            snprintf(t->done_err[t->ndone], 64, "%s", ev[k].error);
            t->ndone++;
        }
    raft_events_clear(r);
    const core_out *o = outbox_items(raft_outbox(r), &n);
    bool crashing = false;
    for (uint32_t k = 0; k < n && !crashing; k++) {
        if (o[k].kind == RAFT_OUT_PERSIST) {
            free(t->disk[i]);
            t->disk[i] = malloc(o[k].len);
            memcpy(t->disk[i], o[k].data, o[k].len);
            t->disk_len[i] = o[k].len;
            if (t->crash_after_persist[i]) crashing = true;
            continue;
        }
        int dst = index_of(o[k].to);
        if (dst < 0 || dst >= t->n) continue;
        assert_true(array_grow(&t->q, &t->qcap, (size_t)t->qlen + 1, sizeof *t->q));
        msg *m = &t->q[t->qlen++];
        m->at = t->now + 1 + (int64_t)shoal_rng_below(&t->rng, 3);
        m->dst = dst;
        m->len = o[k].len;
        /* the sender index rides after the payload; cuts are checked on delivery */
        m->data = malloc(o[k].len + 1);
        memcpy(m->data, o[k].data, o[k].len);
        m->data[o[k].len] = (uint8_t)i;
    }
    outbox_clear(raft_outbox(r));
    if (crashing) {
        t->crash_after_persist[i] = false;
        crash(t, i);
    }
}

static void run(rnet *t, int64_t ms) {
    int64_t end = t->now + ms;
    while (t->now < end) {
        t->now++;
        for (uint32_t k = 0; k < t->qlen;) {
            msg m = t->q[k];
            if (m.at > t->now) {
                k++;
                continue;
            }
            t->q[k] = t->q[--t->qlen];
            int src = m.data[m.len];
            if (t->up[m.dst] && !t->cut[src][m.dst] && t->node[m.dst]) {
                char from[WIRE_NAME_MAX + 1];
                name_of(src, from);
                raft_recv(t->node[m.dst], t->now, from, m.data, m.len);
                drain(t, m.dst);
            }
            free(m.data);
        }
        for (int i = 0; i < t->n; i++) {
            if (!t->up[i] || !t->node[i]) continue;
            if (raft_next_deadline(t->node[i]) <= t->now) {
                raft_tick(t->node[i], t->now);
                drain(t, i);
            }
        }
    }
}

static int leader_count(rnet *t, int *who) {
    int c = 0;
    for (int i = 0; i < t->n; i++)
        if (t->up[i] && raft_get_role(t->node[i]) == RAFT_LEADER) {
            c++;
            if (who) *who = i;
        }
    return c;
}

static const char *done_error(rnet *t, int node, uint64_t id) {
    for (int i = 0; i < t->ndone; i++)
        if (t->done_id[i] == id && t->done_node[i] == node) return t->done_err[i];
    return NULL;
}

/* Tells every live node whether SWIM considers `dead_node` alive. */
static void swim_says(rnet *t, int dead_node, bool alive) {
    char name[WIRE_NAME_MAX + 1];
    name_of(dead_node, name);
    for (int i = 0; i < t->n; i++)
        if (t->up[i] && i != dead_node) {
            raft_set_member_down(t->node[i], t->now, name, !alive);
            drain(t, i);
        }
}

static bool committed_has(rnet *t, int i, int member) {
    char name[WIRE_NAME_MAX + 1];
    name_of(member, name);
    const raft_roster *r = raft_committed_roster(t->node[i]);
    for (uint32_t k = 0; k < r->n; k++)
        if (strcmp(r->names[k], name) == 0) return true;
    return false;
}

/* ---- tests --------------------------------------------------------------- */

static void test_formation(void **st) {
    (void)st;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        rnet t;
        net_init(&t, 3, 3, seed);
        run(&t, 3000);
        assert_int_equal(leader_count(&t, NULL), 1);
        uint64_t id = raft_committed_roster(t.node[0])->cluster_id;
        assert_true(id != 0);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(raft_committed_roster(t.node[i])->cluster_id, id);
            assert_int_equal(raft_committed_roster(t.node[i])->n, 3);
        }
        net_free(&t);
    }
}

static void test_lone_node_waits(void **st) {
    (void)st;
    rnet t;
    net_init(&t, 3, 3, 2);
    crash(&t, 1);
    crash(&t, 2);
    run(&t, 10000);
    assert_int_equal(raft_committed_roster(t.node[0])->cluster_id, 0);
    assert_int_equal(leader_count(&t, NULL), 0);
    restart(&t, 1); /* a second contact arrives minutes later: now a majority */
    run(&t, 3000);
    assert_true(raft_committed_roster(t.node[0])->cluster_id != 0);
    net_free(&t);
}

static void test_single_node_cluster(void **st) {
    (void)st;
    rnet t;
    net_init(&t, 1, 1, 3);
    run(&t, 3000); /* includes the formation delay */
    assert_int_equal(leader_count(&t, NULL), 1);
    assert_true(raft_committed_roster(t.node[0])->cluster_id != 0);
    net_free(&t);
}

static void test_add_through_follower(void **st) {
    (void)st;
    rnet t;
    net_init(&t, 4, 3, 4); /* node 3 is not in the contact list */
    run(&t, 3000);
    int leader = -1;
    assert_int_equal(leader_count(&t, &leader), 1);
    int follower = (leader + 1) % 3;
    char name[WIRE_NAME_MAX + 1];
    name_of(3, name);
    uint64_t id = raft_propose(t.node[follower], t.now, RAFT_ADD, name, NULL, 0);
    drain(&t, follower);
    run(&t, 3000);
    assert_string_equal(done_error(&t, follower, id), "");
    for (int i = 0; i < 4; i++) {
        assert_int_equal(raft_committed_roster(t.node[i])->n, 4);
        assert_true(committed_has(&t, i, 3));
    }
    net_free(&t);
}

static void test_leader_loss(void **st) {
    (void)st;
    rnet t;
    net_init(&t, 5, 5, 5);
    run(&t, 3000);
    int old = -1;
    assert_int_equal(leader_count(&t, &old), 1);
    crash(&t, old);
    swim_says(&t, old, false);
    run(&t, 2000);
    int now_leader = -1;
    assert_int_equal(leader_count(&t, &now_leader), 1);
    assert_true(now_leader != old);
    char name[WIRE_NAME_MAX + 1];
    name_of(old, name);
    int asker = (now_leader + 1) % 5 == old ? (now_leader + 2) % 5 : (now_leader + 1) % 5;
    uint64_t id = raft_propose(t.node[asker], t.now, RAFT_REMOVE, name, NULL, 0);
    drain(&t, asker);
    run(&t, 2000);
    assert_string_equal(done_error(&t, asker, id), "");
    assert_int_equal(raft_committed_roster(t.node[asker])->n, 4);
    net_free(&t);
}

/* After a node was added and purged, losing the leader still elects a new one. */
static void test_leader_loss_after_add_and_purge(void **st) {
    (void)st;
    rnet t;
    net_init(&t, 4, 3, 10);
    run(&t, 3000);
    int leader = -1;
    leader_count(&t, &leader);
    char n3[WIRE_NAME_MAX + 1];
    name_of(3, n3);
    uint64_t id = raft_propose(t.node[3], t.now, RAFT_ADD, n3, NULL, 0);
    drain(&t, 3);
    run(&t, 2000);
    assert_string_equal(done_error(&t, 3, id), "");
    id = raft_propose(t.node[leader], t.now, RAFT_REMOVE, n3, NULL, 0);
    drain(&t, leader);
    run(&t, 2000);
    assert_string_equal(done_error(&t, leader, id), "");
    crash(&t, leader);
    swim_says(&t, leader, false);
    run(&t, 3000);
    int next = -1;
    assert_int_equal(leader_count(&t, &next), 1);
    assert_true(next != leader && next != 3);
    net_free(&t);
}

/* Two purges at once: they are serialized, never both half-applied; every
 * node ends with the same roster and the same log. */
static void test_concurrent_purges(void **st) {
    (void)st;
    rnet t;
    net_init(&t, 5, 5, 6);
    run(&t, 3000);
    int leader = -1;
    leader_count(&t, &leader);
    int a = (leader + 1) % 5, b = (leader + 2) % 5;
    char na[WIRE_NAME_MAX + 1], nb[WIRE_NAME_MAX + 1];
    name_of((leader + 3) % 5, na);
    name_of((leader + 4) % 5, nb);
    uint64_t ida = raft_propose(t.node[a], t.now, RAFT_REMOVE, na, NULL, 0);
    uint64_t idb = raft_propose(t.node[b], t.now, RAFT_REMOVE, nb, NULL, 0);
    drain(&t, a);
    drain(&t, b);
    run(&t, 6000);
    const char *ea = done_error(&t, a, ida), *eb = done_error(&t, b, idb);
    assert_non_null(ea);
    assert_non_null(eb);
    int ok = (ea[0] == 0) + (eb[0] == 0);
    assert_true(ok >= 1);
    uint32_t expect = 5 - (uint32_t)ok;
    for (int i = 0; i < 5; i++) {
        if (!t.up[i]) continue;
        assert_int_equal(raft_last_index(t.node[i]), raft_last_index(t.node[leader]));
        for (uint64_t k = 1; k <= raft_commit_index(t.node[i]); k++)
            assert_int_equal(raft_entry_at(t.node[i], k)->term, raft_entry_at(t.node[leader], k)->term);
    }
    assert_int_equal(raft_committed_roster(t.node[leader])->n, expect);
    net_free(&t);
}

/* The leader and one follower are cut off (2 of 5): their purges of the
 * majority's members never commit, and the majority is untouched. */
static void test_minority_cannot_purge(void **st) {
    (void)st;
    rnet t;
    net_init(&t, 5, 5, 7);
    run(&t, 3000);
    int leader = -1;
    leader_count(&t, &leader);
    /* Renumber the partition so the leader is in the minority {leader, x}. */
    int x = (leader + 1) % 5;
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++) {
            bool ma = a == leader || a == x, mb = b == leader || b == x;
            t.cut[a][b] = ma != mb;
        }
    uint64_t ids[3];
    int k = 0;
    for (int v = 0; v < 5; v++) {
        if (v == leader || v == x) continue;
        char name[WIRE_NAME_MAX + 1];
        name_of(v, name);
        ids[k++] = raft_propose(t.node[leader], t.now, RAFT_REMOVE, name, NULL, 0);
        drain(&t, leader);
        if (k == 3) break;
    }
    run(&t, 7000);
    const char *e0 = done_error(&t, leader, ids[0]);
    assert_non_null(e0);
    assert_string_equal(e0, "ROSTER-CHANGE-TIMEOUT");
    for (int v = 0; v < 5; v++) assert_int_equal(raft_committed_roster(t.node[v])->n, 5);
    /* The majority side elects its own leader meanwhile and can change the roster. */
    for (int v = 0; v < 5; v++) {
        if (v == leader || v == x) continue;
        char lname[WIRE_NAME_MAX + 1];
        name_of(leader, lname);
        raft_set_member_down(t.node[v], t.now, lname, true);
        drain(&t, v);
    }
    run(&t, 2000);
    int majority_leaders = 0;
    for (int v = 0; v < 5; v++)
        if (v != leader && v != x && raft_get_role(t.node[v]) == RAFT_LEADER) majority_leaders++;
    assert_int_equal(majority_leaders, 1);
    memset(t.cut, 0, sizeof t.cut);
    run(&t, 3000);
    assert_int_equal(leader_count(&t, NULL), 1); /* the old leader stepped down */
    net_free(&t);
}

/* A node crashes after its state is on disk but before it acknowledged: on
 * restart it still has the entry, and a committed entry is never lost. */
static void test_restart_between_store_and_ack(void **st) {
    (void)st;
    rnet t;
    net_init(&t, 3, 3, 8);
    run(&t, 3000);
    int leader = -1;
    leader_count(&t, &leader);
    int f = (leader + 1) % 3;
    t.crash_after_persist[f] = true;
    char name[WIRE_NAME_MAX + 1];
    name_of(5, name);
    uint64_t id = raft_propose(t.node[leader], t.now, RAFT_ADD, name, NULL, 0);
    drain(&t, leader);
    run(&t, 500);
    assert_false(t.up[f]);
    restart(&t, f);
    run(&t, 3000);
    assert_string_equal(done_error(&t, leader, id), "");
    for (int i = 0; i < 3; i++) assert_true(committed_has(&t, i, 5));
    /* Every node crashes and restarts from disk: the roster survives. */
    for (int i = 0; i < 3; i++) crash(&t, i);
    for (int i = 0; i < 3; i++) restart(&t, i);
    run(&t, 3000);
    for (int i = 0; i < 3; i++) assert_true(committed_has(&t, i, 5));
    net_free(&t);
}

static void test_init_cluster(void **st) {
    (void)st;
    rnet t;
    net_init(&t, 3, 0, 9); /* no bootstrap: nobody forms anything */
    run(&t, 2000);
    assert_int_equal(leader_count(&t, NULL), 0);
    raft_roster list = {.n = 3};
    for (int i = 0; i < 3; i++) name_of(i, list.names[i]);
    /* Every node gets the same list (the operator's InitCluster), one asks. */
    uint64_t id = raft_propose(t.node[1], t.now, RAFT_INIT, NULL, &list, 0);
    drain(&t, 1);
    run(&t, 3000);
    assert_string_equal(done_error(&t, 1, id), "");
    uint64_t cid = raft_committed_roster(t.node[1])->cluster_id;
    assert_true(cid != 0);
    uint64_t again = raft_propose(t.node[1], t.now, RAFT_INIT, NULL, &list, 0);
    drain(&t, 1);
    assert_string_equal(done_error(&t, 1, again), "CLUSTER-ALREADY-INITIALIZED");
    net_free(&t);
}

/* A majority lost its data: the two wiped nodes must not form a new cluster
 * beside the survivor; the survivor's roster is restored to them. */
static void test_survivor_data_wins(void **st) {
    (void)st;
    for (uint64_t seed = 20; seed < 30; seed++) {
        rnet t;
        net_init(&t, 3, 3, seed);
        run(&t, 3000);
        uint64_t id = raft_committed_roster(t.node[0])->cluster_id;
        for (int i = 0; i < 3; i++) crash(&t, i);
        for (int i = 1; i < 3; i++) {
            free(t.disk[i]);
            t.disk[i] = NULL;
            t.disk_len[i] = 0;
        }
        for (int i = 0; i < 3; i++) restart(&t, i);
        run(&t, 5000);
        for (int i = 0; i < 3; i++) assert_int_equal(raft_committed_roster(t.node[i])->cluster_id, id);
        net_free(&t);
    }
}

/* The state file: round trip, and every flipped byte or truncation refused. */
static void test_state_file_checked(void **st) {
    (void)st;
    raft_entry e[2] = {0};
    e[0].term = 1;
    e[0].kind = RAFT_INIT;
    e[0].roster.cluster_id = 77;
    e[0].roster.n = 2;
    snprintf(e[0].roster.names[0], WIRE_NAME_MAX + 1, "a@1.1.1.1");
    snprintf(e[0].roster.names[1], WIRE_NAME_MAX + 1, "b@1.1.1.2");
    e[1] = e[0];
    e[1].term = 2;
    e[1].kind = RAFT_NOOP;
    size_t len;
    uint8_t *buf = raft_state_encode(2, "a@1.1.1.1", 1, e, 2, &len);
    assert_non_null(buf);
    uint64_t term, commit, n;
    char voted[WIRE_NAME_MAX + 1];
    raft_entry *out;
    assert_true(raft_decode_state(buf, len, &term, voted, &commit, &out, &n));
    assert_int_equal(term, 2);
    assert_int_equal(commit, 1);
    assert_int_equal(n, 2);
    assert_string_equal(voted, "a@1.1.1.1");
    assert_int_equal(out[0].roster.cluster_id, 77);
    assert_string_equal(out[1].roster.names[1], "b@1.1.1.2");
    free(out);
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0x20;
        assert_false(raft_decode_state(buf, len, &term, voted, &commit, &out, &n));
        buf[i] ^= 0x20;
    }
    for (size_t l = 0; l < len; l++)
        assert_false(raft_decode_state(buf, l, &term, voted, &commit, &out, &n));
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formation),
        cmocka_unit_test(test_lone_node_waits),
        cmocka_unit_test(test_single_node_cluster),
        cmocka_unit_test(test_add_through_follower),
        cmocka_unit_test(test_leader_loss),
        cmocka_unit_test(test_leader_loss_after_add_and_purge),
        cmocka_unit_test(test_concurrent_purges),
        cmocka_unit_test(test_minority_cannot_purge),
        cmocka_unit_test(test_restart_between_store_and_ack),
        cmocka_unit_test(test_init_cluster),
        cmocka_unit_test(test_survivor_data_wins),
        cmocka_unit_test(test_state_file_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

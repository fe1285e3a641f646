/* test_node_core.c - three node cores (node/core) on an in-memory network,
 * with a virtual clock: they form a cluster from their contact lists and
 * serve; a client is admitted by the channel's node, a second one entering
 * elsewhere is redirected there; max_connections refuses with its reason;
 * the auth webhook's verdict is waited for; a node cut off from the others
 * closes its client; a client's leaving closes its channel everywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node_core.h"
#include "vec.h"

#define N 3
#define PORT 49010
#define DELAY_MS 1

typedef struct pkt {
    int64_t at;
    int from, to;
    bool stream;
    uint64_t conn;               /* stream: != 0 a request (answered on that id), 0 a reply */
    uint32_t len;
    uint8_t *data;
} pkt;

typedef struct world {
    int64_t now;
    node_core *nc[N];
    uint8_t *disk[N];
    size_t disk_len[N];
    bool cut[N];                 /* node i hears nothing and is heard by nobody */
    pkt *q;
    uint32_t nq, capq;
    uint64_t next_conn;
    struct { uint64_t conn; int from; } asked[256];
    ncore_client_event seen[256]; /* client events, in order */
    int nseen;
    int seen_node[256];
    int channels_open, channels_closed;
} world;

static world W;

static shoal_addr addr_of(int i) { return (shoal_addr){0x7f000001u + (uint32_t)i, PORT}; }
static int node_of(shoal_addr a) { return (int)(a.ip - 0x7f000001u); }

static int persist(void *ctx, const uint8_t *data, size_t len, char *err, size_t errlen) {
    int i = (int)(intptr_t)ctx;
    (void)err, (void)errlen;
    free(W.disk[i]);
    W.disk[i] = malloc(len);
    memcpy(W.disk[i], data, len);
    W.disk_len[i] = len;
    return 0;
}

static void enqueue(int from, int to, bool stream, uint64_t conn, const uint8_t *data, uint32_t len) {
    assert_true(array_grow(&W.q, &W.capq, (size_t)W.nq + 1, sizeof *W.q));
    pkt p = {.at = W.now + DELAY_MS, .from = from, .to = to, .stream = stream, .conn = conn, .len = len,
             .data = malloc(len)};
    memcpy(p.data, data, len);
    W.q[W.nq++] = p;
}

/* Everything node i queued goes onto the network; its events are noted. */
static void drain(int i) {
    uint32_t n;
    const core_out *o = outbox_items(ncore_outbox(W.nc[i]), &n);
    for (uint32_t k = 0; k < n; k++) {
        int to = node_of(o[k].addr);
        if (to < 0 || to >= N) continue;
        if (o[k].kind == SWIM_OUT_PACKET) {
            enqueue(i, to, false, 0, o[k].data, o[k].len);
        } else if (o[k].conn_id == 0) { /* a new stream: request with a fresh id */
            enqueue(i, to, true, ++W.next_conn, o[k].data + 4, o[k].len - 4);
            W.asked[W.next_conn % 256].conn = W.next_conn;
            W.asked[W.next_conn % 256].from = i;
        } else { /* the reply on an accepted stream */
            int back = W.asked[o[k].conn_id % 256].from;
            enqueue(i, back, true, 0, o[k].data + 4, o[k].len - 4);
        }
    }
    outbox_clear(ncore_outbox(W.nc[i]));
    const ncore_event *ev = ncore_events(W.nc[i], &n);
    for (uint32_t k = 0; k < n; k++) {
        if (ev[k].kind == NCORE_EV_CLIENT && W.nseen < 256) {
            W.seen_node[W.nseen] = i;
            W.seen[W.nseen++] = ev[k].client;
        }
        if (ev[k].kind == NCORE_EV_CHANNEL) *(ev[k].channel.opened ? &W.channels_open : &W.channels_closed) += 1;
    }
    ncore_events_clear(W.nc[i]);
    ncore_cluster_events_clear(W.nc[i]);
}

static void start(int i, uint32_t max_connections, bool auth) {
    swim_contact contacts[N];
    for (int k = 0; k < N; k++) {
        snprintf(contacts[k].name, sizeof contacts[k].name, "n%d@127.0.0.%d", k + 1, k + 1);
        contacts[k].addr = addr_of(k);
    }
    ncore_config c = {.addr = addr_of(i), .contacts = contacts, .ncontacts = N, .seed = 1000 + (uint64_t)i,
                      .max_connections = max_connections, .bounded_load_epsilon = 0.25, .auth = auth,
                      .state = W.disk[i], .state_len = W.disk_len[i]};
    snprintf(c.cluster_name, sizeof c.cluster_name, "unit");
    snprintf(c.node_name, sizeof c.node_name, "n%d@127.0.0.%d", i + 1, i + 1);
    snprintf(c.meta.version, sizeof c.meta.version, "test");
    snprintf(c.meta.url, sizeof c.meta.url, "ws://127.0.0.%d:5000/signaling", i + 1);
    c.meta.weight = 100;
    ncore_env env = {.ctx = (void *)(intptr_t)i, .persist = persist};
    char err[256];
    W.nc[i] = ncore_new(&c, &env, W.now, err, sizeof err);
    if (W.nc[i] == NULL) fail_msg("ncore_new: %s", err);
    drain(i);
}

static void setup_world(uint32_t max_connections, bool auth) {
    memset(&W, 0, sizeof W);
    W.now = 1000;
    for (int i = 0; i < N; i++) start(i, max_connections, auth);
}

static void teardown_world(void) {
    for (int i = 0; i < N; i++) {
        ncore_free(W.nc[i]);
        free(W.disk[i]);
    }
    for (uint32_t k = 0; k < W.nq; k++) free(W.q[k].data);
    free(W.q);
}

/* Runs the world for ms of virtual time: deliveries and deadlines in order. */
static void run(int64_t ms) {
    int64_t end = W.now + ms;
    while (W.now < end) {
        int64_t next = end;
        for (uint32_t k = 0; k < W.nq; k++)
            if (W.q[k].at < next) next = W.q[k].at;
        for (int i = 0; i < N; i++) {
            int64_t d = ncore_next_deadline(W.nc[i], W.now);
            if (d < next) next = d;
        }
        if (next > W.now) W.now = next;
        for (uint32_t k = 0; k < W.nq;) {
            if (W.q[k].at > W.now) {
                k++;
                continue;
            }
            pkt p = W.q[k];
            W.q[k] = W.q[--W.nq];
            if (!W.cut[p.from] && !W.cut[p.to]) {
                if (p.stream) ncore_recv_stream(W.nc[p.to], W.now, addr_of(p.from), p.conn, p.data, p.len);
                else ncore_recv_packet(W.nc[p.to], W.now, addr_of(p.from), p.data, p.len);
                drain(p.to);
            }
            free(p.data);
        }
        for (int i = 0; i < N; i++)
            if (ncore_next_deadline(W.nc[i], W.now) <= W.now) {
                ncore_tick(W.nc[i], W.now);
                drain(i);
            }
    }
}

static bool all_serve(void) {
    for (int i = 0; i < N; i++)
        if (!ccore_serving(ncore_cluster(W.nc[i]))) return false;
    return true;
}

/* The last client event of client c. */
static const ncore_client_event *last_for(ncore_client c, int node) {
    for (int k = W.nseen; k-- > 0;)
        if (W.seen[k].client == c && W.seen_node[k] == node) return &W.seen[k];
    return NULL;
}

static void form(void) {
    for (int k = 0; k < 200 && !all_serve(); k++) run(100);
    assert_true(all_serve());
    run(3000); /* loads and the ring settle */
}

static void cluster_forms_and_serves(void **state) {
    (void)state;
    setup_world(100, false);
    form();
    for (int i = 0; i < N; i++) {
        assert_int_equal(ccore_reason(ncore_cluster(W.nc[i])), SHOAL_OK);
        assert_int_equal(ncore_ring(W.nc[i])->r.nnodes, N); /* every node's ring holds all three */
    }
    teardown_world();
}

/* Connects a client for channel at node i; returns its handle. */
static ncore_client connect_at(int i, const char *channel, bool redirected, void *user) {
    ncore_client c = ncore_client_open(W.nc[i], user);
    assert_int_not_equal(c, 0);
    ncore_client_connect(W.nc[i], W.now, c, channel, 0, redirected);
    drain(i);
    run(50);
    return c;
}

static void admitted_at_the_channels_node_redirected_elsewhere(void **state) {
    (void)state;
    setup_world(100, false);
    form();
    /* the entry node redirects a new channel to the ring's choice, which claims and admits */
    int entry = 0;
    ncore_client c = connect_at(entry, "room", false, (void *)1);
    const ncore_client_event *e = last_for(c, entry);
    assert_non_null(e);
    int holder = entry;
    if (e->action == NCORE_REDIRECT) {
        holder = e->to[1] - '1'; /* "nK@127.0.0.K" */
        ncore_client_gone(W.nc[entry], W.now, c);
        c = connect_at(holder, "room", true, (void *)1);
        e = last_for(c, holder);
    }
    assert_non_null(e);
    assert_int_equal(e->action, NCORE_ADMIT);
    assert_true(ncore_claim_valid(W.nc[holder], W.now, "room"));
    assert_int_equal(W.channels_open, 1);
    ncore_channel_info info;
    assert_true(ncore_channel(W.nc[holder], "room", &info));
    assert_int_equal(info.members, 1);
    run(500); /* the table spreads */
    /* a client entering at another node goes to the holder, by the table */
    int other = (holder + 1) % N;
    ncore_client d = connect_at(other, "room", false, (void *)2);
    e = last_for(d, other);
    assert_non_null(e);
    assert_int_equal(e->action, NCORE_REDIRECT);
    char want[64];
    snprintf(want, sizeof want, "n%d@127.0.0.%d", holder + 1, holder + 1);
    assert_string_equal(e->to, want);
    snprintf(want, sizeof want, "ws://127.0.0.%d:5000/signaling", holder + 1);
    assert_string_equal(e->url, want);
    ncore_client_gone(W.nc[other], W.now, d);
    /* the last client leaving closes the channel, and every table forgets it */
    ncore_client_gone(W.nc[holder], W.now, c);
    drain(holder);
    assert_int_equal(W.channels_closed, 1);
    run(1500);
    for (int i = 0; i < N; i++) assert_string_equal(chtable_holder(ncore_table(W.nc[i]), "room"), "");
    teardown_world();
}

static void max_connections_refuses_with_its_reason(void **state) {
    (void)state;
    setup_world(1, false);
    form();
    ncore_client a = connect_at(0, "solo", true, (void *)1); /* redirected: claims here */
    assert_int_equal(last_for(a, 0)->action, NCORE_ADMIT);
    ncore_client b = connect_at(0, "solo", true, (void *)2);
    const ncore_client_event *e = last_for(b, 0);
    assert_int_equal(e->action, NCORE_REJECT);
    assert_int_equal(e->outcome, SHOAL_NODE_FULL);
    assert_int_equal(e->code, 1013);
    assert_string_equal(e->text, "NODE-FULL: max_connections reached");
    assert_int_equal(ncore_stats_of(W.nc[0])->rejected[SHOAL_NODE_FULL], 1);
    teardown_world();
}

static void the_auth_webhook_is_waited_for(void **state) {
    (void)state;
    setup_world(100, true);
    form();
    ncore_client a = connect_at(1, "hooked", true, (void *)1);
    assert_int_equal(last_for(a, 1)->action, NCORE_AUTH);
    assert_int_equal(ncore_stats_of(W.nc[1])->pending, 1);
    ncore_client_auth(W.nc[1], W.now, a, SHOAL_OK, "");
    drain(1);
    assert_int_equal(last_for(a, 1)->action, NCORE_ADMIT);
    ncore_client b = connect_at(1, "hooked", true, (void *)2);
    ncore_client_auth(W.nc[1], W.now, b, SHOAL_AUTH_REJECTED, "bad token");
    drain(1);
    const ncore_client_event *e = last_for(b, 1);
    assert_int_equal(e->action, NCORE_REJECT);
    assert_int_equal(e->code, 1008);
    assert_string_equal(e->text, "AUTH-REJECTED: bad token");
    teardown_world();
}

static void a_cut_off_node_closes_its_clients(void **state) {
    (void)state;
    setup_world(100, false);
    form();
    ncore_client a = connect_at(2, "alone", true, (void *)1);
    assert_int_equal(last_for(a, 2)->action, NCORE_ADMIT);
    W.cut[2] = true;
    int64_t cut_at = W.now;
    while (W.now - cut_at < 10000 && last_for(a, 2)->action != NCORE_CLOSE) run(10);
    const ncore_client_event *e = last_for(a, 2);
    assert_int_equal(e->action, NCORE_CLOSE);
    assert_int_equal(e->outcome, SHOAL_CLUSTER_NOT_MAJORITY);
    assert_string_equal(e->text, "CLUSTER-NOT-MAJORITY: this node does not serve now");
    /* within the lease (2 s) and one enforcement tick */
    assert_true(W.now - cut_at <= 2000 + 100 + 10);
    /* an event queued for a client that is gone is dropped before anyone reads it */
    ncore_client b = ncore_client_open(W.nc[2], (void *)2);
    ncore_client_connect(W.nc[2], W.now, b, "alone", 0, true);
    ncore_client_gone(W.nc[2], W.now, b);
    uint32_t n;
    const ncore_event *ev = ncore_events(W.nc[2], &n);
    for (uint32_t k = 0; k < n; k++)
        if (ev[k].kind == NCORE_EV_CLIENT && ev[k].client.client == b) assert_null(ev[k].client.user);
    teardown_world();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cluster_forms_and_serves),
        cmocka_unit_test(admitted_at_the_channels_node_redirected_elsewhere),
        cmocka_unit_test(max_connections_refuses_with_its_reason),
        cmocka_unit_test(the_auth_webhook_is_waited_for),
        cmocka_unit_test(a_cut_off_node_closes_its_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

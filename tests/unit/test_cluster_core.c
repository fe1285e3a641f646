/* test_cluster_core.c - one node's roster, lease and serving decision
 * (gossip/cluster_core.h) on its own: an empty node does not serve and
 * says why; InitCluster with itself alone forms a one-node cluster that
 * serves and persists its roster; that state brings the cluster back on a
 * restart, and a corrupt one is refused with a reason; failing files and a
 * graceful leave stop serving with their reasons; operator errors name
 * themselves. (Three nodes together: test_node_core.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster_core.h"

typedef struct disk {
    uint8_t *data;
    size_t len;
    bool fail;
} disk;

static int persist(void *ctx, const uint8_t *data, size_t len, char *err, size_t errlen) {
    disk *d = ctx;
    if (d->fail) {
        snprintf(err, errlen, "disk full");
        return -1;
    }
    free(d->data);
    d->data = malloc(len);
    memcpy(d->data, data, len);
    d->len = len;
    return 0;
}

static void nosend(void *ctx, shoal_addr to, const uint8_t *data, size_t len) { (void)ctx, (void)to, (void)data, (void)len; }

typedef struct node {
    swim *g;
    cluster_core *c;
} node;

#define NAME "solo@127.0.0.9"

static node make(disk *d, bool temporary, char *err) {
    swim_config sc;
    swim_config_default(&sc);
    snprintf(sc.cluster_name, sizeof sc.cluster_name, "unit");
    snprintf(sc.node_name, sizeof sc.node_name, NAME);
    sc.addr = (shoal_addr){0x7f000009u, 49010};
    node n = {.g = swim_new(&sc, 1, 0)};
    ccore_config cc;
    ccore_config_default(&cc);
    snprintf(cc.node_name, sizeof cc.node_name, NAME);
    snprintf(cc.cluster_name, sizeof cc.cluster_name, "unit");
    cc.cluster_port = 49010;
    cc.temporary = temporary;
    ccore_env env = {.ctx = d, .persist = persist, .send = nosend};
    n.c = ccore_new(&cc, &env, n.g, d->data, d->len, 2, 0, err, CCORE_ERROR_MAX);
    return n;
}

static void drop(node *n) {
    ccore_free(n->c);
    swim_free(n->g);
}

static void run(node *n, int64_t from, int64_t to) {
    for (int64_t t = from; t <= to; t += 10) {
        swim_tick(n->g, t);
        ccore_tick(n->c, t);
        ccore_events_clear(n->c);
        outbox_clear(swim_outbox(n->g));
        swim_events_clear(n->g);
    }
}

static void one_node_cluster_lifecycle(void **state) {
    (void)state;
    disk d = {0};
    char err[CCORE_ERROR_MAX];
    node n = make(&d, false, err);
    assert_non_null(n.c);
    assert_false(ccore_serving(n.c));
    assert_int_equal(ccore_reason_now(n.c, 0), SHOAL_CLUSTER_NOT_INITIALIZED);
    uint64_t id;
    const char names[1][WIRE_NAME_MAX + 1] = {NAME};
    const char bad[1][WIRE_NAME_MAX + 1] = {"no-address"};
    assert_string_equal(ccore_init(n.c, 10, bad, 1, &id), "INVALID-NODE-LIST");
    assert_null(ccore_init(n.c, 10, names, 1, &id));
    run(&n, 10, 3000);
    assert_true(ccore_serving(n.c));
    assert_int_equal(ccore_reason_now(n.c, 3000), SHOAL_OK);
    assert_true(ccore_is_member(n.c, NAME));
    assert_true(d.len > 0); /* the roster is on disk */
    assert_true(ccore_state_cluster_id(d.data, d.len) != 0);
    assert_string_equal(ccore_register(n.c, 3000, NULL, &id), "ALREADY-REGISTERED");

    /* files that cannot be written stop serving, and admissions with it */
    ccore_set_files(n.c, 3010, false, "data_dir: Input/output error");
    assert_int_equal(ccore_reason_now(n.c, 3010), SHOAL_FILES_NOT_WRITABLE);
    assert_int_equal(ccore_effective_mode(n.c), WIRE_MODE_BLOCK_NEW_CONNECTION);
    ccore_set_files(n.c, 3020, true, "");
    run(&n, 3020, 3500);
    assert_true(ccore_serving(n.c));
    drop(&n);

    /* restarted from its state: the same cluster, serving again */
    n = make(&d, false, err);
    assert_non_null(n.c);
    run(&n, 0, 3000);
    assert_true(ccore_serving(n.c));
    ccore_set_leaving(n.c, 3010);
    assert_int_equal(ccore_reason_now(n.c, 3010), SHOAL_NODE_LEAVING);
    drop(&n);

    /* a corrupt state file is refused, never replaced */
    d.data[d.len / 2] ^= 0xff;
    node bad_node = make(&d, false, err);
    assert_null(bad_node.c);
    assert_true(strlen(err) > 0);
    swim_free(bad_node.g);
    free(d.data);
}

static void temporary_nodes_are_never_in_the_roster(void **state) {
    (void)state;
    disk d = {0};
    char err[CCORE_ERROR_MAX];
    node n = make(&d, true, err);
    uint64_t id;
    assert_string_equal(ccore_register(n.c, 0, NULL, &id), "TEMPORARY-NODE");
    assert_int_equal(ccore_reason_now(n.c, 0), SHOAL_CLUSTER_NOT_INITIALIZED);
    drop(&n);
    free(d.data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_node_cluster_lifecycle),
        cmocka_unit_test(temporary_nodes_are_never_in_the_roster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

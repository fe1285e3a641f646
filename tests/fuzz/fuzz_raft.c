/* fuzz_raft.c - libFuzzer target: arbitrary bytes as a Raft datagram (to the
 * decoder and to a live Raft core) and as a persisted Raft state file. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lease.h"
#include "raft.h"
#include "raft_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    raft_header h;
    raft_msg *m = malloc(sizeof *m);
    if (m == NULL) return 0;
    raft_wire_decode(data, size, &h, m);
    free(m);

    uint64_t term, commit, n;
    char voted[WIRE_NAME_MAX + 1];
    raft_entry *entries = NULL;
    if (raft_decode_state(data, size, &term, voted, &commit, &entries, &n)) free(entries);

    raft_config c;
    raft_config_default(&c);
    snprintf(c.node_name, sizeof c.node_name, "n0@10.0.0.1");
    snprintf(c.cluster_name, sizeof c.cluster_name, "fuzz");
    raft_roster boot = {.n = 3};
    for (int i = 0; i < 3; i++) snprintf(boot.names[i], WIRE_NAME_MAX + 1, "n%d@10.0.0.%d", i, i + 1);
    raft *r = raft_new(&c, NULL, 0, &boot, 1, 1000);
    raft_recv(r, 1001, "n1@10.0.0.2", data, size);
    for (int64_t t = 1100; t < 3000; t += 100) raft_tick(r, t);
    raft_recv(r, 3001, "n1@10.0.0.2", data, size);
    raft_free(r);
    /* A lease datagram. */
    lease_config lc;
    lease_config_default(&lc);
    snprintf(lc.node_name, sizeof lc.node_name, "n0@10.0.0.1");
    snprintf(lc.cluster_name, sizeof lc.cluster_name, "fuzz");
    lease *l = lease_new(&lc, 1000);
    lease_set_roster(l, &boot);
    lease_tick(l, 1000);
    lease_recv(l, 1001, data, size);
    lease_free(l);
    /* The state file path too, when it decodes. */
    r = raft_new(&c, data, size, &boot, 1, 1000);
    if (r) {
        raft_tick(r, 5000);
        raft_free(r);
    }
    return 0;
}

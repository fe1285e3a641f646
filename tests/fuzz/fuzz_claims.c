/* fuzz_claims.c - libFuzzer target: arbitrary bytes as a channel-claims
 * datagram, to a claims core that holds a claim and records of its own. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "claims.h"
#include "lease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    raft_roster ro = {.cluster_id = 1, .n = 3};
    for (int i = 0; i < 3; i++) snprintf(ro.names[i], WIRE_NAME_MAX + 1, "n%d@10.0.0.%d", i, i + 1);
    lease_config lc;
    lease_config_default(&lc);
    snprintf(lc.node_name, sizeof lc.node_name, "n0@10.0.0.1");
    snprintf(lc.cluster_name, sizeof lc.cluster_name, "fuzz");
    lease *l = lease_new(&lc, 1000);
    lease_set_roster(l, &ro);
    claims_config cc;
    claims_config_default(&cc);
    snprintf(cc.node_name, sizeof cc.node_name, "n0@10.0.0.1");
    snprintf(cc.cluster_name, sizeof cc.cluster_name, "fuzz");
    claims *c = claims_new(&cc);
    claims_acquire(c, 1000, l, &ro, "room");
    claims_recv(c, 1001, l, &ro, data, size);
    claims_tick(c, 3000, l, &ro);
    claims_recv(c, 3001, l, &ro, data, size);
    claims_free(c);
    lease_free(l);
    return 0;
}

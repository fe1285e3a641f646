/* route.c - where a client's connect goes (see route.h). */
#include "route.h"

#include <string.h>

#include "wire.h"

static route_out out(route_action a, const char *to, shoal_outcome reason) {
    return (route_out){.action = a, .to = to, .reason = reason};
}

static bool elsewhere(const char *node, const char *self) { return node != NULL && node[0] && strcmp(node, self) != 0; }

/* A redirect, unless the node is suspected and the client may still wait. */
static route_out send_to(const route_in *in, const char *node, bool suspect) {
    return out(suspect && !in->hold_expired ? ROUTE_HOLD : ROUTE_REDIRECT, node, SHOAL_OK);
}

route_out route_decide(const route_in *in) {
    if (in->not_serving != SHOAL_OK) return out(ROUTE_REJECT, NULL, in->not_serving);
    if (in->claim_valid)
        return in->mode == WIRE_MODE_BLOCK_NEW_CONNECTION ? out(ROUTE_REJECT, NULL, SHOAL_NODE_BLOCKS_NEW_CONNECTIONS)
                                                          : out(ROUTE_ADMIT, NULL, SHOAL_OK);
    if (in->claim_pending) return out(ROUTE_WAIT, NULL, SHOAL_OK);
    if (!in->redirected) {
        if (elsewhere(in->table_holder, in->self)) return send_to(in, in->table_holder, in->table_holder_suspect);
        if (in->ring_owner == NULL || in->ring_owner[0] == '\0') return out(ROUTE_REJECT, NULL, SHOAL_CLUSTER_FULL);
        if (elsewhere(in->ring_owner, in->self)) return send_to(in, in->ring_owner, in->ring_owner_suspect);
    }
    if (in->mode == WIRE_MODE_BLOCK_NEW_CONNECTION) return out(ROUTE_REJECT, NULL, SHOAL_NODE_BLOCKS_NEW_CONNECTIONS);
    if (in->mode == WIRE_MODE_BLOCK_NEW_SESSION) return out(ROUTE_REJECT, NULL, SHOAL_NODE_BLOCKS_NEW_SESSIONS);
    return out(ROUTE_CLAIM, NULL, SHOAL_OK);
}

route_out route_refused(const char *holder, bool holder_suspect, bool hold_expired) {
    route_in in = {.hold_expired = hold_expired};
    return send_to(&in, holder, holder_suspect);
}

const char *route_action_name(route_action a) {
    static const char *const names[] = {"admit", "wait", "claim", "redirect", "reject", "hold"};
    return a <= ROUTE_HOLD ? names[a] : "?";
}

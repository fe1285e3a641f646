/* accept_guard.c - closes sockets accepted when too few descriptors are
 * left (see fd_limit.h): a flood of connections is refused one by one
 * instead of driving accept() into EMFILE, where libwebsockets' loop spins. */
#include <jansson.h>

#include "node.h"

#define REFUSED_LOG_MS 10000 /* at most one log line per 10 s in a flood */

int node_accept_filter(shoal_node *node, int fd, uint32_t headroom) {
    if (fd_limit_accept_ok(&node->fdl, fd, headroom)) return 0;
    node->accept_refused++;
    int64_t now = node_now_ms();
    if (node->accept_refused_logged_ms == 0 || now - node->accept_refused_logged_ms >= REFUSED_LOG_MS) {
        node->accept_refused_logged_ms = now;
        shoal_log_event(&node->log, "accept_refused",
                        json_pack("{s:i, s:I, s:I, s:I}", "fd", fd, "limit", (json_int_t)node->fdl.limit, "headroom",
                                  (json_int_t)headroom, "refused_total", (json_int_t)node->accept_refused));
    }
    return 1;
}

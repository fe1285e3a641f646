/* api_http.h - the HTTP API served by libwebsockets on the node's libev loop. */
#ifndef SHOAL_API_HTTP_H
#define SHOAL_API_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

#define API_MAX_BODY (64 * 1024)  /* larger request bodies get 413 */

/* Creates the node's lws context on node->loop and the API's vhost on the
 * API port of the listen address. Returns 0, or -1 with a message in err. */
int api_http_start(shoal_node *node, char *err, size_t errlen);
void api_http_stop(shoal_node *node);

/* Answers the request waiting for roster proposal `id` (shoald.c, on the
 * cluster core's PROPOSAL_DONE event). */
void api_http_proposal_done(shoal_node *node, uint64_t id, const char *error);

#endif

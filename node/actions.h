/* actions.h - what the HTTP API answers, separate from the HTTP plumbing so
 * that it can be tested without sockets. Every function returns a status
 * code and a JSON document (owned by the caller, free with free()). */
#ifndef SHOAL_ACTIONS_H
#define SHOAL_ACTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

typedef struct api_reply {
    int status;          /* 0: not yet - the answer comes with proposal `pending_id` */
    char *body;          /* JSON or Prometheus text; malloc'd */
    const char *content_type;
    uint64_t pending_id;
} api_reply;

/* The answer to a roster change once its proposal finished. */
api_reply actions_proposal_reply(shoal_node *node, const char *error);

/* POST / with x-shoal-target: target and the request body (may be empty). */
api_reply actions_post(shoal_node *node, const char *target, const char *body, size_t len);
/* GET path (/.ok, /metrics). 404 for anything else. */
api_reply actions_get(shoal_node *node, const char *path);

#endif

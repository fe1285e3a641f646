/* placement_io.h - the node core's placement ring (placement/view.h) in
 * cluster.jsonl (every change) and for GET /debug/ring. */
#ifndef SHOAL_PLACEMENT_IO_H
#define SHOAL_PLACEMENT_IO_H

#include <jansson.h>

struct node_ctx;

/* The node core said the ring changed (NCORE_EV_RING): log it. */
void placement_log_ring(struct node_ctx *node);
/* The DESIGN.md /debug/ring document. */
json_t *placement_ring_json(struct node_ctx *node);

#endif

/* placement_io.h - keeps the node's placement ring (placement/view.h) in
 * step with its gossip view, logs every change to cluster.jsonl, and
 * renders it for GET /debug/ring. */
#ifndef SHOAL_PLACEMENT_IO_H
#define SHOAL_PLACEMENT_IO_H

#include <jansson.h>

struct shoal_node;

/* After gossip events or a change of this node's own serving state. */
void placement_refresh(struct shoal_node *node);
/* The DESIGN.md /debug/ring document. */
json_t *placement_ring_json(struct shoal_node *node);

#endif

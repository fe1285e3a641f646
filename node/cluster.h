/* cluster.h - binds the cluster core (gossip/cluster_core.h: roster, lease,
 * serving decision) to the node: the roster state file in data_dir, the
 * cluster socket, a libev timer, the periodic check that data_dir and
 * log_dir are writable, and cluster.jsonl. */
#ifndef SHOAL_CLUSTER_H
#define SHOAL_CLUSTER_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster_core.h"
#include "config.h"
#include "file_probe.h"

struct shoal_node;

/* Proposal finished: error "" on success. */
typedef void (*cluster_done_fn)(void *ctx, uint64_t id, const char *error);

typedef struct cluster {
    struct shoal_node *node;
    cluster_core *core;
    ev_timer timer;
    int64_t next_file_probe;
    file_probe fprobe; /* data_dir and log_dir checks, off the loop */
    cluster_done_fn on_done;
    void *done_ctx;
} cluster;

/* The cluster id in data_dir/raft.state (0: none yet, or unreadable - the
 * full load in cluster_start reports that). Read before the gossip core is
 * made, so that its first packets already carry the id. */
uint64_t cluster_peek_id(const char *data_dir);

/* Loads data_dir/raft.state (a corrupt file is an error: the node refuses
 * to start rather than replace it) and starts. Returns 0 or -1 with err. */
int cluster_start(cluster *c, struct shoal_node *node, char *err, size_t errlen);
void cluster_stop(cluster *c);

/* Hooks from the other adapters. */
void cluster_on_datagram(cluster *c, int kind, const uint8_t *buf, size_t len);
void cluster_on_swim_event(cluster *c, const swim_event *ev);
void cluster_set_leaving(cluster *c);

/* Operator actions (see ccore_register etc.); completion through on_done. */
const char *cluster_register(cluster *c, const char *contact, uint64_t *id);
const char *cluster_purge(cluster *c, const char *target, uint64_t *id);
const char *cluster_init(cluster *c, const char names[][WIRE_NAME_MAX + 1], uint32_t n, uint64_t *id);
void cluster_set_mode(cluster *c, uint8_t mode);

#endif

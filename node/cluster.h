/* cluster.h - the node's roster and serving state: binds the Raft core (the
 * roster log) and the lease core (majority fencing) to the cluster socket,
 * to data_dir and to what SWIM says, and decides whether this node serves.
 *
 * A node serves when all of these hold (DESIGN.md "Initial mode",
 * "Minority"):
 *   - it belongs to an initialized cluster (a committed roster exists);
 *   - it is in that roster (regular) or is a temporary node;
 *   - it holds the majority lease (lease.h);
 *   - it can write its files, and is not leaving.
 * Everything else (clients, channels) asks cluster_serving(). */
#ifndef SHOAL_CLUSTER_H
#define SHOAL_CLUSTER_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "lease.h"
#include "raft.h"
#include "config.h"
#include "swim.h"

struct shoal_node;

/* Proposal finished: error "" on success. */
typedef void (*cluster_done_fn)(void *ctx, uint64_t id, const char *error);

typedef struct cluster {
    struct shoal_node *node;
    raft *raft;
    lease *lease;
    ev_timer timer;
    bool started_empty;          /* no roster data at start: may be registered again */
    bool files_ok;
    char files_error[CONFIG_PATH_MAX + 160];
    int64_t next_file_probe;
    int64_t next_register;       /* automatic registration of a regular node */
    uint8_t mode;                /* the operator's mode (wire_mode) */
    bool majority, serving;      /* as last published */
    const char *reason;          /* why not serving: an API error code, NULL when serving */
    uint64_t last_commit_logged;
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

/* Re-evaluates the serving state now (e.g. the node started leaving). */
void cluster_poke(cluster *c);

/* Hooks from the other adapters. */
void cluster_on_datagram(cluster *c, int kind, const uint8_t *buf, size_t len);
void cluster_on_swim_event(cluster *c, const swim_event *ev);

/* Operator actions; completion through on_done (RegisterClusterNode,
 * PurgeClusterNode, InitCluster). Returns 0 and the proposal id, or an
 * error code string (returned as is, nothing pending). */
const char *cluster_register(cluster *c, const char *contact, uint64_t *id);
const char *cluster_purge(cluster *c, const char *target, uint64_t *id);
const char *cluster_init(cluster *c, const char names[][WIRE_NAME_MAX + 1], uint32_t n, uint64_t *id);
void cluster_set_mode(cluster *c, uint8_t mode);

/* State for the API and the rest of the node. */
bool cluster_serving(const cluster *c);
uint8_t cluster_effective_mode(const cluster *c);
const char *cluster_not_serving_reason(const cluster *c);
bool cluster_is_member(const cluster *c, const char *name);

const char *wire_mode_name(uint8_t mode);
int wire_mode_parse(const char *s); /* -1 if unknown */

#endif

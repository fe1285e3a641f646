/* cluster_core.h - one node's roster, lease and serving decision, as a core
 * that does no I/O: the glue between the SWIM core (who is alive), the Raft
 * core (the roster) and the lease core (majority fencing).
 *
 * shoald's adapter (node/cluster.c) and the split-brain simulator
 * (bench/splitbrain) drive this same code. Effects go through an injected
 * environment (ccore_env): durable writes of the roster state and datagrams
 * to other nodes. The SWIM core is borrowed: this core calls into it
 * (metadata, probes, cluster id) and the caller drains its outbox after
 * every call, as it does after its own calls.
 *
 * A node serves when all of these hold (DESIGN.md "Initial mode",
 * "Minority"):
 *   - it belongs to an initialized cluster (a committed roster exists);
 *   - it is in that roster (regular) or is a temporary node;
 *   - it holds the majority lease (lease.h);
 *   - it can write its files, and is not leaving. */
#ifndef SHOAL_CLUSTER_CORE_H
#define SHOAL_CLUSTER_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lease.h"
#include "outcome.h"
#include "raft.h"
#include "swim.h"

#define CCORE_REGISTER_RETRY_MS 2000   /* automatic registration attempts of a regular node */
#define CCORE_ERROR_MAX 256

/* The effects, supplied by the caller. */
typedef struct ccore_env {
    void *ctx;
    /* Write the roster state durably (temp file, fsync, rename, fsync of the
     * directory). 0 on success; -1 with a message in err otherwise. */
    int (*persist)(void *ctx, const uint8_t *data, size_t len, char *err, size_t errlen);
    /* One datagram from the cluster socket. */
    void (*send)(void *ctx, shoal_addr to, const uint8_t *data, size_t len);
} ccore_env;

typedef struct ccore_config {
    char node_name[WIRE_NAME_MAX + 1];
    char cluster_name[WIRE_CLUSTER_MAX + 1];
    uint16_t cluster_port;             /* other nodes' cluster port (same on every node) */
    bool temporary;
    raft_roster bootstrap;             /* the contact list's nodes: formation candidates */
    raft_config raft;                  /* filled by ccore_config_default */
    lease_config lease;
} ccore_config;

void ccore_config_default(ccore_config *c);

typedef enum ccore_event_type {
    CCORE_EV_MAJORITY,                 /* on: regained or lost; value: lease left in ms */
    CCORE_EV_SERVING,                  /* on: started or stopped; reason when stopped */
    CCORE_EV_PURGED,                   /* this node was purged; on: it started empty */
    CCORE_EV_LEADER,                   /* name: the leader, "" none; value: term */
    CCORE_EV_COMMITTED,                /* index, roster: a newly committed roster */
    CCORE_EV_PROPOSAL_DONE,            /* id, name (subject), error ("" success) */
    CCORE_EV_FILES,                    /* on: files writable again, or not (error) */
} ccore_event_type;

typedef struct ccore_event {
    ccore_event_type type;
    bool on;
    int64_t value;
    uint64_t index, id;
    shoal_outcome reason;              /* SERVING off: why */
    char name[WIRE_NAME_MAX + 1];
    char error[CCORE_ERROR_MAX];
    raft_roster roster;
} ccore_event;

typedef struct cluster_core cluster_core;

/* Creates the core from persisted roster state (NULL/0: an empty node).
 * Returns NULL with a message in err if the state does not decode (a
 * corrupt file is never silently replaced) or memory runs out. */
cluster_core *ccore_new(const ccore_config *cfg, const ccore_env *env, swim *gossip, const uint8_t *state,
                        size_t state_len, uint64_t seed, int64_t now_ms, char *err, size_t errlen);
void ccore_free(cluster_core *c);

/* The committed cluster id in persisted roster state (0: none, or it does
 * not decode). Read before the gossip core is made, so that its first
 * packets already carry the id. */
uint64_t ccore_state_cluster_id(const uint8_t *state, size_t len);

/* Inputs. */
void ccore_recv(cluster_core *c, int64_t now_ms, int kind, const uint8_t *buf, size_t len);
void ccore_on_swim_event(cluster_core *c, int64_t now_ms, const swim_event *ev);
void ccore_tick(cluster_core *c, int64_t now_ms);
int64_t ccore_next_deadline(const cluster_core *c, int64_t now_ms);
/* The adapter's periodic check of data_dir and log_dir. */
void ccore_set_files(cluster_core *c, int64_t now_ms, bool ok, const char *error);
/* Graceful leave: stop serving now. */
void ccore_set_leaving(cluster_core *c, int64_t now_ms);

/* Operator actions. Each returns NULL and a proposal id (completion comes
 * as CCORE_EV_PROPOSAL_DONE), or an API error code. ccore_init gives id 0
 * and no error when the cluster already has exactly that roster. */
const char *ccore_register(cluster_core *c, int64_t now_ms, const char *contact, uint64_t *id);
const char *ccore_purge(cluster_core *c, int64_t now_ms, const char *target, uint64_t *id);
const char *ccore_init(cluster_core *c, int64_t now_ms, const char names[][WIRE_NAME_MAX + 1], uint32_t n,
                       uint64_t *id);
void ccore_set_mode(cluster_core *c, int64_t now_ms, uint8_t mode);

/* Events since the last _clear. */
const ccore_event *ccore_events(const cluster_core *c, uint32_t *n);
void ccore_events_clear(cluster_core *c);

/* State. ccore_reason_now judges at `now` (what an admission must ask:
 * SHOAL_OK means serve); ccore_serving and ccore_reason are the state as of
 * the last input. */
shoal_outcome ccore_reason_now(const cluster_core *c, int64_t now_ms);
bool ccore_serving(const cluster_core *c);
bool ccore_majority(const cluster_core *c);
shoal_outcome ccore_reason(const cluster_core *c);  /* SHOAL_OK when serving */
uint8_t ccore_mode(const cluster_core *c);           /* the operator's */
uint8_t ccore_effective_mode(const cluster_core *c); /* block_new_connection when files fail */
bool ccore_files_ok(const cluster_core *c);
const char *ccore_files_error(const cluster_core *c);
bool ccore_is_member(const cluster_core *c, const char *name);
bool ccore_purged(const cluster_core *c);
bool ccore_started_empty(const cluster_core *c);
const raft *ccore_raft(const cluster_core *c);
const lease *ccore_lease(const cluster_core *c);

const char *wire_mode_name(uint8_t mode);
int wire_mode_parse(const char *s); /* -1 if unknown */

#endif

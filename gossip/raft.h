/* raft.h - the roster log: Raft (Ongaro & Ousterhout 2014) over a small log
 * of roster changes, as a core that does no I/O.
 *
 * Why Raft, and how little of it runs: the roster (the set of regular nodes
 * that decides majority) must change only with the agreement of a majority
 * of the current roster, and two conflicting changes must never both take
 * effect. That is consensus; Raft is the proven algorithm. SWIM remains the
 * liveness layer: there are no periodic Raft heartbeats. A follower starts
 * an election only when it knows no leader or SWIM says the leader is not
 * alive (raft_set_member_down), and elections begin with a pre-vote (Raft
 * thesis 9.6) that voters grant only if they too have no live leader, so a
 * node coming back from a partition cannot depose a healthy leader.
 *
 * The log holds roster entries. Each carries the complete roster it leads
 * to, so the configuration of a log is simply that of its last entry
 * (single-server membership changes, Raft thesis 4.1: a new configuration is
 * used as soon as it is appended; the leader admits one uncommitted change
 * at a time).
 *
 * Durability: whenever term, vote or log change, the core puts a PERSIST
 * item (the whole state, see raft_encode_state) in its outbox *before* any
 * message that depends on it. The adapter must write it durably (temp file,
 * fsync, rename, fsync of the directory) before it sends the messages that
 * follow it; if the write fails it must drop them and call
 * raft_persist_failed. */
#ifndef SHOAL_RAFT_H
#define SHOAL_RAFT_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "outbox.h"
#include "rng.h"
#include "wire.h"

#define RAFT_MAX_MEMBERS 32           /* regular nodes in a roster */
#define RAFT_MAX_ENTRIES 4096         /* log length; roster changes are rare (no compaction yet) */
#define RAFT_WIRE_KIND 2              /* first field of a Raft datagram (swim's is WIRE_VERSION 1) */
#define RAFT_MAX_PACKET 16384         /* Raft datagrams may exceed one MTU (IP fragments, LAN) */

typedef enum raft_kind {
    RAFT_NOOP = 0,       /* a new leader's first entry (commits earlier terms) */
    RAFT_INIT = 1,       /* formation or InitCluster: a new cluster id and roster */
    RAFT_ADD = 2,        /* RegisterClusterNode */
    RAFT_REMOVE = 3,     /* PurgeClusterNode */
} raft_kind;

typedef struct raft_roster {
    uint64_t cluster_id;                            /* 0: not initialized */
    uint32_t n;
    char names[RAFT_MAX_MEMBERS][WIRE_NAME_MAX + 1];
} raft_roster;

typedef struct raft_entry {
    uint64_t term;
    uint8_t kind;                                   /* raft_kind */
    char subject[WIRE_NAME_MAX + 1];                /* ADD/REMOVE: the node */
    raft_roster roster;                             /* the roster after this entry */
} raft_entry;

typedef enum raft_role { RAFT_FOLLOWER, RAFT_PRECANDIDATE, RAFT_CANDIDATE, RAFT_LEADER } raft_role;

typedef struct raft_config {
    char node_name[WIRE_NAME_MAX + 1];
    char cluster_name[WIRE_CLUSTER_MAX + 1];
    int64_t election_min_ms;        /* 150: randomized election delay, lower bound */
    int64_t election_max_ms;        /* 400: upper bound */
    int64_t round_timeout_ms;       /* 1000: an election or replication round is retried after this */
    int64_t propose_timeout_ms;     /* 5000: a proposal not committed by then fails */
    int64_t formation_delay_ms;     /* 2000: an empty node waits this long before it may form a
                                       cluster, so that nodes holding a cluster's data speak first */
    bool learner;                   /* temporary nodes: follow the log, never vote or lead */
} raft_config;

void raft_config_default(raft_config *c);

/* The kinds of the outbox's messages (core_out, outbox.h). */
typedef enum raft_out_kind {
    RAFT_OUT_PERSIST,               /* data: the encoded state; write it durably first */
    RAFT_OUT_SEND,                  /* data: one datagram for the member named `to` */
} raft_out_kind;

typedef enum raft_event_type {
    RAFT_EV_LEADER,                 /* a leader is known (name), or none ("") */
    RAFT_EV_COMMITTED,              /* entries up to `index` committed; roster may have changed */
    RAFT_EV_PROPOSAL_DONE,          /* proposal `id` finished: error "" on success */
} raft_event_type;

typedef struct raft_event {
    raft_event_type type;
    uint64_t index, id;
    char name[WIRE_NAME_MAX + 1];
    char error[64];                 /* an API error code, e.g. NOT-LEADER-REACHABLE */
} raft_event;

typedef struct raft raft;

/* Creates a core from persisted state (may be NULL: a new, empty node). The
 * initial configuration of an empty node is `bootstrap` (the contact list's
 * regular nodes) so that formation is an ordinary election among them.
 * Returns NULL if state does not decode (the caller reports it; a corrupt
 * file is never silently replaced). */
raft *raft_new(const raft_config *cfg, const uint8_t *state, size_t state_len,
               const raft_roster *bootstrap, uint64_t seed, int64_t now_ms);
void raft_free(raft *r);

void raft_recv(raft *r, int64_t now_ms, const char *from, const uint8_t *buf, size_t len);
void raft_tick(raft *r, int64_t now_ms);
int64_t raft_next_deadline(const raft *r);

/* Another node to ask who leads (RegisterClusterNode's contact). */
void raft_add_peer_hint(raft *r, const char *name);

/* SWIM's verdict on a node: down (suspect, dead, left) or alive. A leader
 * that is down is not followed and never adopted from another node's hint
 * (hints can be stale: they come from nodes that have not heard yet). */
void raft_set_member_down(raft *r, int64_t now_ms, const char *name, bool down);

/* Asks for a roster change; completion is reported by RAFT_EV_PROPOSAL_DONE
 * with this id. kind RAFT_INIT takes `init` (InitCluster: disaster recovery,
 * accepted on any node and starting a new log). */
uint64_t raft_propose(raft *r, int64_t now_ms, raft_kind kind, const char *subject,
                      const raft_roster *init, uint64_t cluster_id);

void raft_persist_failed(raft *r, int64_t now_ms);

/* PERSIST and SEND messages in the order to carry them out (see above);
 * read with outbox_items, empty with outbox_clear. */
outbox *raft_outbox(raft *r);
const raft_event *raft_events(const raft *r, uint32_t *n);
void raft_events_clear(raft *r);

/* Views. The committed roster is what majority is judged against. */
const raft_roster *raft_committed_roster(const raft *r);
const raft_roster *raft_config_roster(const raft *r);
raft_role raft_get_role(const raft *r);
const char *raft_leader(const raft *r);
bool raft_leader_alive(const raft *r);
uint64_t raft_term(const raft *r);
uint64_t raft_commit_index(const raft *r);
uint64_t raft_last_index(const raft *r);
const raft_entry *raft_entry_at(const raft *r, uint64_t index); /* 1-based */

/* State encoding (the PERSIST payload), with a magic, a version and a CRC;
 * raft_decode_state checks all three and every bound. */
bool raft_decode_state(const uint8_t *buf, size_t len, uint64_t *term, char *voted_for,
                       uint64_t *commit, raft_entry **entries, uint64_t *n);

#endif

/* swim.h - SWIM membership with HashiCorp's Lifeguard refinements, as a core
 * that does no I/O.
 *
 * The caller (an adapter, a test or the simulator) feeds it datagrams, TCP
 * frames and the passage of time, and after every call drains two queues:
 *   outbox  datagrams and stream frames to send (swim_outbox, outbox.h)
 *   events  membership changes to log or act on (swim_events / _clear)
 * The core never reads a clock, never calls rand and never touches a socket:
 * `now_ms` comes with every call and randomness from the seed given to
 * swim_new, so the same inputs always give the same outputs.
 *
 * Protocol (Das, Gupta, Motivala 2002; Dadgar et al., Lifeguard 2018):
 *  - every probe interval, probe the next member of a shuffled round-robin
 *    order with PING; no ACK within probe_timeout: PING_REQ through
 *    indirect_checks others, who NACK if they hear nothing (Lifeguard);
 *    no ACK by indirect_timeout: suspect the member;
 *  - a suspicion lasts from max down to min as independent members confirm
 *    it (suspicion.h); suspected members are re-probed by every suspecting
 *    member, and each failure confirms; the timer's end declares it dead;
 *  - a suspected member refutes with a higher incarnation, told first by the
 *    probes that carry the suspicion (buddy system) and sent straight back
 *    to its accusers;
 *  - updates ride on every datagram (bcast_queue.h) and a gossip fan-out;
 *  - push-pull over TCP (full state) on join, periodically, and to dead
 *    members and absent contacts so that partitions heal by themselves;
 *  - the local health multiplier (awareness.h) stretches this node's own
 *    timeouts while it misses acks or nacks or has to refute.
 *
 * Timing assumption (stated, not hidden): a member that answers nothing for
 * longer than probe time + suspicion_min is declared dead; a process stalled
 * longer than that is indistinguishable from a dead one. */
#ifndef SHOAL_SWIM_H
#define SHOAL_SWIM_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "awareness.h"
#include "bcast_queue.h"
#include "outbox.h"
#include "rng.h"
#include "suspicion.h"
#include "wire.h"

typedef enum swim_state {
    SWIM_ALIVE = 0,
    SWIM_SUSPECT = 1,
    SWIM_DEAD = 2,
    SWIM_LEFT = 3,
} swim_state;

const char *swim_state_name(swim_state st);

typedef struct swim_contact {
    char name[WIRE_NAME_MAX + 1];
    shoal_addr addr;
} swim_contact;

/* Tunables. swim_config_default fills them; each line says what it does. */
typedef struct swim_config {
    char cluster_name[WIRE_CLUSTER_MAX + 1];
    char node_name[WIRE_NAME_MAX + 1];
    shoal_addr addr;                   /* where others reach this node */
    wire_meta meta;                    /* published with alive messages */
    uint64_t cluster_id;               /* from the roster; 0 until formed (swim_set_cluster_id) */
    const swim_contact *contacts;      /* borrowed for the swim_new call */
    uint32_t ncontacts;

    int64_t probe_interval_ms;         /* 1000: one member probed per interval (Serf's LAN value) */
    int64_t probe_timeout_ms;          /* 300: wait for a direct ACK before going indirect */
    int64_t indirect_timeout_ms;       /* 800: from probe start, wait for any ACK before suspecting */
    uint32_t indirect_checks;          /* 3: members asked to probe on our behalf */
    int64_t suspicion_min_ms;          /* 1600: floor of the suspicion timeout, x max(1, log10 N) */
    uint32_t suspicion_max_mult;       /* 6: a lone, unconfirmed accusation waits mult x min */
    uint32_t suspicion_confirmations;  /* 3: confirmations that bring the timeout to min */
    int64_t suspect_reprobe_ms;        /* 500: re-probe a suspected member this often */
    int64_t gossip_interval_ms;        /* 200: fan-out of queued updates */
    uint32_t gossip_nodes;             /* 3: members per fan-out */
    int64_t gossip_to_dead_ms;         /* 30000: keep gossiping to the dead so they learn and refute */
    uint32_t retransmit_mult;          /* 4: each update sent mult x (ceil(log10(N + 1)) + 1) times */
    int64_t push_pull_interval_ms;     /* 30000: full sync with one member, x ceil(N / 32) */
    int64_t reconnect_interval_ms;     /* 1000: push-pull one dead member or absent contact */
    int64_t leave_timeout_ms;          /* 2000: most a graceful leave waits for its broadcast */
    int awareness_max;                 /* 8: the health multiplier ranges 1..8 */
    int64_t reap_ms;                   /* 86400000: forget dead and left members after this */
    uint32_t max_members;              /* 4096: members beyond this are not added */
} swim_config;

void swim_config_default(swim_config *cfg);

typedef struct swim_member {
    char name[WIRE_NAME_MAX + 1];
    uint64_t name_hash;
    shoal_addr addr;
    uint32_t incarnation;
    swim_state state;
    int64_t state_change_ms;           /* when state last changed */
    int64_t last_heard_ms;             /* last datagram from it, -1: never */
    wire_meta meta;
    suspicion susp;                    /* valid while state == SWIM_SUSPECT */
    int64_t next_reprobe_ms;           /* while suspect */
    int64_t next_hint_probe_ms;        /* swim_probe_now rate limit */
    int64_t next_revive_ms;            /* push-pull rate limit: it is dead or left here, yet it speaks */
    bool told;                         /* it acked a ping that carried our record ... */
    uint32_t told_incarnation;         /* ... at this incarnation of ours */
} swim_member;

typedef enum swim_out_kind {
    SWIM_OUT_PACKET = 0,               /* one UDP datagram to `to` */
    SWIM_OUT_STREAM = 1,               /* one framed TCP message (see below) */
} swim_out_kind;

/* The outbox's messages (core_out, outbox.h) carry a swim_out_kind and go
 * to `addr`. PACKET: one datagram.
 * STREAM with conn_id == 0: open a TCP connection to `addr`, write data (it
 * holds the 4-byte length prefix), read one framed reply and hand its
 * payload to swim_recv_stream(conn_id 0); on failure just close.
 * STREAM with conn_id != 0: write data on the accepted connection that
 * swim_recv_stream was called with, then close it. */

typedef enum swim_event_type {
    SWIM_EV_JOIN,                      /* a new member, alive */
    SWIM_EV_ALIVE,                     /* back to alive from suspect/dead/left */
    SWIM_EV_SUSPECT,
    SWIM_EV_DEAD,
    SWIM_EV_LEFT,
    SWIM_EV_UPDATE,                    /* metadata changed */
    SWIM_EV_REFUTE,                    /* this node refuted an accusation */
    SWIM_EV_REAP,                      /* a dead/left member was forgotten */
    SWIM_EV_FOREIGN,                   /* first packet from another cluster's node */
    SWIM_EV_STALL,                     /* this node was not ticked for long: it stalled */
} swim_event_type;

const char *swim_event_name(swim_event_type t);

typedef struct swim_event {
    swim_event_type type;
    char name[WIRE_NAME_MAX + 1];      /* the member concerned */
    char from[WIRE_NAME_MAX + 1];      /* accuser (SUSPECT/DEAD/REFUTE), cluster (FOREIGN) */
    uint32_t incarnation;
    int64_t at_ms;
} swim_event;

typedef struct swim_stats {
    uint64_t packets_in, packets_out, bytes_in, bytes_out;
    uint64_t streams_in, streams_out;
    uint64_t bad_packets;              /* malformed: dropped */
    uint64_t foreign_packets;          /* other cluster or wire version: dropped */
    uint64_t unknown_msgs;             /* message types this version does not know */
    uint64_t probes, probe_failures, refutes;
} swim_stats;

typedef struct swim swim;

/* Creates a core; returns NULL on an invalid config or out of memory. It
 * queues join push-pulls to the contacts at once. Free with swim_free. */
swim *swim_new(const swim_config *cfg, uint64_t seed, int64_t now_ms);
void swim_free(swim *s);

/* A datagram arrived from `from`. Malformed input is counted and dropped. */
void swim_recv_packet(swim *s, int64_t now_ms, shoal_addr from, const uint8_t *buf, size_t len);

/* A complete TCP frame payload (without its length prefix) arrived. conn_id
 * identifies an accepted connection the reply goes to, or is 0 for the reply
 * to a stream this core opened. */
void swim_recv_stream(swim *s, int64_t now_ms, shoal_addr from, uint64_t conn_id,
                      const uint8_t *buf, size_t len);

/* Time passed: run due timers. Call at or after swim_next_deadline. */
void swim_tick(swim *s, int64_t now_ms);
int64_t swim_next_deadline(const swim *s);

/* Another detector (the lease) saw `name` miss an answer: probe it now,
 * asking others at once (the direct attempt already failed). Nothing
 * happens if it is not alive or suspect or is being probed already. */
void swim_probe_now(swim *s, int64_t now_ms, const char *name);

/* Graceful leave: announce it, then poll swim_leave_done until true. */
void swim_leave(swim *s, int64_t now_ms);
bool swim_leave_done(const swim *s, int64_t now_ms);

/* Contacts name@addr now (push-pull join) and keeps it among the contacts
 * retried while absent (RegisterClusterNode's contact). */
void swim_add_contact(swim *s, int64_t now_ms, const char *name, shoal_addr addr);

/* The cluster id (from the roster) this node belongs to; 0: none yet.
 * Packets carrying another non-zero id are dropped as foreign. */
void swim_set_cluster_id(swim *s, uint64_t cluster_id);

/* Publishes new metadata (load, weight, ...): a new incarnation, gossiped. */
void swim_set_meta(swim *s, int64_t now_ms, const wire_meta *meta);

/* The outbox (read with outbox_items, empty with outbox_clear) and the
 * events; pointers stay valid until the matching clear. */
outbox *swim_outbox(swim *s);
const swim_event *swim_events(const swim *s, uint32_t *n);
void swim_events_clear(swim *s);

/* Read-only views. Index 0 is this node. */
uint32_t swim_member_count(const swim *s);
const swim_member *swim_member_at(const swim *s, uint32_t i);
const swim_member *swim_find(const swim *s, const char *name);
const swim_stats *swim_get_stats(const swim *s);
int swim_health_score(const swim *s);
/* Updates still waiting to be gossiped (0: nothing in flight). */
uint32_t swim_queued_updates(const swim *s);
/* Members that count for N: not dead and not left, this node included. */
uint32_t swim_live_count(const swim *s);

#endif

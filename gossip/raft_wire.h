/* raft_wire.h - Raft datagrams and the persisted Raft state (msgpack).
 *
 * Datagram = [RAFT_WIRE_KIND, cluster_name, sender, cluster_id, msg]
 * msg      = [type, term, fields...]   (trailing unknown fields skipped)
 * entry    = [term, kind, subject, cluster_id, [names...]]
 * State    = "SHOALRFT" + u32 version + msgpack [term, voted_for, commit,
 *            [entries]] + u32 CRC-32 of everything before it.
 *
 * Decoding uses the bounded reader (mp_read.h): every count is checked
 * against the bytes present and against RAFT_MAX_MEMBERS/RAFT_MAX_ENTRIES. */
#ifndef SHOAL_RAFT_WIRE_H
#define SHOAL_RAFT_WIRE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "crc32.h" /* shoal_crc32: the state file's check */
#include "mp_read.h"
#include "raft.h"

enum raft_msg_type {
    RAFT_MSG_VOTE_REQ = 1,
    RAFT_MSG_VOTE_RESP = 2,
    RAFT_MSG_APPEND = 3,
    RAFT_MSG_APPEND_RESP = 4,
    RAFT_MSG_LEADER_QUERY = 5,
    RAFT_MSG_LEADER_HINT = 6,
    RAFT_MSG_SYNC_REQ = 7,
    RAFT_MSG_PROPOSE = 8,
    RAFT_MSG_PROPOSE_RESP = 9,
};

#define RAFT_MAX_BATCH 8   /* entries in one APPEND */

typedef struct raft_msg {
    uint8_t type;
    uint64_t term;
    uint64_t last_index, last_term;      /* VOTE_REQ; SYNC_REQ: last_index */
    bool prevote;                        /* VOTE_REQ, VOTE_RESP */
    bool granted;                        /* VOTE_RESP; APPEND_RESP: success */
    char leader[WIRE_NAME_MAX + 1];      /* VOTE_RESP, LEADER_HINT: a live leader known to the sender */
    uint64_t prev_index, prev_term, commit; /* APPEND */
    uint32_t nentries;
    raft_entry entries[RAFT_MAX_BATCH];  /* APPEND */
    uint64_t match_index;                /* APPEND_RESP; PROPOSE_RESP: the entry's index */
    uint64_t id;                         /* PROPOSE, PROPOSE_RESP */
    uint8_t kind;                        /* PROPOSE */
    char subject[WIRE_NAME_MAX + 1];     /* PROPOSE */
    char error[64];                      /* PROPOSE_RESP: "" = done */
} raft_msg;

typedef struct raft_header {
    char cluster[WIRE_CLUSTER_MAX + 1];
    char sender[WIRE_NAME_MAX + 1];
    uint64_t cluster_id;
} raft_header;

/* The first element of a datagram: WIRE_VERSION (gossip), RAFT_WIRE_KIND, or
 * -1 if it does not start like either. Lets the adapter route datagrams. */
int raft_wire_peek_kind(const uint8_t *buf, size_t len);

/* Decodes a whole datagram; false on anything malformed or out of bounds. */
bool raft_wire_decode(const uint8_t *buf, size_t len, raft_header *h, raft_msg *m);
/* Encodes; returns the length written into out (cap bytes), 0 if it does
 * not fit. */
size_t raft_wire_encode(const raft_header *h, const raft_msg *m, uint8_t *out, size_t cap);

/* Persisted state. encode returns a malloc'd buffer (*len set) or NULL. */
uint8_t *raft_state_encode(uint64_t term, const char *voted_for, uint64_t commit,
                           const raft_entry *entries, uint64_t n, size_t *len);


#endif

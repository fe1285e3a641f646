/* wire.h - the gossip wire format (msgpack).
 *
 * UDP packet   = [WIRE_VERSION, cluster_name, cluster_id, sender_name, [msg, ...]]
 *                (cluster_id: the random id made at formation; 0 until then)
 * TCP frame    = u32 big-endian length + the same packet with one PUSHPULL msg
 * msg          = [type, fields...]; trailing fields a decoder does not know are
 *                skipped, so a later version may append fields.
 *
 * Every string has a hard size limit, every count is checked against the
 * bytes present, unknown message types are skipped and counted. A packet is
 * at most WIRE_MAX_PACKET bytes, a push-pull frame at most WIRE_MAX_FRAME. */
#ifndef SHOAL_WIRE_H
#define SHOAL_WIRE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "mp_read.h"

#define WIRE_VERSION 1
#define WIRE_MAX_PACKET 1400        /* compound UDP datagram, below a 1500 MTU */
#define WIRE_MAX_FRAME (4u << 20)   /* one push-pull TCP frame */
#define WIRE_NAME_MAX 127           /* node name "name@host" */
#define WIRE_CLUSTER_MAX 63
#define WIRE_VERSION_STR_MAX 31
#define WIRE_URL_MAX 255
#define WIRE_MAX_STATES 4096        /* members in one push-pull */

enum wire_msg_type {
    WIRE_PING = 1,      /* probe: answer with ACK(seq) */
    WIRE_PING_REQ = 2,  /* probe target on my behalf (SWIM indirect probe) */
    WIRE_ACK = 3,
    WIRE_NACK = 4,      /* Lifeguard: helper did not hear from the target */
    WIRE_ALIVE = 5,
    WIRE_SUSPECT = 6,
    WIRE_DEAD = 7,      /* from == node: the node left gracefully */
    WIRE_PUSHPULL = 8,  /* full state, TCP only */
};

enum wire_node_type { WIRE_NODE_REGULAR = 0, WIRE_NODE_TEMPORARY = 1 };

/* Metadata a node publishes with its alive message. */
typedef struct wire_meta {
    uint8_t node_type;                     /* enum wire_node_type */
    char version[WIRE_VERSION_STR_MAX + 1]; /* software version */
    uint32_t weight;                       /* placement weight */
    char url[WIRE_URL_MAX + 1];            /* public signaling URL */
    uint32_t load;                         /* current connections */
    uint8_t mode;                          /* enum wire_mode (ChangeMode) */
    uint8_t serving;                       /* 1: majority, initialized, files ok: may own channels */
} wire_meta;

enum wire_mode { WIRE_MODE_NORMAL = 0, WIRE_MODE_BLOCK_NEW_SESSION = 1, WIRE_MODE_BLOCK_NEW_CONNECTION = 2 };

/* One member as carried by ALIVE and by push-pull state lists. */
typedef struct wire_node {
    char name[WIRE_NAME_MAX + 1];
    shoal_addr addr;
    uint32_t incarnation;
    uint8_t state;                         /* push-pull only: enum swim_state */
    wire_meta meta;
} wire_node;

typedef struct wire_msg {
    uint8_t type;
    uint32_t seq;                          /* PING, PING_REQ, ACK, NACK */
    char target[WIRE_NAME_MAX + 1];        /* PING, PING_REQ */
    shoal_addr target_addr;                /* PING_REQ */
    bool want_nack;                        /* PING_REQ */
    wire_node node;                        /* ALIVE */
    char name[WIRE_NAME_MAX + 1];          /* SUSPECT, DEAD: about whom */
    char from[WIRE_NAME_MAX + 1];          /* SUSPECT, DEAD: who says so */
    uint32_t incarnation;                  /* SUSPECT, DEAD */
} wire_msg;

typedef struct wire_header {
    uint32_t version;
    char cluster[WIRE_CLUSTER_MAX + 1];
    uint64_t cluster_id;
    char sender[WIRE_NAME_MAX + 1];
} wire_header;

/* Field-wise equality (the struct has padding: never memcmp it). */
bool wire_meta_equal(const wire_meta *a, const wire_meta *b);

/* ---- decoding ---------------------------------------------------------- */

/* Opens a packet: reads the header and the message count. Returns false on
 * a malformed header; a packet of another WIRE_VERSION is returned with
 * hdr->version set so the caller can count and drop it. */
bool wire_open_packet(mp_reader *r, wire_header *hdr, uint32_t *nmsgs);

/* Reads the next message. Returns 1 for a message, 0 for a message of an
 * unknown type (skipped), -1 on malformed input (stop reading the packet). */
int wire_next_msg(mp_reader *r, wire_msg *m);

/* Reads the PUSHPULL fields after the type: is_reply, join, count; then call
 * wire_next_state count times. */
bool wire_open_pushpull(mp_reader *r, bool *is_reply, bool *join, uint32_t *count);
bool wire_next_state(mp_reader *r, wire_node *n);

/* ---- helpers shared by the codecs ------------------------------------- */
/* Skips fields used..have-1 of an array (fields a later version added). */
bool wire_skip_rest(mp_reader *r, uint32_t have, uint32_t used);
/* Packs a C string as a msgpack str. */
void wire_pack_cstr(msgpack_packer *pk, const char *s);

/* ---- encoding ---------------------------------------------------------- */
/* Each packs one message with msgpack-c into pk. */
void wire_pack_ping(msgpack_packer *pk, uint32_t seq, const char *target);
void wire_pack_ping_req(msgpack_packer *pk, uint32_t seq, const char *target,
                        shoal_addr target_addr, bool want_nack);
void wire_pack_ack(msgpack_packer *pk, uint32_t seq);
void wire_pack_nack(msgpack_packer *pk, uint32_t seq);
void wire_pack_alive(msgpack_packer *pk, const wire_node *n);
void wire_pack_suspect(msgpack_packer *pk, const char *name, uint32_t inc, const char *from);
void wire_pack_dead(msgpack_packer *pk, const char *name, uint32_t inc, const char *from);
/* Header: [version, cluster, cluster_id, sender, array(nmsgs)] - the
 * messages follow. */
void wire_pack_header(msgpack_packer *pk, const char *cluster, uint64_t cluster_id,
                      const char *sender, uint32_t nmsgs);
/* PUSHPULL message header; then wire_pack_state count times. */
void wire_pack_pushpull(msgpack_packer *pk, bool is_reply, bool join, uint32_t count);
void wire_pack_state(msgpack_packer *pk, const wire_node *n);

/* Which core a datagram on the cluster socket is for: its first field
 * (WIRE_VERSION for gossip, RAFT_WIRE_KIND, LEASE_WIRE_KIND), read as a
 * fixarray followed by a positive fixint; -1 if it is neither. */
static inline int wire_datagram_kind(const uint8_t *buf, size_t len) {
    if (len < 2 || (buf[0] & 0xf0) != 0x90 || (buf[1] & 0x80) != 0) return -1;
    return buf[1];
}

#endif

/* wire.c - encoding (msgpack-c packer) and bounded decoding of gossip messages. */
#include "wire.h"

#include <string.h>

bool wire_meta_equal(const wire_meta *a, const wire_meta *b) {
    return a->node_type == b->node_type && a->weight == b->weight && a->load == b->load &&
           a->mode == b->mode && a->serving == b->serving &&
           strcmp(a->version, b->version) == 0 && strcmp(a->url, b->url) == 0;
}

/* ---- decoding ---------------------------------------------------------- */

bool wire_skip_rest(mp_reader *r, uint32_t have, uint32_t used) {
    for (uint32_t i = used; i < have; i++)
        if (!mp_skip(r)) return false;
    return true;
}

static bool read_u32(mp_reader *r, uint32_t *v) {
    uint64_t x;
    if (!mp_read_uint_max(r, UINT32_MAX, &x)) return false;
    *v = (uint32_t)x;
    return true;
}

static bool read_addr(mp_reader *r, shoal_addr *a) {
    uint64_t ip, port;
    if (!mp_read_uint_max(r, UINT32_MAX, &ip) || !mp_read_uint_max(r, UINT16_MAX, &port))
        return false;
    a->ip = (uint32_t)ip;
    a->port = (uint16_t)port;
    return true;
}

static bool read_meta(mp_reader *r, wire_meta *m) {
    uint32_t n;
    uint64_t type, mode;
    if (!mp_read_array(r, &n) || n < 6) return false;
    if (!mp_read_uint_max(r, WIRE_NODE_TEMPORARY, &type)) return false;
    m->node_type = (uint8_t)type;
    if (!mp_read_str_into(r, m->version, sizeof m->version)) return false;
    if (!read_u32(r, &m->weight)) return false;
    if (!mp_read_str_into(r, m->url, sizeof m->url)) return false;
    if (!read_u32(r, &m->load)) return false;
    if (!mp_read_uint_max(r, WIRE_MODE_BLOCK_NEW_CONNECTION, &mode)) return false;
    m->mode = (uint8_t)mode;
    /* added after the first release: older nodes send 6 fields */
    uint64_t serving = 0;
    if (n >= 7 && !mp_read_uint_max(r, 1, &serving)) return false;
    m->serving = (uint8_t)serving;
    return wire_skip_rest(r, n, n >= 7 ? 7 : 6);
}

bool wire_open_packet(mp_reader *r, wire_header *hdr, uint32_t *nmsgs) {
    uint32_t n;
    if (!mp_read_array(r, &n) || n < 5) return false;
    if (!read_u32(r, &hdr->version)) return false;
    if (hdr->version != WIRE_VERSION) { *nmsgs = 0; return true; }
    if (!mp_read_str_into(r, hdr->cluster, sizeof hdr->cluster)) return false;
    if (!mp_read_uint(r, &hdr->cluster_id)) return false;
    if (!mp_read_str_into(r, hdr->sender, sizeof hdr->sender)) return false;
    if (!mp_read_array(r, nmsgs)) return false;
    return true; /* fields after the message list, if any, are ignored */
}

int wire_next_msg(mp_reader *r, wire_msg *m) {
    uint32_t n;
    uint64_t type;
    if (!mp_read_array(r, &n) || n < 1) return -1;
    if (!mp_read_uint_max(r, 255, &type)) return -1;
    m->type = (uint8_t)type;
    uint32_t used = 1;
    bool ok;
    switch (m->type) {
    case WIRE_PING:
        ok = n >= 3 && read_u32(r, &m->seq) && mp_read_str_into(r, m->target, sizeof m->target);
        used = 3;
        break;
    case WIRE_PING_REQ:
        ok = n >= 6 && read_u32(r, &m->seq) && mp_read_str_into(r, m->target, sizeof m->target) &&
             read_addr(r, &m->target_addr) && mp_read_bool(r, &m->want_nack);
        used = 6;
        break;
    case WIRE_ACK:
    case WIRE_NACK:
        ok = n >= 2 && read_u32(r, &m->seq);
        used = 2;
        break;
    case WIRE_ALIVE:
        ok = n >= 6 && mp_read_str_into(r, m->node.name, sizeof m->node.name) &&
             read_addr(r, &m->node.addr) && read_u32(r, &m->node.incarnation) &&
             read_meta(r, &m->node.meta);
        m->node.state = 0;
        used = 6;
        break;
    case WIRE_SUSPECT:
    case WIRE_DEAD:
        ok = n >= 4 && mp_read_str_into(r, m->name, sizeof m->name) &&
             read_u32(r, &m->incarnation) && mp_read_str_into(r, m->from, sizeof m->from);
        used = 4;
        break;
    default: /* a type from a later version, or PUSHPULL in a datagram */
        return wire_skip_rest(r, n, 1) ? 0 : -1;
    }
    if (!ok || !wire_skip_rest(r, n, used)) return -1;
    return 1;
}

bool wire_open_pushpull(mp_reader *r, bool *is_reply, bool *join, uint32_t *count) {
    uint32_t n;
    uint64_t type;
    if (!mp_read_array(r, &n) || n < 4) return false;
    if (!mp_read_uint(r, &type) || type != WIRE_PUSHPULL) return false;
    if (!mp_read_bool(r, is_reply) || !mp_read_bool(r, join)) return false;
    if (!mp_read_array(r, count)) return false;
    return *count <= WIRE_MAX_STATES;
}

bool wire_next_state(mp_reader *r, wire_node *s) {
    uint32_t n;
    uint64_t state;
    if (!mp_read_array(r, &n) || n < 6) return false;
    if (!mp_read_str_into(r, s->name, sizeof s->name) || !read_addr(r, &s->addr) ||
        !read_u32(r, &s->incarnation) || !mp_read_uint_max(r, 3, &state) ||
        !read_meta(r, &s->meta))
        return false;
    s->state = (uint8_t)state;
    return wire_skip_rest(r, n, 6);
}

/* ---- encoding ---------------------------------------------------------- */

void wire_pack_cstr(msgpack_packer *pk, const char *s) {
    size_t len = strlen(s);
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

static void pack_meta(msgpack_packer *pk, const wire_meta *m) {
    msgpack_pack_array(pk, 7);
    msgpack_pack_uint8(pk, m->node_type);
    wire_pack_cstr(pk, m->version);
    msgpack_pack_uint32(pk, m->weight);
    wire_pack_cstr(pk, m->url);
    msgpack_pack_uint32(pk, m->load);
    msgpack_pack_uint8(pk, m->mode);
    msgpack_pack_uint8(pk, m->serving);
}

void wire_pack_ping(msgpack_packer *pk, uint32_t seq, const char *target) {
    msgpack_pack_array(pk, 3);
    msgpack_pack_uint8(pk, WIRE_PING);
    msgpack_pack_uint32(pk, seq);
    wire_pack_cstr(pk, target);
}

void wire_pack_ping_req(msgpack_packer *pk, uint32_t seq, const char *target,
                        shoal_addr target_addr, bool want_nack) {
    msgpack_pack_array(pk, 6);
    msgpack_pack_uint8(pk, WIRE_PING_REQ);
    msgpack_pack_uint32(pk, seq);
    wire_pack_cstr(pk, target);
    msgpack_pack_uint32(pk, target_addr.ip);
    msgpack_pack_uint16(pk, target_addr.port);
    if (want_nack) msgpack_pack_true(pk);
    else msgpack_pack_false(pk);
}

static void pack_seq_msg(msgpack_packer *pk, uint8_t type, uint32_t seq) {
    msgpack_pack_array(pk, 2);
    msgpack_pack_uint8(pk, type);
    msgpack_pack_uint32(pk, seq);
}

void wire_pack_ack(msgpack_packer *pk, uint32_t seq) { pack_seq_msg(pk, WIRE_ACK, seq); }
void wire_pack_nack(msgpack_packer *pk, uint32_t seq) { pack_seq_msg(pk, WIRE_NACK, seq); }

void wire_pack_alive(msgpack_packer *pk, const wire_node *n) {
    msgpack_pack_array(pk, 6);
    msgpack_pack_uint8(pk, WIRE_ALIVE);
    wire_pack_cstr(pk, n->name);
    msgpack_pack_uint32(pk, n->addr.ip);
    msgpack_pack_uint16(pk, n->addr.port);
    msgpack_pack_uint32(pk, n->incarnation);
    pack_meta(pk, &n->meta);
}

static void pack_accusation(msgpack_packer *pk, uint8_t type, const char *name, uint32_t inc,
                            const char *from) {
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint8(pk, type);
    wire_pack_cstr(pk, name);
    msgpack_pack_uint32(pk, inc);
    wire_pack_cstr(pk, from);
}

void wire_pack_suspect(msgpack_packer *pk, const char *name, uint32_t inc, const char *from) {
    pack_accusation(pk, WIRE_SUSPECT, name, inc, from);
}

void wire_pack_dead(msgpack_packer *pk, const char *name, uint32_t inc, const char *from) {
    pack_accusation(pk, WIRE_DEAD, name, inc, from);
}

void wire_pack_header(msgpack_packer *pk, const char *cluster, uint64_t cluster_id,
                      const char *sender, uint32_t nmsgs) {
    msgpack_pack_array(pk, 5);
    msgpack_pack_uint32(pk, WIRE_VERSION);
    wire_pack_cstr(pk, cluster);
    msgpack_pack_uint64(pk, cluster_id);
    wire_pack_cstr(pk, sender);
    msgpack_pack_array(pk, nmsgs);
}

void wire_pack_pushpull(msgpack_packer *pk, bool is_reply, bool join, uint32_t count) {
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint8(pk, WIRE_PUSHPULL);
    if (is_reply) msgpack_pack_true(pk);
    else msgpack_pack_false(pk);
    if (join) msgpack_pack_true(pk);
    else msgpack_pack_false(pk);
    msgpack_pack_array(pk, count);
}

void wire_pack_state(msgpack_packer *pk, const wire_node *n) {
    msgpack_pack_array(pk, 6);
    wire_pack_cstr(pk, n->name);
    msgpack_pack_uint32(pk, n->addr.ip);
    msgpack_pack_uint16(pk, n->addr.port);
    msgpack_pack_uint32(pk, n->incarnation);
    msgpack_pack_uint8(pk, n->state);
    pack_meta(pk, &n->meta);
}

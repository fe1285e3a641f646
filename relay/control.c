/* control.c - the relay's control messages (see .h). */
#include "control.h"

#include <msgpack.h>
#include <string.h>

#include "frame.h"
#include "mp_read.h"

size_t relay_control_frame(const relay_control *c, uint8_t *out, size_t cap) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    switch (c->type) {
    case RELAY_CTL_HELLO:
        msgpack_pack_array(&pk, 7);
        msgpack_pack_uint8(&pk, RELAY_CTL_HELLO);
        msgpack_pack_uint32(&pk, c->hello.protocol);
        wire_pack_cstr(&pk, c->hello.cluster);
        msgpack_pack_uint64(&pk, c->hello.cluster_id);
        wire_pack_cstr(&pk, c->hello.node);
        msgpack_pack_uint32(&pk, c->hello.boot_id);
        wire_pack_cstr(&pk, c->hello.version);
        break;
    case RELAY_CTL_REFUSE:
        msgpack_pack_array(&pk, 2);
        msgpack_pack_uint8(&pk, RELAY_CTL_REFUSE);
        wire_pack_cstr(&pk, shoal_outcome_name(c->refused));
        break;
    case RELAY_CTL_BIND_CHANNEL:
        msgpack_pack_array(&pk, 3);
        msgpack_pack_uint8(&pk, RELAY_CTL_BIND_CHANNEL);
        msgpack_pack_uint16(&pk, c->channel);
        wire_pack_cstr(&pk, c->channel_id);
        break;
    case RELAY_CTL_BIND_SENDER:
        msgpack_pack_array(&pk, 6);
        msgpack_pack_uint8(&pk, RELAY_CTL_BIND_SENDER);
        msgpack_pack_uint16(&pk, c->channel);
        msgpack_pack_uint16(&pk, c->sender);
        wire_pack_cstr(&pk, c->connection_id);
        msgpack_pack_uint32(&pk, c->ssrc[0]);
        msgpack_pack_uint32(&pk, c->ssrc[1]);
        break;
    case RELAY_CTL_UNBIND_SENDER:
        msgpack_pack_array(&pk, 3);
        msgpack_pack_uint8(&pk, RELAY_CTL_UNBIND_SENDER);
        msgpack_pack_uint16(&pk, c->channel);
        msgpack_pack_uint16(&pk, c->sender);
        break;
    case RELAY_CTL_UNBIND_CHANNEL:
        msgpack_pack_array(&pk, 2);
        msgpack_pack_uint8(&pk, RELAY_CTL_UNBIND_CHANNEL);
        msgpack_pack_uint16(&pk, c->channel);
        break;
    }
    relay_frame f = {.kind = RELAY_CONTROL, .body = (const uint8_t *)sb.data, .body_len = (uint32_t)sb.size};
    size_t n = sb.data ? relay_frame_encode(&f, out, cap) : 0;
    msgpack_sbuffer_destroy(&sb);
    return n;
}

/* A handle: 1..65535. */
static bool read_handle(mp_reader *r, uint16_t *h) {
    uint64_t v;
    if (!mp_read_uint_max(r, UINT16_MAX, &v) || v == 0) {
        r->err = true;
        return false;
    }
    *h = (uint16_t)v;
    return true;
}

/* The items a type needs (more are skipped). */
static const uint32_t ITEMS[] = {[RELAY_CTL_HELLO] = 7,        [RELAY_CTL_REFUSE] = 2,
                                 [RELAY_CTL_BIND_CHANNEL] = 3, [RELAY_CTL_BIND_SENDER] = 6,
                                 [RELAY_CTL_UNBIND_SENDER] = 3, [RELAY_CTL_UNBIND_CHANNEL] = 2};

bool relay_control_decode(const uint8_t *body, size_t len, relay_control *c) {
    memset(c, 0, sizeof *c);
    mp_reader r;
    mp_reader_init(&r, body, len);
    uint32_t n;
    uint64_t type, v1, v2, v3;
    if (!mp_read_array(&r, &n) || n < 1 || !mp_read_uint(&r, &type) || type < RELAY_CTL_HELLO ||
        type > RELAY_CTL_UNBIND_CHANNEL || n < ITEMS[type])
        return false;
    switch ((relay_control_type)type) {
    case RELAY_CTL_HELLO:
        if (mp_read_uint_max(&r, UINT32_MAX, &v1) && mp_read_str_into(&r, c->hello.cluster, sizeof c->hello.cluster) &&
            mp_read_uint(&r, &v2) && mp_read_str_into(&r, c->hello.node, sizeof c->hello.node) &&
            mp_read_uint_max(&r, UINT32_MAX, &v3) && mp_read_str_into(&r, c->hello.version, sizeof c->hello.version)) {
            c->hello.protocol = (uint32_t)v1;
            c->hello.cluster_id = v2;
            c->hello.boot_id = (uint32_t)v3;
        }
        break;
    case RELAY_CTL_REFUSE: {
        char name[64];
        /* a reason this node does not know is still a refusal */
        if (mp_read_str_into(&r, name, sizeof name) && (!shoal_outcome_parse(name, &c->refused) || c->refused == SHOAL_OK))
            c->refused = SHOAL_RELAY_REFUSED;
        break;
    }
    case RELAY_CTL_BIND_CHANNEL:
        if (read_handle(&r, &c->channel) && mp_read_str_into(&r, c->channel_id, sizeof c->channel_id) &&
            c->channel_id[0] == '\0')
            r.err = true;
        break;
    case RELAY_CTL_BIND_SENDER:
        if (read_handle(&r, &c->channel) && read_handle(&r, &c->sender) &&
            mp_read_str_into(&r, c->connection_id, sizeof c->connection_id) && mp_read_uint_max(&r, UINT32_MAX, &v1) &&
            mp_read_uint_max(&r, UINT32_MAX, &v2)) {
            c->ssrc[0] = (uint32_t)v1;
            c->ssrc[1] = (uint32_t)v2;
        }
        break;
    case RELAY_CTL_UNBIND_SENDER:
        if (read_handle(&r, &c->channel)) read_handle(&r, &c->sender);
        break;
    case RELAY_CTL_UNBIND_CHANNEL: read_handle(&r, &c->channel); break;
    }
    for (uint32_t i = ITEMS[type]; i < n && !r.err; i++) mp_skip(&r);
    if (r.err || mp_remaining(&r) != 0) return false;
    c->type = (relay_control_type)type;
    return true;
}

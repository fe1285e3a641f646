/* handshake.c - the relay connection's HELLO/REFUSE exchange (see .h). */
#include "handshake.h"

#include <msgpack.h>
#include <string.h>

#include "mp_read.h"

/* The body packed in sb, framed as CONTROL into out. */
static size_t control_frame(msgpack_sbuffer *sb, uint8_t *out, size_t cap) {
    relay_frame f = {.kind = RELAY_CONTROL, .body = (const uint8_t *)sb->data, .body_len = (uint32_t)sb->size};
    size_t n = sb->data ? relay_frame_encode(&f, out, cap) : 0;
    msgpack_sbuffer_destroy(sb);
    return n;
}

size_t relay_hello_frame(const relay_hello *h, uint8_t *out, size_t cap) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 7);
    msgpack_pack_uint8(&pk, RELAY_CTL_HELLO);
    msgpack_pack_uint32(&pk, h->protocol);
    wire_pack_cstr(&pk, h->cluster);
    msgpack_pack_uint64(&pk, h->cluster_id);
    wire_pack_cstr(&pk, h->node);
    msgpack_pack_uint32(&pk, h->boot_id);
    wire_pack_cstr(&pk, h->version);
    return control_frame(&sb, out, cap);
}

size_t relay_refuse_frame(shoal_outcome why, uint8_t *out, size_t cap) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint8(&pk, RELAY_CTL_REFUSE);
    wire_pack_cstr(&pk, shoal_outcome_name(why));
    return control_frame(&sb, out, cap);
}

bool relay_control_decode(const uint8_t *body, size_t len, relay_control *c) {
    memset(c, 0, sizeof *c);
    mp_reader r;
    mp_reader_init(&r, body, len);
    uint32_t n;
    uint64_t type;
    if (!mp_read_array(&r, &n) || n < 1 || !mp_read_uint(&r, &type)) return false;
    if (type == RELAY_CTL_HELLO) {
        /* later protocol versions may append items: they are skipped */
        uint64_t protocol, cluster_id, boot;
        relay_hello *h = &c->hello;
        if (n < 7 || !mp_read_uint_max(&r, UINT32_MAX, &protocol) || !mp_read_str_into(&r, h->cluster, sizeof h->cluster) ||
            !mp_read_uint(&r, &cluster_id) || !mp_read_str_into(&r, h->node, sizeof h->node) ||
            !mp_read_uint_max(&r, UINT32_MAX, &boot) || !mp_read_str_into(&r, h->version, sizeof h->version))
            return false;
        for (uint32_t i = 7; i < n; i++)
            if (!mp_skip(&r)) return false;
        h->protocol = (uint32_t)protocol;
        h->cluster_id = cluster_id;
        h->boot_id = (uint32_t)boot;
    } else if (type == RELAY_CTL_REFUSE) {
        char name[64];
        if (n < 2 || !mp_read_str_into(&r, name, sizeof name)) return false;
        for (uint32_t i = 2; i < n; i++)
            if (!mp_skip(&r)) return false;
        /* a reason this node does not know is still a refusal */
        if (!shoal_outcome_parse(name, &c->refused) || c->refused == SHOAL_OK) c->refused = SHOAL_RELAY_REFUSED;
    } else {
        return false;
    }
    if (r.err || mp_remaining(&r) != 0) return false;
    c->type = (relay_control_type)type;
    return true;
}

shoal_outcome relay_hello_check(const relay_hello *mine, const relay_hello *theirs, relay_alive_fn alive, void *ctx) {
    if (theirs->protocol != mine->protocol) return SHOAL_RELAY_PROTOCOL_MISMATCH;
    if (strcmp(theirs->cluster, mine->cluster) != 0 || theirs->cluster_id != mine->cluster_id ||
        mine->cluster_id == 0)
        return SHOAL_RELAY_FOREIGN_CLUSTER;
    if (strcmp(theirs->node, mine->node) == 0) return SHOAL_RELAY_SELF;
    if (!alive(ctx, theirs->node)) return SHOAL_RELAY_NOT_A_MEMBER;
    if (strcmp(theirs->version, mine->version) != 0) return SHOAL_RELAY_VERSION_MISMATCH;
    return SHOAL_OK;
}

void relay_hs_init(relay_hs *hs, bool dialer, const relay_hello *mine, int64_t now) {
    memset(hs, 0, sizeof *hs);
    hs->dialer = dialer;
    hs->state = RELAY_HS_WAIT;
    hs->why = SHOAL_OK;
    hs->deadline = now + RELAY_HANDSHAKE_MS;
    hs->mine = *mine;
    if (dialer) hs->out_len = (uint32_t)relay_hello_frame(mine, hs->out, sizeof hs->out);
}

static relay_hs_state fail(relay_hs *hs, shoal_outcome why, bool tell) {
    hs->state = RELAY_HS_FAILED;
    hs->why = why;
    /* the acceptor tells the dialer why; the dialer just closes */
    hs->out_len = tell && !hs->dialer ? (uint32_t)relay_refuse_frame(why, hs->out, sizeof hs->out) : 0;
    return hs->state;
}

relay_hs_state relay_hs_recv(relay_hs *hs, const relay_frame *f, relay_alive_fn alive, void *ctx) {
    if (hs->state != RELAY_HS_WAIT) return hs->state;
    if (f->kind == RELAY_KEEPALIVE) return hs->state;
    relay_control c;
    if (f->kind != RELAY_CONTROL || !relay_control_decode(f->body, f->body_len, &c))
        return fail(hs, SHOAL_RELAY_BAD_HELLO, true);
    if (c.type == RELAY_CTL_REFUSE) {
        if (!hs->dialer) return fail(hs, SHOAL_RELAY_BAD_HELLO, false); /* only an acceptor refuses */
        hs->refused_by_peer = true;
        return fail(hs, c.refused, false);
    }
    if (c.type != RELAY_CTL_HELLO) return fail(hs, SHOAL_RELAY_BAD_HELLO, true);
    shoal_outcome why = relay_hello_check(&hs->mine, &c.hello, alive, ctx);
    if (why != SHOAL_OK) return fail(hs, why, true);
    hs->peer = c.hello;
    hs->state = RELAY_HS_OPEN;
    if (!hs->dialer) hs->out_len = (uint32_t)relay_hello_frame(&hs->mine, hs->out, sizeof hs->out);
    return hs->state;
}

relay_hs_state relay_hs_tick(relay_hs *hs, int64_t now) {
    if (hs->state == RELAY_HS_WAIT && now >= hs->deadline) return fail(hs, SHOAL_RELAY_HANDSHAKE_TIMEOUT, false);
    return hs->state;
}

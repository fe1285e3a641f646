/* raft_wire.c - Raft datagrams and persisted state (see raft_wire.h). */
#include "raft_wire.h"
#include "wire.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_MAGIC "SHOALRFT"
#define STATE_VERSION 1


/* ---- decoding ----------------------------------------------------------- */

static bool read_entry(mp_reader *r, raft_entry *e) {
    uint32_t n, names;
    uint64_t kind;
    if (!mp_read_array(r, &n) || n < 5) return false;
    if (!mp_read_uint(r, &e->term) || !mp_read_uint_max(r, RAFT_REMOVE, &kind) ||
        !mp_read_str_into(r, e->subject, sizeof e->subject) ||
        !mp_read_uint(r, &e->roster.cluster_id) || !mp_read_array(r, &names) ||
        names > RAFT_MAX_MEMBERS)
        return false;
    e->kind = (uint8_t)kind;
    e->roster.n = names;
    for (uint32_t i = 0; i < names; i++)
        if (!mp_read_str_into(r, e->roster.names[i], sizeof e->roster.names[i])) return false;
    return wire_skip_rest(r, n, 5);
}

int raft_wire_peek_kind(const uint8_t *buf, size_t len) {
    mp_reader r;
    uint32_t n;
    uint64_t kind;
    mp_reader_init(&r, buf, len);
    if (!mp_read_array(&r, &n) || n < 1 || !mp_read_uint_max(&r, 255, &kind)) return -1;
    return (int)kind;
}

bool raft_wire_decode(const uint8_t *buf, size_t len, raft_header *h, raft_msg *m) {
    mp_reader r;
    uint32_t n, fields;
    uint64_t kind, type;
    mp_reader_init(&r, buf, len);
    if (len > RAFT_MAX_PACKET || !mp_read_array(&r, &n) || n < 5) return false;
    if (!mp_read_uint(&r, &kind) || kind != RAFT_WIRE_KIND) return false;
    if (!mp_read_str_into(&r, h->cluster, sizeof h->cluster) ||
        !mp_read_str_into(&r, h->sender, sizeof h->sender) || !mp_read_uint(&r, &h->cluster_id))
        return false;
    memset(m, 0, offsetof(raft_msg, entries));
    if (!mp_read_array(&r, &fields) || fields < 2 || !mp_read_uint_max(&r, 255, &type) ||
        !mp_read_uint(&r, &m->term))
        return false;
    m->type = (uint8_t)type;
    uint32_t used;
    bool ok;
    uint64_t v = 0;
    switch (m->type) {
    case RAFT_MSG_VOTE_REQ:
        ok = fields >= 5 && mp_read_uint(&r, &m->last_index) && mp_read_uint(&r, &m->last_term) &&
             mp_read_bool(&r, &m->prevote);
        used = 5;
        break;
    case RAFT_MSG_VOTE_RESP:
        ok = fields >= 5 && mp_read_bool(&r, &m->granted) && mp_read_bool(&r, &m->prevote) &&
             mp_read_str_into(&r, m->leader, sizeof m->leader);
        used = 5;
        break;
    case RAFT_MSG_APPEND: {
        uint32_t ne;
        ok = fields >= 6 && mp_read_uint(&r, &m->prev_index) && mp_read_uint(&r, &m->prev_term) &&
             mp_read_uint(&r, &m->commit) && mp_read_array(&r, &ne) && ne <= RAFT_MAX_BATCH;
        if (ok) {
            m->nentries = ne;
            for (uint32_t i = 0; i < ne && ok; i++) ok = read_entry(&r, &m->entries[i]);
        }
        used = 6;
        break;
    }
    case RAFT_MSG_APPEND_RESP:
        ok = fields >= 4 && mp_read_bool(&r, &m->granted) && mp_read_uint(&r, &m->match_index);
        used = 4;
        /* the follower's commit index (added later: absent means unknown) */
        m->commit = UINT64_MAX;
        if (ok && fields >= 5) {
            ok = mp_read_uint(&r, &m->commit);
            used = 5;
        }
        break;
    case RAFT_MSG_LEADER_QUERY:
        ok = true;
        used = 2;
        break;
    case RAFT_MSG_LEADER_HINT:
        ok = fields >= 3 && mp_read_str_into(&r, m->leader, sizeof m->leader);
        used = 3;
        break;
    case RAFT_MSG_SYNC_REQ:
        ok = fields >= 3 && mp_read_uint(&r, &m->last_index);
        used = 3;
        break;
    case RAFT_MSG_PROPOSE:
        ok = fields >= 5 && mp_read_uint(&r, &m->id) && mp_read_uint_max(&r, RAFT_REMOVE, &v) &&
             mp_read_str_into(&r, m->subject, sizeof m->subject);
        m->kind = (uint8_t)v;
        used = 5;
        break;
    case RAFT_MSG_PROPOSE_RESP: /* [9, term, id, error, index] */
        ok = fields >= 5 && mp_read_uint(&r, &m->id) && mp_read_str_into(&r, m->error, sizeof m->error) &&
             mp_read_uint(&r, &m->match_index);
        used = 5;
        break;
    default:
        return false;
    }
    return ok && wire_skip_rest(&r, fields, used);
}

/* ---- encoding ----------------------------------------------------------- */

typedef struct bounded {
    uint8_t *out;
    size_t cap, len;
    bool overflow;
} bounded;

static int bounded_write(void *data, const char *buf, size_t len) {
    bounded *b = data;
    if (b->overflow || b->len + len > b->cap) {
        b->overflow = true;
        return -1;
    }
    memcpy(b->out + b->len, buf, len);
    b->len += len;
    return 0;
}

static void pack_bool(msgpack_packer *pk, bool v) {
    if (v) msgpack_pack_true(pk);
    else msgpack_pack_false(pk);
}

static void pack_entry(msgpack_packer *pk, const raft_entry *e) {
    msgpack_pack_array(pk, 5);
    msgpack_pack_uint64(pk, e->term);
    msgpack_pack_uint8(pk, e->kind);
    wire_pack_cstr(pk, e->subject);
    msgpack_pack_uint64(pk, e->roster.cluster_id);
    msgpack_pack_array(pk, e->roster.n);
    for (uint32_t i = 0; i < e->roster.n; i++) wire_pack_cstr(pk, e->roster.names[i]);
}

size_t raft_wire_encode(const raft_header *h, const raft_msg *m, uint8_t *out, size_t cap) {
    bounded b = {.out = out, .cap = cap};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b, bounded_write);
    msgpack_pack_array(&pk, 5);
    msgpack_pack_uint8(&pk, RAFT_WIRE_KIND);
    wire_pack_cstr(&pk, h->cluster);
    wire_pack_cstr(&pk, h->sender);
    msgpack_pack_uint64(&pk, h->cluster_id);
    switch (m->type) {
    case RAFT_MSG_VOTE_REQ:
        msgpack_pack_array(&pk, 5);
        msgpack_pack_uint8(&pk, m->type);
        msgpack_pack_uint64(&pk, m->term);
        msgpack_pack_uint64(&pk, m->last_index);
        msgpack_pack_uint64(&pk, m->last_term);
        pack_bool(&pk, m->prevote);
        break;
    case RAFT_MSG_VOTE_RESP:
        msgpack_pack_array(&pk, 5);
        msgpack_pack_uint8(&pk, m->type);
        msgpack_pack_uint64(&pk, m->term);
        pack_bool(&pk, m->granted);
        pack_bool(&pk, m->prevote);
        wire_pack_cstr(&pk, m->leader);
        break;
    case RAFT_MSG_APPEND:
        msgpack_pack_array(&pk, 6);
        msgpack_pack_uint8(&pk, m->type);
        msgpack_pack_uint64(&pk, m->term);
        msgpack_pack_uint64(&pk, m->prev_index);
        msgpack_pack_uint64(&pk, m->prev_term);
        msgpack_pack_uint64(&pk, m->commit);
        msgpack_pack_array(&pk, m->nentries);
        for (uint32_t i = 0; i < m->nentries; i++) pack_entry(&pk, &m->entries[i]);
        break;
    case RAFT_MSG_APPEND_RESP:
        msgpack_pack_array(&pk, 5);
        msgpack_pack_uint8(&pk, m->type);
        msgpack_pack_uint64(&pk, m->term);
        pack_bool(&pk, m->granted);
        msgpack_pack_uint64(&pk, m->match_index);
        msgpack_pack_uint64(&pk, m->commit);
        break;
    case RAFT_MSG_LEADER_QUERY:
        msgpack_pack_array(&pk, 2);
        msgpack_pack_uint8(&pk, m->type);
        msgpack_pack_uint64(&pk, m->term);
        break;
    case RAFT_MSG_LEADER_HINT:
        msgpack_pack_array(&pk, 3);
        msgpack_pack_uint8(&pk, m->type);
        msgpack_pack_uint64(&pk, m->term);
        wire_pack_cstr(&pk, m->leader);
        break;
    case RAFT_MSG_SYNC_REQ:
        msgpack_pack_array(&pk, 3);
        msgpack_pack_uint8(&pk, m->type);
        msgpack_pack_uint64(&pk, m->term);
        msgpack_pack_uint64(&pk, m->last_index);
        break;
    case RAFT_MSG_PROPOSE:
        msgpack_pack_array(&pk, 5);
        msgpack_pack_uint8(&pk, m->type);
        msgpack_pack_uint64(&pk, m->term);
        msgpack_pack_uint64(&pk, m->id);
        msgpack_pack_uint8(&pk, m->kind);
        wire_pack_cstr(&pk, m->subject);
        break;
    case RAFT_MSG_PROPOSE_RESP:
        msgpack_pack_array(&pk, 5);
        msgpack_pack_uint8(&pk, m->type);
        msgpack_pack_uint64(&pk, m->term);
        msgpack_pack_uint64(&pk, m->id);
        wire_pack_cstr(&pk, m->error);
        msgpack_pack_uint64(&pk, m->match_index);
        break;
    default:
        return 0;
    }
    return b.overflow ? 0 : b.len;
}

/* ---- persisted state ---------------------------------------------------- */

uint8_t *raft_state_encode(uint64_t term, const char *voted_for, uint64_t commit,
                           const raft_entry *entries, uint64_t n, size_t *len) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    uint8_t head[12];
    memcpy(head, STATE_MAGIC, 8);
    head[8] = 0, head[9] = 0, head[10] = 0, head[11] = STATE_VERSION;
    msgpack_sbuffer_write(&sb, (const char *)head, sizeof head);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_uint64(&pk, term);
    wire_pack_cstr(&pk, voted_for);
    msgpack_pack_uint64(&pk, commit);
    msgpack_pack_array(&pk, (uint32_t)n);
    for (uint64_t i = 0; i < n; i++) pack_entry(&pk, &entries[i]);
    uint32_t crc = shoal_crc32((const uint8_t *)sb.data, sb.size);
    uint8_t tail[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
    msgpack_sbuffer_write(&sb, (const char *)tail, 4);
    if (sb.data == NULL) return NULL;
    *len = sb.size;
    return (uint8_t *)sb.data; /* malloc'd by the sbuffer */
}

bool raft_decode_state(const uint8_t *buf, size_t len, uint64_t *term, char *voted_for,
                       uint64_t *commit, raft_entry **entries, uint64_t *n) {
    *entries = NULL;
    *n = 0;
    if (len < 16 || memcmp(buf, STATE_MAGIC, 8) != 0) return false;
    uint32_t version = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 | buf[11];
    if (version != STATE_VERSION) return false;
    uint32_t crc = (uint32_t)buf[len - 4] << 24 | (uint32_t)buf[len - 3] << 16 |
                   (uint32_t)buf[len - 2] << 8 | buf[len - 1];
    if (shoal_crc32(buf, len - 4) != crc) return false;
    mp_reader r;
    uint32_t fields, count;
    mp_reader_init(&r, buf + 12, len - 16);
    if (!mp_read_array(&r, &fields) || fields < 4 || !mp_read_uint(&r, term) ||
        !mp_read_str_into(&r, voted_for, WIRE_NAME_MAX + 1) || !mp_read_uint(&r, commit) ||
        !mp_read_array(&r, &count) || count > RAFT_MAX_ENTRIES)
        return false;
    raft_entry *e = calloc(count ? count : 1, sizeof *e);
    if (e == NULL) return false;
    for (uint32_t i = 0; i < count; i++)
        if (!read_entry(&r, &e[i])) {
            free(e);
            return false;
        }
    if (*commit > count) {
        free(e);
        return false;
    }
    *entries = e;
    *n = count;
    return true;
}

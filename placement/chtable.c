/* chtable.c - the replicated channel table (see chtable.h). */
#include "chtable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "mp_read.h"
#include "strmap.h"
#include "vec.h"
#include "wire.h"

#define MAX_HOLDERS 4096
#define DIGEST_MS 2000               /* as Cassandra's gossip: a digest of every holder, often, to one member */
#define DIGEST_MAX 256               /* holders per digest: 256 x ~21 B (up to ~80 B with long names) fits a datagram */

enum { CT_UPDATE = 1, CT_DIGEST = 2, CT_PULL = 3, CT_FULL = 4 };

typedef struct holder {
    char name[WIRE_NAME_MAX + 1];
    uint32_t boot;
    uint64_t version;
    char **ids;
    uint32_t n, cap;
    strmap index;
    /* a FULL list being assembled */
    uint32_t p_boot;
    uint64_t p_version;
    uint32_t p_parts;
    uint64_t p_got;
    vec p_ids;                   /* char* */
} holder;

struct chtable {
    char self[WIRE_NAME_MAX + 1];
    char cluster[WIRE_CLUSTER_MAX + 1];
    holder *hs;                  /* hs[0] is this node */
    uint32_t nhs;
    int64_t next_digest;
    uint32_t digest_from;        /* where the next digest's window of holders starts */
    vec outbox;                  /* chtable_out */
};

static const char *id_key(const void *ctx, uint32_t i) { return ((const holder *)ctx)->ids[i]; }

static void holder_clear(holder *h) {
    for (uint32_t i = 0; i < h->n; i++) free(h->ids[i]);
    h->n = 0;
    strmap_free(&h->index);
    strmap_init(&h->index, id_key, h);
}

static void pending_clear(holder *h) {
    char **p = h->p_ids.items;
    for (uint32_t i = 0; i < h->p_ids.len; i++) free(p[i]);
    h->p_ids.len = 0;
    h->p_parts = 0;
    h->p_got = 0;
}

static bool holder_add(holder *h, const char *id) {
    if (strmap_find(&h->index, id) >= 0) return true;
    if (h->n == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 16;
        char **v = realloc(h->ids, cap * sizeof *v);
        if (v == NULL) return false;
        h->ids = v;
        h->cap = cap;
    }
    h->ids[h->n] = strdup(id);
    if (h->ids[h->n] == NULL) return false;
    if (!strmap_insert(&h->index, id, h->n)) {
        free(h->ids[h->n]);
        return false;
    }
    h->n++;
    return true;
}

static void holder_del(holder *h, const char *id) {
    int64_t at = strmap_find(&h->index, id);
    if (at < 0) return;
    uint32_t i = (uint32_t)at;
    strmap_remove(&h->index, id);
    free(h->ids[i]);
    if (i != h->n - 1) {
        h->ids[i] = h->ids[h->n - 1];
        strmap_reindex(&h->index, h->ids[i], i);
    }
    h->n--;
}

/* The holders array only grows (forgotten holders are emptied), so the
 * strmap contexts (pointers into it) must be fixed up when it moves. */
static holder *find_holder(chtable *t, const char *name, bool create) {
    for (uint32_t i = 0; i < t->nhs; i++)
        if (strcmp(t->hs[i].name, name) == 0) return &t->hs[i];
    if (!create || t->nhs == MAX_HOLDERS) return NULL;
    holder *v = realloc(t->hs, (t->nhs + 1) * sizeof *v);
    if (v == NULL) return NULL;
    t->hs = v;
    for (uint32_t i = 0; i < t->nhs; i++) t->hs[i].index.ctx = &t->hs[i];
    holder *h = &t->hs[t->nhs++];
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "%s", name);
    strmap_init(&h->index, id_key, h);
    return h;
}

chtable *chtable_new(const char *self, const char *cluster, uint32_t boot) {
    chtable *t = calloc(1, sizeof *t);
    if (t == NULL) return NULL;
    snprintf(t->self, sizeof t->self, "%s", self);
    snprintf(t->cluster, sizeof t->cluster, "%s", cluster);
    holder *h = find_holder(t, self, true);
    if (h == NULL) {
        free(t);
        return NULL;
    }
    h->boot = boot;
    return t;
}

void chtable_outbox_clear(chtable *t) {
    chtable_out *o = t->outbox.items;
    for (uint32_t i = 0; i < t->outbox.len; i++) free(o[i].data);
    t->outbox.len = 0;
}

void chtable_free(chtable *t) {
    if (t == NULL) return;
    for (uint32_t i = 0; i < t->nhs; i++) {
        holder_clear(&t->hs[i]);
        strmap_free(&t->hs[i].index);
        free(t->hs[i].ids);
        pending_clear(&t->hs[i]);
        free(t->hs[i].p_ids.items);
    }
    free(t->hs);
    chtable_outbox_clear(t);
    free(t->outbox.items);
    free(t);
}

/* ---- sending ---------------------------------------------------------------- */

static void start(msgpack_packer *pk, const chtable *t, int type, const holder *h, uint32_t fields) {
    msgpack_pack_array(pk, fields);
    msgpack_pack_uint8(pk, CHTABLE_WIRE_KIND);
    wire_pack_cstr(pk, t->cluster);
    wire_pack_cstr(pk, t->self);
    msgpack_pack_uint8(pk, (uint8_t)type);
    wire_pack_cstr(pk, h->name);
    msgpack_pack_uint32(pk, h->boot);
    msgpack_pack_uint64(pk, h->version);
}

static void queue(chtable *t, const char *to, msgpack_sbuffer *sb) {
    chtable_out o;
    memset(&o, 0, sizeof o);
    snprintf(o.to, sizeof o.to, "%s", to);
    o.len = (uint32_t)sb->size;
    o.data = (uint8_t *)sb->data;
    if (sb->data == NULL || !vec_push(&t->outbox, &o, sizeof o)) msgpack_sbuffer_destroy(sb);
}

static void send_full(chtable *t, const char *to, const holder *h) {
    uint32_t parts = h->n ? (h->n + CHTABLE_PART_MAX - 1) / CHTABLE_PART_MAX : 1;
    if (parts > 64) parts = 64; /* lists beyond 64 x 64 channels: only the first parts (noted in the README) */
    for (uint32_t p = 0; p < parts; p++) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        start(&pk, t, CT_FULL, h, 10);
        msgpack_pack_uint32(&pk, p);
        msgpack_pack_uint32(&pk, parts);
        uint32_t from = p * CHTABLE_PART_MAX, to_i = from + CHTABLE_PART_MAX < h->n ? from + CHTABLE_PART_MAX : h->n;
        msgpack_pack_array(&pk, to_i > from ? to_i - from : 0);
        for (uint32_t i = from; i < to_i; i++) wire_pack_cstr(&pk, h->ids[i]);
        queue(t, to, &sb);
    }
}

void chtable_set_local(chtable *t, const char *channel, bool present) {
    holder *me = &t->hs[0];
    bool has = strmap_find(&me->index, channel) >= 0;
    if (has == present || strlen(channel) > CLAIMS_CHANNEL_MAX) return;
    if (present) {
        if (!holder_add(me, channel)) return;
    } else {
        holder_del(me, channel);
    }
    me->version++;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    start(&pk, t, CT_UPDATE, me, 9);
    wire_pack_cstr(&pk, channel);
    if (present) msgpack_pack_true(&pk);
    else msgpack_pack_false(&pk);
    queue(t, "*", &sb);
}

void chtable_forget(chtable *t, const char *holder_name) {
    if (strcmp(holder_name, t->self) == 0) return;
    holder *h = find_holder(t, holder_name, false);
    if (h == NULL) return;
    holder_clear(h);
    pending_clear(h);
    h->boot = 0;
    h->version = 0;
}

/* A digest names this node first, then at most DIGEST_MAX - 1 other known
 * holders, a window that moves on each time, so that it fits one datagram
 * however many holders there are. */
void chtable_tick(chtable *t, int64_t now) {
    if (now < t->next_digest) return;
    t->next_digest = now + DIGEST_MS;
    uint32_t pick[DIGEST_MAX], k = 0, i = t->digest_from % t->nhs;
    pick[k++] = 0;
    for (uint32_t seen = 0; seen < t->nhs && k < DIGEST_MAX; seen++, i = (i + 1) % t->nhs)
        if (i != 0 && t->hs[i].boot != 0) pick[k++] = i;
    t->digest_from = i;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    start(&pk, t, CT_DIGEST, &t->hs[0], 8);
    msgpack_pack_array(&pk, k);
    for (uint32_t j = 0; j < k; j++) {
        const holder *h = &t->hs[pick[j]];
        msgpack_pack_array(&pk, 3);
        wire_pack_cstr(&pk, h->name);
        msgpack_pack_uint32(&pk, h->boot);
        msgpack_pack_uint64(&pk, h->version);
    }
    queue(t, "?", &sb);
}

/* ---- receiving ----------------------------------------------------------------- */

/* A PULL carries what the asker knows of the holder (boot, version), so
 * that one who knows no more sends nothing. */
static void ask_full(chtable *t, const char *from, const char *holder_name) {
    holder tmp;
    const holder *known = find_holder(t, holder_name, false);
    memset(&tmp, 0, sizeof tmp);
    snprintf(tmp.name, sizeof tmp.name, "%s", holder_name);
    if (known != NULL && known->boot != 0) {
        tmp.boot = known->boot;
        tmp.version = known->version;
    }
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    start(&pk, t, CT_PULL, &tmp, 7);
    queue(t, from, &sb);
}

void chtable_member_up(chtable *t, const char *name) {
    if (strcmp(name, t->self) == 0) return;
    ask_full(t, name, name);
    send_full(t, name, &t->hs[0]); /* it may have missed our updates while it was cut off */
}

/* Is (boot, version) news about h? A new boot replaces what we knew. */
static bool newer(const holder *h, uint32_t boot, uint64_t version) {
    return boot != h->boot || version > h->version;
}

static void apply_update(chtable *t, const char *from, holder *h, uint32_t boot, uint64_t version,
                         const char *channel, bool present) {
    if (boot != h->boot || version != h->version + 1) {
        if (newer(h, boot, version)) ask_full(t, from, h->name); /* missed one: take the whole list */
        return;
    }
    if (present) holder_add(h, channel);
    else holder_del(h, channel);
    h->version = version;
}

static void apply_full_part(holder *h, uint32_t boot, uint64_t version, uint32_t part, uint32_t parts, mp_reader *r) {
    uint32_t n;
    if (parts == 0 || parts > 64 || part >= parts || !mp_read_array(r, &n) || n > CHTABLE_PART_MAX) return;
    if (!newer(h, boot, version)) return;
    if (h->p_parts == 0 || h->p_boot != boot || h->p_version != version || h->p_parts != parts) {
        pending_clear(h);
        h->p_boot = boot;
        h->p_version = version;
        h->p_parts = parts;
    }
    if (h->p_got & (1ULL << part)) return;
    for (uint32_t i = 0; i < n; i++) {
        char id[CLAIMS_CHANNEL_MAX + 1];
        if (!mp_read_str_into(r, id, sizeof id)) {
            pending_clear(h);
            return;
        }
        char *copy = strdup(id);
        if (copy == NULL || !vec_push(&h->p_ids, &copy, sizeof copy)) {
            free(copy);
            pending_clear(h);
            return;
        }
    }
    h->p_got |= 1ULL << part;
    if (h->p_got != (parts == 64 ? UINT64_MAX : (1ULL << parts) - 1)) return;
    holder_clear(h);
    char **p = h->p_ids.items;
    for (uint32_t i = 0; i < h->p_ids.len; i++) holder_add(h, p[i]);
    h->boot = boot;
    h->version = version;
    pending_clear(h);
}

void chtable_recv(chtable *t, const uint8_t *buf, size_t len) {
    mp_reader r;
    uint32_t n;
    uint64_t kind, type, boot, version;
    char cluster[WIRE_CLUSTER_MAX + 1], sender[WIRE_NAME_MAX + 1], hname[WIRE_NAME_MAX + 1];
    mp_reader_init(&r, buf, len);
    if (!mp_read_array(&r, &n) || n < 7 || !mp_read_uint(&r, &kind) || kind != CHTABLE_WIRE_KIND ||
        !mp_read_str_into(&r, cluster, sizeof cluster) || !mp_read_str_into(&r, sender, sizeof sender) ||
        !mp_read_uint_max(&r, CT_FULL, &type) || !mp_read_str_into(&r, hname, sizeof hname) ||
        !mp_read_uint_max(&r, UINT32_MAX, &boot) || !mp_read_uint(&r, &version))
        return;
    if (strcmp(cluster, t->cluster) != 0 || strcmp(sender, t->self) == 0 || hname[0] == '\0') return;
    if (type == CT_PULL) {
        holder *h = find_holder(t, hname, false);
        if (h != NULL && h->boot != 0 && (h->boot != boot || h->version > version)) send_full(t, sender, h);
        return;
    }
    if (type == CT_DIGEST) {
        uint32_t k;
        if (n < 8 || !mp_read_array(&r, &k)) return;
        for (uint32_t i = 0; i < k && i < MAX_HOLDERS; i++) {
            uint32_t f;
            char name[WIRE_NAME_MAX + 1];
            uint64_t b, v;
            if (!mp_read_array(&r, &f) || f < 3 || !mp_read_str_into(&r, name, sizeof name) ||
                !mp_read_uint_max(&r, UINT32_MAX, &b) || !mp_read_uint(&r, &v) || !wire_skip_rest(&r, f, 3))
                return;
            if (b == 0) continue;
            bool mine = strcmp(name, t->self) == 0;
            holder *h = find_holder(t, name, !mine);
            if (h == NULL) continue;
            if (!mine && newer(h, (uint32_t)b, v)) ask_full(t, sender, name);
            /* the sender is behind: push (the other half of push-pull). For
             * our own list any other boot is behind; for another holder's
             * two boots cannot be ordered, and the holder's own digests and
             * updates settle it */
            else if (h->boot != 0 && ((mine && b != h->boot) || (b == h->boot && v < h->version)))
                send_full(t, sender, h);
        }
        return;
    }
    if (strcmp(hname, t->self) == 0) return; /* we are the authority on our own channels */
    holder *h = find_holder(t, hname, true);
    if (h == NULL || boot == 0) return;
    if (type == CT_UPDATE) {
        char channel[CLAIMS_CHANNEL_MAX + 1];
        bool present;
        if (n < 9 || !mp_read_str_into(&r, channel, sizeof channel) || !mp_read_bool(&r, &present)) return;
        apply_update(t, sender, h, (uint32_t)boot, version, channel, present);
    } else if (type == CT_FULL) {
        uint64_t part, parts;
        if (n < 10 || !mp_read_uint_max(&r, 63, &part) || !mp_read_uint_max(&r, 64, &parts)) return;
        apply_full_part(h, (uint32_t)boot, version, (uint32_t)part, (uint32_t)parts, &r);
    }
}

const char *chtable_holder(const chtable *t, const char *channel) {
    const char *best = "";
    for (uint32_t i = 0; i < t->nhs; i++)
        if (strmap_find(&t->hs[i].index, channel) >= 0 && (best[0] == '\0' || strcmp(t->hs[i].name, best) < 0))
            best = t->hs[i].name;
    return best;
}

uint32_t chtable_size(const chtable *t) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->nhs; i++) n += t->hs[i].n;
    return n;
}

const chtable_out *chtable_outbox(const chtable *t, uint32_t *n) {
    *n = t->outbox.len;
    return t->outbox.items;
}

bool chtable_describe(const uint8_t *buf, size_t len, char *out, size_t cap) {
    static const char *const names[] = {"?", "update", "digest", "pull", "full"};
    mp_reader r;
    uint32_t n;
    uint64_t kind, type, boot, version;
    char cluster[WIRE_CLUSTER_MAX + 1], sender[WIRE_NAME_MAX + 1], hname[WIRE_NAME_MAX + 1];
    mp_reader_init(&r, buf, len);
    if (!mp_read_array(&r, &n) || n < 7 || !mp_read_uint(&r, &kind) || kind != CHTABLE_WIRE_KIND ||
        !mp_read_str_into(&r, cluster, sizeof cluster) || !mp_read_str_into(&r, sender, sizeof sender) ||
        !mp_read_uint_max(&r, CT_FULL, &type) || !mp_read_str_into(&r, hname, sizeof hname) ||
        !mp_read_uint_max(&r, UINT32_MAX, &boot) || !mp_read_uint(&r, &version))
        return false;
    snprintf(out, cap, "table %s %s boot %08x v%llu", names[type], hname, (unsigned)boot, (unsigned long long)version);
    return true;
}

/* chtable.c - the replicated channel table (see chtable.h). */
#include "chtable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "mp_read.h"
#include "keyed.h"
#include "vec.h"
#include "wire.h"

#define MAX_HOLDERS 4096
#define DIGEST_MS 2000               /* as Cassandra's gossip: a digest of every holder, often, to one member */
#define DIGEST_MAX 256               /* holders per digest: 256 x ~21 B (up to ~80 B with long names) fits a datagram */
#define COUNTS_MS 1000               /* connection counts go out at most this often, batched */
#define GOT_WORDS (CHTABLE_PARTS_MAX / 64)
#define HOLDER_MAX_ENTRIES (CHTABLE_PARTS_MAX * CHTABLE_PART_MAX) /* what a FULL can carry; bounds memory */

enum { CT_UPDATE = 1, CT_DIGEST = 2, CT_PULL = 3, CT_FULL = 4 };

typedef struct entry {              /* 24 bytes: 100k channels fit well inside 16 MiB */
    char *id;
    uint64_t created;
    uint32_t conns;
    bool dirty;                  /* this node's: a count not yet sent */
} entry;

typedef struct holder {
    char name[WIRE_NAME_MAX + 1];
    uint32_t boot;               /* 0: nothing known */
    uint64_t version;
    bool gone;                   /* forgotten (gossip: dead or left): only the holder itself or
                                  * gossip saying it is back may bring its list back, never a
                                  * third node that has not forgotten it yet */
    keyed es;                    /* entry, by channel */
    /* a FULL list being assembled */
    uint32_t p_boot;
    uint64_t p_version;
    uint32_t p_parts, p_ngot;
    uint64_t p_got[GOT_WORDS];
    vec p_es;                    /* entry */
} holder;

struct chtable {
    char self[WIRE_NAME_MAX + 1];
    char cluster[WIRE_CLUSTER_MAX + 1];
    holder *hs;                  /* hs[0] is this node */
    uint32_t nhs, caphs;
    int64_t next_digest, next_counts;
    uint32_t digest_from;        /* where the next digest's window of holders starts */
    bool dirty;                  /* some local entry has a count not yet sent */
    outbox out;
};

static const char *id_key(const void *item) { return ((const entry *)item)->id; }
static entry *entry_at(const holder *h, uint32_t i) { return keyed_at(&h->es, i); }

static void holder_clear(holder *h) {
    for (uint32_t i = 0; i < h->es.n; i++) free(entry_at(h, i)->id);
    keyed_clear(&h->es);
}

static void pending_clear(holder *h) {
    entry *p = h->p_es.items;
    for (uint32_t i = 0; i < h->p_es.len; i++) free(p[i].id);
    h->p_es.len = 0;
    h->p_parts = 0;
    h->p_ngot = 0;
    memset(h->p_got, 0, sizeof h->p_got);
}

static entry *holder_find(holder *h, const char *id) {
    int64_t at = keyed_find(&h->es, id);
    return at < 0 ? NULL : entry_at(h, (uint32_t)at);
}

/* Inserts or updates; false: out of memory. */
static bool holder_put(holder *h, const char *id, uint32_t conns, uint64_t created) {
    entry *e = holder_find(h, id);
    if (e != NULL) {
        e->conns = conns;
        return true;
    }
    if (h->es.n >= HOLDER_MAX_ENTRIES) return false;
    entry fresh = {.id = strdup(id), .conns = conns, .created = created};
    if (fresh.id == NULL || keyed_add(&h->es, &fresh) < 0) {
        free(fresh.id);
        return false;
    }
    return true;
}

static void holder_del(holder *h, const char *id) {
    int64_t at = keyed_find(&h->es, id);
    if (at < 0) return;
    char *key = entry_at(h, (uint32_t)at)->id; /* freed after the index forgot it */
    keyed_remove(&h->es, (uint32_t)at);
    free(key);
}

/* The holders array only grows (forgotten holders are emptied), so the
 * entry indexes (pointers into it) are rebound when it moves. */
static holder *find_holder(chtable *t, const char *name, bool create) {
    for (uint32_t i = 0; i < t->nhs; i++)
        if (strcmp(t->hs[i].name, name) == 0) return &t->hs[i];
    if (!create || t->nhs == MAX_HOLDERS) return NULL;
    uint32_t cap = t->caphs;
    if (!array_grow(&t->hs, &t->caphs, (size_t)t->nhs + 1, sizeof *t->hs)) return NULL;
    if (t->caphs != cap) /* it may have moved */
        for (uint32_t i = 0; i < t->nhs; i++) keyed_rebind(&t->hs[i].es);
    holder *h = &t->hs[t->nhs++];
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "%s", name);
    keyed_init(&h->es, sizeof(entry), id_key);
    return h;
}

static const holder *find_holder_c(const chtable *t, const char *name) {
    for (uint32_t i = 0; i < t->nhs; i++)
        if (strcmp(t->hs[i].name, name) == 0) return &t->hs[i];
    return NULL;
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
    h->boot = boot ? boot : 1; /* 0 means "unknown" on the wire */
    return t;
}

void chtable_free(chtable *t) {
    if (t == NULL) return;
    for (uint32_t i = 0; i < t->nhs; i++) {
        holder_clear(&t->hs[i]);
        keyed_free(&t->hs[i].es);
        pending_clear(&t->hs[i]);
        free(t->hs[i].p_es.items);
    }
    free(t->hs);
    outbox_free(&t->out);
    free(t);
}

/* ---- sending ---------------------------------------------------------------- */

typedef struct msg {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} msg;

static void start(msg *m, const chtable *t, int type, const holder *h, uint32_t fields) {
    msgpack_sbuffer_init(&m->sb);
    msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
    msgpack_pack_array(&m->pk, fields);
    msgpack_pack_uint8(&m->pk, CHTABLE_WIRE_KIND);
    wire_pack_cstr(&m->pk, t->cluster);
    wire_pack_cstr(&m->pk, t->self);
    msgpack_pack_uint8(&m->pk, (uint8_t)type);
    wire_pack_cstr(&m->pk, h->name);
    msgpack_pack_uint32(&m->pk, h->boot);
    msgpack_pack_uint64(&m->pk, h->version);
}

static void pack_entry(msg *m, const char *id, uint32_t conns, uint64_t created) {
    msgpack_pack_array(&m->pk, 3);
    wire_pack_cstr(&m->pk, id);
    msgpack_pack_uint32(&m->pk, conns);
    msgpack_pack_uint64(&m->pk, created);
}

static void queue(chtable *t, const char *to, msg *m) {
    core_out o = {0};
    snprintf(o.to, sizeof o.to, "%s", to);
    outbox_push_sbuffer(&t->out, &o, &m->sb);
}

/* Lists longer than CHTABLE_PARTS_MAX x CHTABLE_PART_MAX entries go out
 * truncated (noted in the README). */
static void send_full(chtable *t, const char *to, const holder *h) {
    uint32_t parts = h->es.n ? (h->es.n + CHTABLE_PART_MAX - 1) / CHTABLE_PART_MAX : 1;
    if (parts > CHTABLE_PARTS_MAX) parts = CHTABLE_PARTS_MAX;
    for (uint32_t p = 0; p < parts; p++) {
        msg m;
        start(&m, t, CT_FULL, h, 10);
        msgpack_pack_uint32(&m.pk, p);
        msgpack_pack_uint32(&m.pk, parts);
        uint32_t from = p * CHTABLE_PART_MAX, to_i = from + CHTABLE_PART_MAX < h->es.n ? from + CHTABLE_PART_MAX : h->es.n;
        msgpack_pack_array(&m.pk, to_i > from ? to_i - from : 0);
        for (uint32_t i = from; i < to_i; i++) {
            const entry *x = entry_at(h, i);
            pack_entry(&m, x->id, x->conns, x->created);
        }
        queue(t, to, &m);
    }
}

void chtable_set_local(chtable *t, const char *channel, uint32_t connections, uint64_t created_ms) {
    holder *me = &t->hs[0];
    entry *e = holder_find(me, channel);
    if (strlen(channel) > CLAIMS_CHANNEL_MAX || (e == NULL && connections == 0)) return;
    if (e != NULL && connections != 0) { /* a count: batched by chtable_tick */
        if (e->conns != connections) {
            e->conns = connections;
            e->dirty = true;
            t->dirty = true;
        }
        return;
    }
    if (e == NULL) {
        if (!holder_put(me, channel, connections, created_ms)) return;
        e = holder_find(me, channel);
    }
    uint64_t created = e->created;
    if (connections == 0) holder_del(me, channel);
    me->version++;
    msg m;
    start(&m, t, CT_UPDATE, me, 8);
    msgpack_pack_array(&m.pk, 1);
    pack_entry(&m, channel, connections, created);
    queue(t, "*", &m);
}

static void send_counts(chtable *t) {
    holder *me = &t->hs[0];
    uint32_t i = 0;
    while (i < me->es.n) {
        uint32_t k = 0, from = i;
        for (; i < me->es.n && k < CHTABLE_PART_MAX; i++) k += entry_at(me, i)->dirty;
        if (k == 0) break;
        me->version++;
        msg m;
        start(&m, t, CT_UPDATE, me, 8);
        msgpack_pack_array(&m.pk, k);
        for (uint32_t j = from; j < i; j++) {
            entry *x = entry_at(me, j);
            if (!x->dirty) continue;
            x->dirty = false;
            pack_entry(&m, x->id, x->conns, x->created);
        }
        queue(t, "*", &m);
    }
    t->dirty = false;
}

void chtable_forget(chtable *t, const char *holder_name) {
    if (strcmp(holder_name, t->self) == 0) return;
    holder *h = find_holder(t, holder_name, false);
    if (h == NULL) return;
    holder_clear(h);
    pending_clear(h);
    h->boot = 0;
    h->version = 0;
    h->gone = true;
}

/* A digest names this node first, then at most DIGEST_MAX - 1 other known
 * holders, a window that moves on each time, so that it fits one datagram
 * however many holders there are. */
static void send_digest(chtable *t) {
    uint32_t pick[DIGEST_MAX], k = 0, i = t->digest_from % t->nhs;
    pick[k++] = 0;
    for (uint32_t seen = 0; seen < t->nhs && k < DIGEST_MAX; seen++, i = (i + 1) % t->nhs)
        if (i != 0 && t->hs[i].boot != 0) pick[k++] = i;
    t->digest_from = i;
    msg m;
    start(&m, t, CT_DIGEST, &t->hs[0], 8);
    msgpack_pack_array(&m.pk, k);
    for (uint32_t j = 0; j < k; j++) {
        const holder *h = &t->hs[pick[j]];
        msgpack_pack_array(&m.pk, 3);
        wire_pack_cstr(&m.pk, h->name);
        msgpack_pack_uint32(&m.pk, h->boot);
        msgpack_pack_uint64(&m.pk, h->version);
    }
    queue(t, "?", &m);
}

void chtable_tick(chtable *t, int64_t now) {
    if (t->dirty && now >= t->next_counts) {
        send_counts(t);
        t->next_counts = now + COUNTS_MS;
    }
    if (now >= t->next_digest) {
        t->next_digest = now + DIGEST_MS;
        send_digest(t);
    }
}

int64_t chtable_next_deadline(const chtable *t) {
    return t->dirty && t->next_counts < t->next_digest ? t->next_counts : t->next_digest;
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
    msg m;
    start(&m, t, CT_PULL, &tmp, 7);
    queue(t, from, &m);
}

void chtable_member_up(chtable *t, const char *name) {
    if (strcmp(name, t->self) == 0) return;
    holder *h = find_holder(t, name, false);
    if (h != NULL) h->gone = false;
    ask_full(t, name, name);
    send_full(t, name, &t->hs[0]); /* it may have missed our updates while it was cut off */
}

/* Is (boot, version) news about h? A new boot replaces what we knew. */
static bool newer(const holder *h, uint32_t boot, uint64_t version) {
    return boot != h->boot || version > h->version;
}

typedef struct wire_entry {
    char id[CLAIMS_CHANNEL_MAX + 1];
    uint64_t conns, created;
} wire_entry;

static bool read_entry(mp_reader *r, wire_entry *e) {
    uint32_t f;
    return mp_read_array(r, &f) && f >= 3 && mp_read_str_into(r, e->id, sizeof e->id) && e->id[0] != '\0' &&
           mp_read_uint_max(r, UINT32_MAX, &e->conns) && mp_read_uint(r, &e->created) && wire_skip_rest(r, f, 3);
}

static void apply_update(chtable *t, const char *from, holder *h, uint32_t boot, uint64_t version, mp_reader *r) {
    if (boot != h->boot || version != h->version + 1) {
        if (newer(h, boot, version)) ask_full(t, from, h->name); /* missed one: take the whole list */
        return;
    }
    uint32_t k;
    wire_entry e;
    if (!mp_read_array(r, &k) || k > CHTABLE_PART_MAX) return;
    /* read all before applying any, so that a bad datagram changes nothing */
    mp_reader check = *r;
    for (uint32_t i = 0; i < k; i++)
        if (!read_entry(&check, &e)) return;
    for (uint32_t i = 0; i < k; i++) {
        read_entry(r, &e);
        if (e.conns == 0) holder_del(h, e.id);
        else holder_put(h, e.id, (uint32_t)e.conns, e.created);
    }
    h->version = version;
}

static void apply_full_part(holder *h, uint32_t boot, uint64_t version, uint32_t part, uint32_t parts, mp_reader *r) {
    uint32_t n;
    if (parts == 0 || parts > CHTABLE_PARTS_MAX || part >= parts || !mp_read_array(r, &n) || n > CHTABLE_PART_MAX)
        return;
    if (!newer(h, boot, version)) return;
    if (h->p_parts == 0 || h->p_boot != boot || h->p_version != version || h->p_parts != parts) {
        pending_clear(h);
        h->p_boot = boot;
        h->p_version = version;
        h->p_parts = parts;
    }
    if (h->p_got[part / 64] & (1ULL << (part % 64))) return;
    for (uint32_t i = 0; i < n; i++) {
        wire_entry w;
        if (!read_entry(r, &w)) {
            pending_clear(h);
            return;
        }
        entry e = {.id = strdup(w.id), .conns = (uint32_t)w.conns, .created = w.created};
        if (e.id == NULL || !vec_push(&h->p_es, &e, sizeof e)) {
            free(e.id);
            pending_clear(h);
            return;
        }
    }
    h->p_got[part / 64] |= 1ULL << (part % 64);
    if (++h->p_ngot < parts) return;
    holder_clear(h);
    keyed_reserve(&h->es, h->p_es.len); /* room for the whole list at once, not one doubling at a time */
    entry *p = h->p_es.items;
    for (uint32_t i = 0; i < h->p_es.len; i++)
        if (p[i].conns > 0) holder_put(h, p[i].id, p[i].conns, p[i].created);
    h->boot = boot;
    h->version = version;
    pending_clear(h);
    free(h->p_es.items); /* a list can be long: keep no buffer for the next one */
    memset(&h->p_es, 0, sizeof h->p_es);
}

static void recv_digest(chtable *t, const char *sender, mp_reader *r) {
    uint32_t k;
    if (!mp_read_array(r, &k)) return;
    for (uint32_t i = 0; i < k && i < MAX_HOLDERS; i++) {
        uint32_t f;
        char name[WIRE_NAME_MAX + 1];
        uint64_t b, v;
        if (!mp_read_array(r, &f) || f < 3 || !mp_read_str_into(r, name, sizeof name) ||
            !mp_read_uint_max(r, UINT32_MAX, &b) || !mp_read_uint(r, &v) || !wire_skip_rest(r, f, 3))
            return;
        if (b == 0 || name[0] == '\0') continue;
        bool mine = strcmp(name, t->self) == 0;
        holder *h = find_holder(t, name, !mine);
        if (h == NULL || (h->gone && strcmp(sender, name) != 0)) continue;
        if (!mine && newer(h, (uint32_t)b, v)) ask_full(t, sender, name);
        /* the sender is behind: push (the other half of push-pull). For
         * our own list any other boot is behind; for another holder's two
         * boots cannot be ordered, and the holder's own digests and
         * updates settle it */
        else if (h->boot != 0 && ((mine && b != h->boot) || (b == h->boot && v < h->version)))
            send_full(t, sender, h);
    }
}

typedef struct header {
    uint32_t n;
    uint64_t type, boot, version;
    char sender[WIRE_NAME_MAX + 1], holder[WIRE_NAME_MAX + 1];
} header;

static bool read_header(mp_reader *r, const uint8_t *buf, size_t len, char *cluster, size_t ccap, header *h) {
    uint64_t kind;
    mp_reader_init(r, buf, len);
    return mp_read_array(r, &h->n) && h->n >= 7 && mp_read_uint(r, &kind) && kind == CHTABLE_WIRE_KIND &&
           mp_read_str_into(r, cluster, ccap) && mp_read_str_into(r, h->sender, sizeof h->sender) &&
           mp_read_uint_max(r, CT_FULL, &h->type) && h->type >= CT_UPDATE &&
           mp_read_str_into(r, h->holder, sizeof h->holder) && mp_read_uint_max(r, UINT32_MAX, &h->boot) &&
           mp_read_uint(r, &h->version);
}

void chtable_recv(chtable *t, const uint8_t *buf, size_t len) {
    mp_reader r;
    header hd;
    char cluster[WIRE_CLUSTER_MAX + 1];
    if (!read_header(&r, buf, len, cluster, sizeof cluster, &hd)) return;
    if (strcmp(cluster, t->cluster) != 0 || strcmp(hd.sender, t->self) == 0 || hd.holder[0] == '\0') return;
    if (hd.type == CT_PULL) {
        holder *h = find_holder(t, hd.holder, false);
        if (h != NULL && h->boot != 0 && (h->boot != hd.boot || h->version > hd.version)) send_full(t, hd.sender, h);
        return;
    }
    if (hd.type == CT_DIGEST) {
        if (hd.n >= 8) recv_digest(t, hd.sender, &r);
        return;
    }
    if (strcmp(hd.holder, t->self) == 0) return; /* we are the authority on our own channels */
    holder *h = find_holder(t, hd.holder, true);
    if (h == NULL || hd.boot == 0) return;
    if (h->gone) {
        if (strcmp(hd.sender, hd.holder) != 0) return; /* a third node's copy of a forgotten list */
        h->gone = false;                               /* the holder itself: it is back */
    }
    if (hd.type == CT_UPDATE) {
        if (hd.n >= 8) apply_update(t, hd.sender, h, (uint32_t)hd.boot, hd.version, &r);
    } else if (hd.type == CT_FULL) {
        uint64_t part, parts;
        if (hd.n < 10 || !mp_read_uint_max(&r, CHTABLE_PARTS_MAX - 1, &part) ||
            !mp_read_uint_max(&r, CHTABLE_PARTS_MAX, &parts))
            return;
        apply_full_part(h, (uint32_t)hd.boot, hd.version, (uint32_t)part, (uint32_t)parts, &r);
    }
}

/* ---- reading the table --------------------------------------------------------- */

const char *chtable_holder(const chtable *t, const char *channel) {
    const char *best = "";
    for (uint32_t i = 0; i < t->nhs; i++)
        if (keyed_find(&t->hs[i].es, channel) >= 0 && (best[0] == '\0' || strcmp(t->hs[i].name, best) < 0))
            best = t->hs[i].name;
    return best;
}

uint32_t chtable_size(const chtable *t) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->nhs; i++) n += t->hs[i].es.n;
    return n;
}

uint32_t chtable_holders_known(const chtable *t) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->nhs; i++) n += t->hs[i].boot != 0;
    return n;
}

bool chtable_sender(const uint8_t *buf, size_t len, char *sender, size_t cap) {
    mp_reader r;
    header hd;
    char cluster[WIRE_CLUSTER_MAX + 1];
    if (!read_header(&r, buf, len, cluster, sizeof cluster, &hd)) return false;
    snprintf(sender, cap, "%s", hd.sender);
    return true;
}

uint32_t chtable_count_of(const chtable *t, const char *holder_name) {
    const holder *h = find_holder_c(t, holder_name);
    return h ? h->es.n : 0;
}

void chtable_each(const chtable *t, bool (*visit)(void *ctx, const chtable_entry *e), void *ctx) {
    for (uint32_t i = 0; i < t->nhs; i++)
        for (uint32_t j = 0; j < t->hs[i].es.n; j++) {
            const entry *x = entry_at(&t->hs[i], j);
            chtable_entry e = {.channel = x->id, .holder = t->hs[i].name, .connections = x->conns,
                               .created_ms = x->created};
            if (!visit(ctx, &e)) return;
        }
}

bool chtable_describe(const uint8_t *buf, size_t len, char *out, size_t cap) {
    static const char *const names[] = {"?", "update", "digest", "pull", "full"};
    mp_reader r;
    header hd;
    char cluster[WIRE_CLUSTER_MAX + 1];
    if (!read_header(&r, buf, len, cluster, sizeof cluster, &hd)) return false;
    snprintf(out, cap, "table %s %s boot %08x v%llu", names[hd.type], hd.holder, (unsigned)hd.boot,
             (unsigned long long)hd.version);
    return true;
}

outbox *chtable_outbox(chtable *t) { return &t->out; }

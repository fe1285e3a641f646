/* claims.c - channel claims granted by a majority (see claims.h). */
#include "claims.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "mp_read.h"
#include "keyed.h"
#include "vec.h"
#include "wire.h"

enum { CLAIM_REQ = 1, CLAIM_ACK = 2, CLAIM_REL = 3 };

/* A member's record: channel -> holder. */
typedef struct record {
    char *id;
    char holder[WIRE_NAME_MAX + 1];
    uint64_t epoch;
    int64_t refreshed_at;        /* local ms of the holder's latest request */
} record;

typedef struct grant {
    char member[WIRE_NAME_MAX + 1];
    uint32_t boot;
    int64_t sent_at;             /* our local ms when we sent the request it granted */
} grant;

/* A claim this node made. */
typedef struct claim {
    char *id;
    uint64_t epoch;
    bool held;
    int64_t deadline;            /* pending: fail after this */
    int64_t next_refresh;        /* held: re-ask missing members then */
    grant grants[RAFT_MAX_MEMBERS];
    uint32_t ngrants;
} claim;

struct claims {
    claims_config cfg;
    keyed recs;                  /* record, by channel */
    keyed cls;                   /* claim, by channel */
    uint64_t next_epoch;
    vec events;                  /* claims_event */
    outbox out;
};

void claims_config_default(claims_config *c) {
    memset(c, 0, sizeof *c);
    c->request_timeout_ms = 1000;
    c->refresh_ms = 2000;
    c->fence_margin_ms = 100;
}

static const char *rec_key(const void *item) { return ((const record *)item)->id; }
static const char *cl_key(const void *item) { return ((const claim *)item)->id; }
static record *rec_at(const claims *c, uint32_t i) { return keyed_at(&c->recs, i); }
static claim *cl_at(const claims *c, uint32_t i) { return keyed_at(&c->cls, i); }

claims *claims_new(const claims_config *cfg) {
    claims *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->cfg = *cfg;
    keyed_init(&c->recs, sizeof(record), rec_key);
    keyed_init(&c->cls, sizeof(claim), cl_key);
    c->next_epoch = 1;
    return c;
}

void claims_free(claims *c) {
    if (c == NULL) return;
    for (uint32_t i = 0; i < c->recs.n; i++) free(rec_at(c, i)->id);
    for (uint32_t i = 0; i < c->cls.n; i++) free(cl_at(c, i)->id);
    keyed_free(&c->recs);
    keyed_free(&c->cls);
    outbox_free(&c->out);
    free(c->events.items);
    free(c);
}

/* ---- helpers ------------------------------------------------------------- */

static bool in_roster(const raft_roster *ro, const char *name) {
    for (uint32_t i = 0; i < ro->n; i++)
        if (strcmp(ro->names[i], name) == 0) return true;
    return false;
}

static void event(claims *c, claims_event_type t, const char *channel, const char *holder) {
    claims_event e;
    memset(&e, 0, sizeof e);
    e.type = t;
    snprintf(e.channel, sizeof e.channel, "%s", channel);
    snprintf(e.holder, sizeof e.holder, "%s", holder ? holder : "");
    vec_push(&c->events, &e, sizeof e); /* out of memory: the event is lost, the claim state is not */
}

static void claims_send(claims *c, const char *to, int type, const char *channel, uint64_t epoch, bool granted,
                        const char *holder, uint32_t boot, int64_t stamp) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 10);
    msgpack_pack_uint8(&pk, CLAIMS_WIRE_KIND);
    wire_pack_cstr(&pk, c->cfg.cluster_name);
    wire_pack_cstr(&pk, c->cfg.node_name);
    msgpack_pack_uint8(&pk, (uint8_t)type);
    wire_pack_cstr(&pk, channel);
    msgpack_pack_uint64(&pk, epoch);
    if (granted) msgpack_pack_true(&pk);
    else msgpack_pack_false(&pk);
    wire_pack_cstr(&pk, holder);
    msgpack_pack_uint32(&pk, boot);
    msgpack_pack_uint64(&pk, (uint64_t)(stamp < 0 ? 0 : stamp)); /* monotonic clocks: never negative */
    core_out o = {0};
    snprintf(o.to, sizeof o.to, "%s", to);
    outbox_push_sbuffer(&c->out, &o, &sb);
}

static struct claim *find_claim(const claims *c, const char *id);

/* ---- member side: records -------------------------------------------------- */

static record *find_rec(const claims *c, const char *id) {
    int64_t i = keyed_find(&c->recs, id);
    return i < 0 ? NULL : rec_at(c, (uint32_t)i);
}

static record *add_rec(claims *c, const char *id) {
    if (c->recs.n >= CLAIMS_MAX_RECORDS) return NULL;
    record r = {.id = strdup(id)};
    int64_t i = r.id ? keyed_add(&c->recs, &r) : -1;
    if (i < 0) {
        free(r.id);
        return NULL;
    }
    return rec_at(c, (uint32_t)i);
}

static void del_rec(claims *c, const char *id) {
    int64_t at = keyed_find(&c->recs, id);
    if (at < 0) return;
    char *key = rec_at(c, (uint32_t)at)->id; /* freed after the index forgot it */
    keyed_remove(&c->recs, (uint32_t)at);
    free(key);
}

static int64_t fence_ms(const lease *l, const claims *c) {
    const lease_config *lc = lease_get_config(l);
    return (int64_t)((double)lc->lease_ms * (1.0 + lc->drift)) + c->cfg.fence_margin_ms;
}

/* A record its holder stopped refreshing (its claim failed, or a release
 * was lost) lapses after this on the member's clock; the holder counts the
 * member for a shorter time on its own clock, so that it never counts a
 * record the member has let lapse. */
static int64_t record_ttl_ms(const claims *c) { return 3 * c->cfg.refresh_ms + c->cfg.request_timeout_ms; }

static int64_t holder_ttl_ms(const lease *l, const claims *c) {
    return (int64_t)((double)record_ttl_ms(c) / (1.0 + lease_get_config(l)->drift)) - c->cfg.fence_margin_ms;
}

/* May `claimant` be recorded for id? Records it if so. */
static bool member_grant(claims *c, int64_t now, const lease *l, const char *id, const char *claimant,
                         uint64_t epoch, char *holder) {
    record *r = find_rec(c, id);
    if (r != NULL && strcmp(r->holder, claimant) != 0) {
        /* Our own record stands while we keep the claim; another holder's
         * stands while we answered its lease pings within the fence. */
#ifdef SHOAL_PLANTED_FAULT_NO_CLAIM_FENCE
        /* Planted fault for bench/splitbrain's self-test only: hand the
         * channel to whoever asks. Never built into shoald. */
        (void)l;
        if (true) {
            snprintf(r->holder, sizeof r->holder, "%s", claimant);
            r->refreshed_at = now;
            return true;
        }
#endif
        bool self = strcmp(r->holder, c->cfg.node_name) == 0;
        int64_t answered = self ? INT64_MIN : lease_answered_at(l, r->holder);
        bool stale = self ? find_claim(c, id) == NULL
                          : (answered == INT64_MIN || now - answered > fence_ms(l, c) ||
                             now - r->refreshed_at > record_ttl_ms(c));
        if (!stale) {
            snprintf(holder, WIRE_NAME_MAX + 1, "%s", r->holder);
            return false;
        }
    }
    if (r == NULL && (r = add_rec(c, id)) == NULL) {
        holder[0] = '\0';
        return false; /* out of room: refused, naming nobody */
    }
    snprintf(r->holder, sizeof r->holder, "%s", claimant);
    if (epoch > r->epoch) r->epoch = epoch;
    r->refreshed_at = now;
    return true;
}

/* ---- claimant side ---------------------------------------------------------- */

static struct claim *find_claim(const claims *c, const char *id) {
    int64_t i = keyed_find(&c->cls, id);
    return i < 0 ? NULL : cl_at(c, (uint32_t)i);
}

static void del_claim(claims *c, const char *id) {
    int64_t at = keyed_find(&c->cls, id);
    if (at < 0) return;
    char *key = cl_at(c, (uint32_t)at)->id; /* freed after the index forgot it */
    keyed_remove(&c->cls, (uint32_t)at);
    free(key);
}

static void add_grant(claim *cl, const char *member, uint32_t boot, int64_t sent_at) {
    for (uint32_t i = 0; i < cl->ngrants; i++)
        if (strcmp(cl->grants[i].member, member) == 0) {
            cl->grants[i].boot = boot;
            if (sent_at > cl->grants[i].sent_at) cl->grants[i].sent_at = sent_at;
            return;
        }
    if (cl->ngrants == RAFT_MAX_MEMBERS) return;
    snprintf(cl->grants[cl->ngrants].member, WIRE_NAME_MAX + 1, "%s", member);
    cl->grants[cl->ngrants].boot = boot;
    cl->grants[cl->ngrants++].sent_at = sent_at;
}

/* Members that recorded us and still grant our lease, boot unchanged. */
/* Until when member grant g counts for claim cl, with no new answer: never
 * (INT64_MIN), as long as our own record stands (INT64_MAX), or until its
 * lease grant or our request's time to live runs out. */
static int64_t grant_counts_until(const claims *c, const claim *cl, const grant *g, const lease *l,
                                  const raft_roster *ro) {
    if (!in_roster(ro, g->member)) return INT64_MIN;
    if (strcmp(g->member, c->cfg.node_name) == 0) {
        const record *r = find_rec(c, cl->id);
        return r != NULL && strcmp(r->holder, c->cfg.node_name) == 0 ? INT64_MAX : INT64_MIN; /* our own record */
    }
    int64_t at;
    uint32_t boot;
    if (!lease_grant_of(l, g->member, &at, &boot) || boot != g->boot) return INT64_MIN;
    int64_t a = at + lease_grant_ms(l), b = g->sent_at + holder_ttl_ms(l, c);
    return a < b ? a : b;
}

static uint32_t valid_count(const claims *c, const claim *cl, int64_t now, const lease *l, const raft_roster *ro) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < cl->ngrants; i++)
        if (now < grant_counts_until(c, cl, &cl->grants[i], l, ro)) n++;
    return n;
}

/* Asks every roster member to record (or keep) us as the holder. */
static void ask_members(claims *c, int64_t now, const lease *l, const raft_roster *ro, claim *cl) {
    for (uint32_t i = 0; i < ro->n; i++) {
        const char *m = ro->names[i];
        if (strcmp(m, c->cfg.node_name) == 0) {
            char holder[WIRE_NAME_MAX + 1];
            if (member_grant(c, now, l, cl->id, c->cfg.node_name, cl->epoch, holder))
                add_grant(cl, m, lease_boot_id(l), now);
            continue;
        }
        claims_send(c, m, CLAIM_REQ, cl->id, cl->epoch, false, "", 0, now);
    }
}

static void check_held(claims *c, int64_t now, const lease *l, const raft_roster *ro, claim *cl) {
    if (cl->held || valid_count(c, cl, now, l, ro) < ro->n / 2 + 1) return;
    cl->held = true;
    cl->next_refresh = now + c->cfg.refresh_ms;
    event(c, CLAIMS_EV_HELD, cl->id, c->cfg.node_name);
}

void claims_acquire(claims *c, int64_t now, const lease *l, const raft_roster *ro, const char *channel) {
    if (strlen(channel) > CLAIMS_CHANNEL_MAX || ro->n == 0) {
        event(c, CLAIMS_EV_FAILED, channel, NULL);
        return;
    }
    claim *cl = find_claim(c, channel);
    if (cl == NULL) {
        claim fresh = {.id = strdup(channel), .epoch = c->next_epoch};
        int64_t i = fresh.id ? keyed_add(&c->cls, &fresh) : -1;
        if (i < 0) {
            free(fresh.id);
            event(c, CLAIMS_EV_FAILED, channel, NULL);
            return;
        }
        c->next_epoch++;
        cl = cl_at(c, (uint32_t)i);
    }
    if (cl->held && claims_valid(c, now, l, ro, channel)) {
        event(c, CLAIMS_EV_HELD, channel, c->cfg.node_name);
        return;
    }
    cl->held = false;
    cl->deadline = now + c->cfg.request_timeout_ms;
    ask_members(c, now, l, ro, cl);
    check_held(c, now, l, ro, cl);
}

void claims_release(claims *c, int64_t now, const raft_roster *ro, const char *channel) {
    (void)now;
    claim *cl = find_claim(c, channel);
    if (cl == NULL) return;
    for (uint32_t i = 0; i < ro->n; i++)
        if (strcmp(ro->names[i], c->cfg.node_name) != 0) claims_send(c, ro->names[i], CLAIM_REL, channel, cl->epoch, false, "", 0, 0);
    record *r = find_rec(c, channel);
    if (r != NULL && strcmp(r->holder, c->cfg.node_name) == 0) del_rec(c, channel);
    del_claim(c, channel);
}

void claims_drop_all(claims *c) {
    while (c->cls.n > 0) del_claim(c, cl_at(c, c->cls.n - 1)->id);
}

bool claims_valid(const claims *c, int64_t now, const lease *l, const raft_roster *ro, const char *channel) {
    const claim *cl = find_claim(c, channel);
    return cl != NULL && cl->held && ro->n > 0 && valid_count(c, cl, now, l, ro) >= ro->n / 2 + 1;
}

int64_t claims_valid_until(const claims *c, int64_t now, const lease *l, const raft_roster *ro, const char *channel) {
    const claim *cl = find_claim(c, channel);
    uint32_t need = ro->n / 2 + 1, k = 0;
    if (cl == NULL || !cl->held || ro->n == 0) return now;
    int64_t ends[RAFT_MAX_MEMBERS];
    for (uint32_t i = 0; i < cl->ngrants; i++) {
        int64_t e = grant_counts_until(c, cl, &cl->grants[i], l, ro);
        if (now < e) ends[k++] = e;
    }
    if (k < need) return now;
    /* the need-th latest end: until then a majority still counts */
    for (uint32_t i = 0; i < need; i++)
        for (uint32_t j = i + 1; j < k; j++)
            if (ends[j] > ends[i]) {
                int64_t t = ends[i];
                ends[i] = ends[j];
                ends[j] = t;
            }
    return ends[need - 1];
}

bool claims_pending(const claims *c, const char *channel) {
    const claim *cl = find_claim(c, channel);
    return cl != NULL && !cl->held;
}

const char *claims_recorded(const claims *c, const char *channel) {
    const record *r = find_rec(c, channel);
    return r ? r->holder : "";
}

uint32_t claims_held_count(const claims *c) { return c->cls.n; }
uint32_t claims_record_count(const claims *c) { return c->recs.n; }

/* ---- input and time --------------------------------------------------------- */

void claims_recv(claims *c, int64_t now, const lease *l, const raft_roster *ro, const uint8_t *buf, size_t len) {
    mp_reader r;
    uint32_t n;
    uint64_t kind, type, epoch, boot;
    bool granted;
    char cluster[WIRE_CLUSTER_MAX + 1], sender[WIRE_NAME_MAX + 1], channel[CLAIMS_CHANNEL_MAX + 1],
        holder[WIRE_NAME_MAX + 1];
    mp_reader_init(&r, buf, len);
    if (!mp_read_array(&r, &n) || n < 9 || !mp_read_uint(&r, &kind) || kind != CLAIMS_WIRE_KIND ||
        !mp_read_str_into(&r, cluster, sizeof cluster) || !mp_read_str_into(&r, sender, sizeof sender) ||
        !mp_read_uint_max(&r, CLAIM_REL, &type) || !mp_read_str_into(&r, channel, sizeof channel) ||
        !mp_read_uint(&r, &epoch) || !mp_read_bool(&r, &granted) || !mp_read_str_into(&r, holder, sizeof holder) ||
        !mp_read_uint_max(&r, UINT32_MAX, &boot))
        return;
    uint64_t ustamp = 0;
    if (n >= 10 && !mp_read_uint_max(&r, INT64_MAX, &ustamp)) return;
    int64_t stamp = (int64_t)ustamp;
    if (strcmp(cluster, c->cfg.cluster_name) != 0 || strcmp(sender, c->cfg.node_name) == 0 || channel[0] == '\0')
        return;
    switch (type) {
    case CLAIM_REQ: {
        /* only members of our roster hold records that count */
        if (!in_roster(ro, c->cfg.node_name)) return;
        bool ok = member_grant(c, now, l, channel, sender, epoch, holder);
        claims_send(c, sender, CLAIM_ACK, channel, epoch, ok, ok ? "" : holder, lease_boot_id(l), stamp);
        break;
    }
    case CLAIM_ACK: {
        claim *cl = find_claim(c, channel);
        if (cl == NULL || epoch != cl->epoch) return;
        if (granted) {
            add_grant(cl, sender, (uint32_t)boot, stamp);
            check_held(c, now, l, ro, cl);
        } else if (!cl->held && holder[0] != '\0') {
            char h[WIRE_NAME_MAX + 1];
            snprintf(h, sizeof h, "%s", holder);
            claims_release(c, now, ro, channel); /* the members that did record us forget it */
            event(c, CLAIMS_EV_REFUSED, channel, h);
        }
        break;
    }
    case CLAIM_REL: {
        record *rec = find_rec(c, channel);
        if (rec != NULL && strcmp(rec->holder, sender) == 0) del_rec(c, channel);
        break;
    }
    }
}

void claims_tick(claims *c, int64_t now, const lease *l, const raft_roster *ro) {
    for (uint32_t i = 0; i < c->cls.n;) {
        claim *cl = cl_at(c, i);
        if (!cl->held && now >= cl->deadline) {
            char id[CLAIMS_CHANNEL_MAX + 1];
            snprintf(id, sizeof id, "%s", cl->id);
            claims_release(c, now, ro, id); /* the last claim moved into slot i: look at i again */
            event(c, CLAIMS_EV_FAILED, id, NULL);
            continue;
        }
        if (cl->held && now >= cl->next_refresh) {
            cl->next_refresh = now + c->cfg.refresh_ms;
            ask_members(c, now, l, ro, cl);
        }
        i++;
    }
}

int64_t claims_next_deadline(const claims *c) {
    int64_t d = INT64_MAX;
    for (uint32_t i = 0; i < c->cls.n; i++) {
        int64_t t = cl_at(c, i)->held ? cl_at(c, i)->next_refresh : cl_at(c, i)->deadline;
        if (t < d) d = t;
    }
    return d;
}

const claims_event *claims_events(const claims *c, uint32_t *n) {
    *n = c->events.len;
    return c->events.items;
}

void claims_events_clear(claims *c) { c->events.len = 0; }

outbox *claims_outbox(claims *c) { return &c->out; }

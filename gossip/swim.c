/* swim.c - SWIM + Lifeguard membership core (see swim.h for the protocol).
 *
 * Sections: member table · outbox and packet building · applying updates
 * (alive/suspect/dead, refutation) · probing · receiving · push-pull ·
 * timers · leave and metadata · accessors. */
#include "swim.h"

#include "vec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROBES 8     /* concurrent probes: the round-robin one + re-probes */
#define MAX_RELAYS 32    /* PING_REQs we serve at once */
#define MAX_FOREIGN 32   /* foreign senders remembered to log each once */
#define MAX_PKT_MSGS 64  /* messages in one compound datagram */

typedef struct probe {
    bool active;
    bool regular;                    /* round-robin probe: affects awareness */
    uint32_t seq;
    char target[WIRE_NAME_MAX + 1];
    shoal_addr addr;
    int64_t direct_deadline, indirect_deadline;
    bool indirect_sent;
    uint32_t expected_nacks, nacks;
    bool carried_self;               /* the ping held our record at carried_incarnation */
    uint32_t carried_incarnation;
} probe;

typedef struct relay {
    bool active;
    uint32_t seq;                    /* our PING to the target */
    shoal_addr origin;
    uint32_t origin_seq;
    bool want_nack;
    int64_t nack_deadline, expire;
} relay;

struct swim {
    swim_config cfg;
    shoal_rng rng;
    swim_member *members;            /* [0] is this node */
    uint32_t nmembers, cap_members;
    uint32_t *index;                 /* open addressing: member index + 1, 0 = empty */
    uint32_t index_cap;              /* power of two, >= 2 * cap_members */
    swim_contact *contacts;
    uint32_t ncontacts, cap_contacts;
    bcast_queue bcast;
    awareness aw;
    probe probes[MAX_PROBES];
    relay relays[MAX_RELAYS];
    uint32_t next_seq;
    uint32_t *probe_order;           /* member indices of the current round */
    uint32_t probe_order_len, probe_pos;
    int64_t next_probe_ms, next_gossip_ms, next_pushpull_ms, next_reconnect_ms;
    int64_t last_tick_ms;
    int64_t stall_grace_until;       /* no deaths declared before this */
    bool leaving;
    int64_t leave_deadline;
    uint64_t cluster_id;             /* 0 until the roster names the cluster */
    uint64_t foreign[MAX_FOREIGN];
    uint32_t nforeign;
    outbox out;
    vec events;                      /* swim_event */
    swim_stats stats;
};

/* ==== small helpers ====================================================== */

static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h ? h : 1;
}

static swim_member *self(swim *s) { return &s->members[0]; }
static void send_pushpull(swim *s, shoal_addr to, uint64_t conn_id, bool is_reply, bool join);

static int64_t scaled(const swim *s, int64_t ms) { return awareness_scale(&s->aw, ms); }

uint32_t swim_live_count(const swim *s) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nmembers; i++)
        if (s->members[i].state <= SWIM_SUSPECT) n++;
    return n;
}

/* SWIM's lambda * log N retransmissions, one decade more than memberlist's
 * mult * ceil(log10(N + 1)): a member misses an update with a probability
 * of about e^-limit, and memberlist's 4 sends below ten members left some
 * member of an 8-node cluster stale in a third of the runs where every
 * node changed its metadata at once (tests/unit/test_swim.c). Updates are
 * rare (joins, deaths, a load change at most once a second), so the extra
 * sends cost little; an idle cluster sends none. */
static uint32_t retransmit_limit(const swim *s) {
    double n = (double)swim_live_count(s) + 1.0;
    return s->cfg.retransmit_mult * ((uint32_t)ceil(log10(n)) + 1);
}

static void emit_event(swim *s, int64_t now, swim_event_type type, const char *name,
                       uint32_t inc, const char *from) {
    swim_event ev = {.type = type, .incarnation = inc, .at_ms = now};
    snprintf(ev.name, sizeof ev.name, "%s", name);
    snprintf(ev.from, sizeof ev.from, "%s", from ? from : "");
    vec_push(&s->events, &ev, sizeof ev); /* an event lost to OOM only loses a log line */
}

/* ==== member table ======================================================= */

static void index_rebuild(swim *s) {
    memset(s->index, 0, s->index_cap * sizeof *s->index);
    for (uint32_t i = 0; i < s->nmembers; i++) {
        uint32_t slot = (uint32_t)s->members[i].name_hash & (s->index_cap - 1);
        while (s->index[slot]) slot = (slot + 1) & (s->index_cap - 1);
        s->index[slot] = i + 1;
    }
}

static swim_member *member_find(const swim *s, const char *name) {
    uint64_t h = name_hash(name);
    uint32_t slot = (uint32_t)h & (s->index_cap - 1);
    while (s->index[slot]) {
        swim_member *m = &s->members[s->index[slot] - 1];
        if (m->name_hash == h && strcmp(m->name, name) == 0) return m;
        slot = (slot + 1) & (s->index_cap - 1);
    }
    return NULL;
}

static swim_member *member_add(swim *s, int64_t now, const wire_node *n) {
    if (s->nmembers >= s->cfg.max_members) return NULL;
    if (s->nmembers == s->cap_members) {
        /* members and probe_order grow to the same capacity, the index to
         * twice it; cap_members changes only once all three have grown (an
         * array that grew before another failed is merely larger). */
        uint32_t cap = s->cap_members, order_cap = s->cap_members;
        if (!array_grow(&s->members, &cap, (size_t)s->nmembers + 1, sizeof *s->members) ||
            !array_grow(&s->probe_order, &order_cap, (size_t)s->nmembers + 1, sizeof *s->probe_order))
            return NULL;
        uint32_t *idx = malloc((size_t)cap * 2 * sizeof *idx);
        if (idx == NULL) return NULL;
        free(s->index);
        s->index = idx;
        s->index_cap = cap * 2;
        s->cap_members = cap;
    }
    swim_member *m = &s->members[s->nmembers++];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", n->name);
    m->name_hash = name_hash(n->name);
    m->addr = n->addr;
    m->incarnation = n->incarnation;
    m->meta = n->meta;
    m->state = SWIM_ALIVE;
    m->state_change_ms = now;
    m->last_heard_ms = -1;
    index_rebuild(s);
    /* Into the current round at a random place after the cursor, so that a
     * newcomer is probed this round, not only after the next reshuffle. */
    uint32_t idx = s->nmembers - 1;
    if (idx > 0 && s->probe_order_len < s->cap_members) {
        uint32_t span = s->probe_order_len - s->probe_pos + 1;
        uint32_t at = s->probe_pos + shoal_rng_below(&s->rng, span);
        memmove(&s->probe_order[at + 1], &s->probe_order[at],
                (s->probe_order_len - at) * sizeof *s->probe_order);
        s->probe_order[at] = idx;
        s->probe_order_len++;
    }
    return m;
}

static void member_to_node(const swim_member *m, wire_node *n) {
    memset(n, 0, sizeof *n);
    snprintf(n->name, sizeof n->name, "%s", m->name);
    n->addr = m->addr;
    n->incarnation = m->incarnation;
    n->state = (uint8_t)m->state;
    n->meta = m->meta;
}

static void set_state(swim *s, swim_member *m, int64_t now, swim_state st) {
    (void)s;
    if (m->state != st) m->state_change_ms = now;
    /* Back from dead or left (restarted, healed): it may have missed our news. */
    if (m->state >= SWIM_DEAD && st <= SWIM_SUSPECT) m->told = false;
    m->state = st;
}

/* ==== outbox and packet building ========================================= */

static void outbox_add(swim *s, swim_out_kind kind, shoal_addr to, uint64_t conn_id,
                       msgpack_sbuffer *buf) {
    uint32_t len = (uint32_t)buf->size;
    core_out o = {.kind = kind, .addr = to, .conn_id = conn_id};
    if (!outbox_push_sbuffer(&s->out, &o, buf)) return; /* dropped: SWIM tolerates loss */
    if (kind == SWIM_OUT_PACKET) {
        s->stats.packets_out++;
        s->stats.bytes_out += len;
    } else {
        s->stats.streams_out++;
    }
}

/* Messages of one datagram, gathered before the header can be written. */
typedef struct pkt {
    msgpack_sbuffer body;
    msgpack_packer pk;
    uint32_t count;
} pkt;

static void pkt_init(pkt *p) {
    msgpack_sbuffer_init(&p->body);
    msgpack_packer_init(&p->pk, &p->body, msgpack_sbuffer_write);
    p->count = 0;
}

static void pkt_emit_raw(void *ctx, const uint8_t *data, uint32_t len) {
    pkt *p = ctx;
    msgpack_sbuffer_write(&p->body, (const char *)data, len);
    p->count++;
}

static size_t header_size(const swim *s) {
    /* array(5) + version + str(cluster) + u64 cluster id + str(sender) + array32 header */
    return 1 + 1 + 5 + strlen(s->cfg.cluster_name) + 9 + 5 + strlen(s->cfg.node_name) + 5;
}

/* Fills the rest of the datagram with queued updates and sends it. A packet
 * with no message at all is not sent. */
static void pkt_send(swim *s, pkt *p, shoal_addr to) {
    size_t used = header_size(s) + p->body.size;
    if (used < WIRE_MAX_PACKET && p->count < MAX_PKT_MSGS)
        bcast_queue_fill(&s->bcast, retransmit_limit(s), WIRE_MAX_PACKET - used,
                         MAX_PKT_MSGS - p->count, pkt_emit_raw, p);
    if (p->count == 0) {
        msgpack_sbuffer_destroy(&p->body);
        return;
    }
    msgpack_sbuffer out;
    msgpack_packer pk;
    msgpack_sbuffer_init(&out);
    msgpack_packer_init(&pk, &out, msgpack_sbuffer_write);
    wire_pack_header(&pk, s->cfg.cluster_name, s->cluster_id, s->cfg.node_name, p->count);
    msgpack_sbuffer_write(&out, p->body.data, p->body.size);
    msgpack_sbuffer_destroy(&p->body);
    outbox_add(s, SWIM_OUT_PACKET, to, 0, &out);
}

/* Queues an encoded update about `key` for dissemination. */
static void queue_update(swim *s, const char *key, msgpack_sbuffer *b) {
    bcast_queue_push(&s->bcast, key, b->data, (uint32_t)b->size);
    msgpack_sbuffer_destroy(b);
}

static void queue_alive(swim *s, const swim_member *m) {
    msgpack_sbuffer b;
    msgpack_packer pk;
    msgpack_sbuffer_init(&b);
    msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
    wire_node n;
    member_to_node(m, &n);
    wire_pack_alive(&pk, &n);
    bcast_queue_drop_prefix(&s->bcast, m->name, '|');
    queue_update(s, m->name, &b);
}

/* Suspicions are queued per accuser ("name|from") so that independent
 * confirmations all travel (Lifeguard needs them); a dead or alive update
 * about the member replaces all of them. */
static void queue_accusation(swim *s, uint8_t type, const char *name, uint32_t inc,
                             const char *from) {
    msgpack_sbuffer b;
    msgpack_packer pk;
    msgpack_sbuffer_init(&b);
    msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
    if (type == WIRE_SUSPECT) {
        wire_pack_suspect(&pk, name, inc, from);
        char key[2 * WIRE_NAME_MAX + 2];
        snprintf(key, sizeof key, "%s|%s", name, from);
        queue_update(s, key, &b);
    } else {
        wire_pack_dead(&pk, name, inc, from);
        bcast_queue_drop_prefix(&s->bcast, name, '|');
        queue_update(s, name, &b);
    }
}

/* Adds this node's own alive record to a datagram. */
static void pack_self_alive(swim *s, pkt *p) {
    wire_node n;
    member_to_node(self(s), &n);
    wire_pack_alive(&p->pk, &n);
    p->count++;
}

/* Sends this node's own alive record straight to addr (refutation, leave). */
static void send_self_state(swim *s, shoal_addr to, bool as_leave) {
    pkt p;
    pkt_init(&p);
    swim_member *me = self(s);
    if (as_leave) {
        wire_pack_dead(&p.pk, me->name, me->incarnation, me->name);
        p.count++;
    } else {
        pack_self_alive(s, &p);
    }
    pkt_send(s, &p, to);
}

/* A ping carries the prober's own record until the target has acked one
 * that holds our current incarnation. Gossip spends an update in
 * retransmit_limit() sends per node and misses a given member with a
 * probability of about e^-limit each time; when every node of a cluster
 * changed its metadata at once (a roster formed, all start serving) some
 * node kept a stale record until the next push-pull, 30 s later, and so a
 * different placement ring. Round-robin probing reaches every member
 * within two rounds, so every member holds every other's latest record
 * within 2 (N - 1) probe intervals whatever gossip missed; an idle cluster
 * sends nothing more (once told, a member is not told again). */
static void pack_self_for_probe(swim *s, pkt *p, const swim_member *m, probe *pr) {
    if (s->leaving || (m->told && m->told_incarnation == self(s)->incarnation)) return;
    pack_self_alive(s, p);
    pr->carried_self = true;
    pr->carried_incarnation = self(s)->incarnation;
}

/* ==== applying updates =================================================== */

static uint32_t expected_confirmations(const swim *s) {
    uint32_t live = swim_live_count(s);
    uint32_t others = live >= 2 ? live - 2 : 0; /* minus ourselves and the suspect */
    return others < s->cfg.suspicion_confirmations ? others : s->cfg.suspicion_confirmations;
}

static int64_t suspicion_min(const swim *s) {
    double n = (double)swim_live_count(s);
    double f = n > 32.0 ? log2(n) / 5.0 : 1.0; /* dissemination grows with log N */
    return (int64_t)((double)s->cfg.suspicion_min_ms * f);
}

/* This node was accused (suspect or dead at incarnation inc): take a higher
 * incarnation, gossip it and tell the accuser directly. */
static void refute(swim *s, int64_t now, uint32_t inc, const char *accuser) {
    swim_member *me = self(s);
    if (inc >= me->incarnation) me->incarnation = inc + 1;
    awareness_apply(&s->aw, 1);
    s->stats.refutes++;
    queue_alive(s, me);
    emit_event(s, now, SWIM_EV_REFUTE, me->name, me->incarnation, accuser);
    swim_member *a = accuser ? member_find(s, accuser) : NULL;
    if (a != NULL && a != me) send_self_state(s, a->addr, false);
}

static void apply_alive(swim *s, int64_t now, const wire_node *n) {
    swim_member *m = member_find(s, n->name);
    if (m == self(s)) {
        /* Someone holds an older or different picture of us: correct it
         * unless it is exactly what we publish. */
        if (s->leaving) return;
        if (n->incarnation > m->incarnation ||
            (n->incarnation == m->incarnation &&
             (!shoal_addr_eq(n->addr, m->addr) || !wire_meta_equal(&n->meta, &m->meta))))
            refute(s, now, n->incarnation, NULL);
        return;
    }
    if (m == NULL) {
        m = member_add(s, now, n);
        if (m == NULL) return;
        queue_alive(s, m);
        emit_event(s, now, SWIM_EV_JOIN, m->name, m->incarnation, NULL);
        return;
    }
    /* A dead or left member may come back at a new address (restarted). */
    bool readdressed = m->state >= SWIM_DEAD && !shoal_addr_eq(n->addr, m->addr);
    if (n->incarnation <= m->incarnation && !readdressed) return;
    if (m->state <= SWIM_SUSPECT && !shoal_addr_eq(n->addr, m->addr)) return; /* name clash */
    swim_state old = m->state;
    bool meta_changed = !wire_meta_equal(&n->meta, &m->meta);
    m->incarnation = n->incarnation;
    m->addr = n->addr;
    m->meta = n->meta;
    set_state(s, m, now, SWIM_ALIVE);
    queue_alive(s, m);
    if (old != SWIM_ALIVE) emit_event(s, now, SWIM_EV_ALIVE, m->name, m->incarnation, NULL);
    else if (meta_changed) emit_event(s, now, SWIM_EV_UPDATE, m->name, m->incarnation, NULL);
}

/* An accusation of this node: refute it, or if it is older than our
 * refutation, send our current record to the accuser, who missed it. */
static void accused(swim *s, int64_t now, uint32_t inc, const char *from) {
    if (s->leaving) return;
    if (inc >= self(s)->incarnation) {
        refute(s, now, inc, from);
        return;
    }
    swim_member *a = member_find(s, from);
    if (a != NULL && a != self(s)) send_self_state(s, a->addr, false);
}

static void apply_suspect(swim *s, int64_t now, const char *name, uint32_t inc, const char *from) {
    swim_member *m = member_find(s, name);
    if (m == self(s)) {
        accused(s, now, inc, from);
        return;
    }
    if (m == NULL || inc < m->incarnation) return;
    if (m->state >= SWIM_DEAD) return;
    if (m->state == SWIM_SUSPECT) {
        if (inc == m->incarnation && suspicion_confirm(&m->susp, name_hash(from)))
            queue_accusation(s, WIRE_SUSPECT, name, inc, from);
        return;
    }
    m->incarnation = inc;
    set_state(s, m, now, SWIM_SUSPECT);
    int64_t min = suspicion_min(s);
    suspicion_start(&m->susp, now, name_hash(from), expected_confirmations(s), min,
                    min * (int64_t)s->cfg.suspicion_max_mult);
    /* Every suspecting member checks for itself; its failures confirm. */
    m->next_reprobe_ms = strcmp(from, self(s)->name) == 0 ? now + s->cfg.suspect_reprobe_ms : now;
    queue_accusation(s, WIRE_SUSPECT, name, inc, from);
    emit_event(s, now, SWIM_EV_SUSPECT, name, inc, from);
}

static void apply_dead(swim *s, int64_t now, const char *name, uint32_t inc, const char *from) {
    swim_member *m = member_find(s, name);
    bool leave = strcmp(name, from) == 0;
    if (m == self(s)) {
        accused(s, now, inc, from);
        return;
    }
    if (m == NULL || inc < m->incarnation) return;
    if (m->state == SWIM_LEFT || (m->state == SWIM_DEAD && !leave)) return;
    m->incarnation = inc;
    set_state(s, m, now, leave ? SWIM_LEFT : SWIM_DEAD);
    queue_accusation(s, WIRE_DEAD, name, inc, from);
    emit_event(s, now, leave ? SWIM_EV_LEFT : SWIM_EV_DEAD, name, inc, from);
}

/* ==== probing ============================================================ */

static probe *probe_for(swim *s, const char *target) {
    for (int i = 0; i < MAX_PROBES; i++)
        if (s->probes[i].active && strcmp(s->probes[i].target, target) == 0) return &s->probes[i];
    return NULL;
}

static void send_ping(swim *s, probe *pr, const swim_member *m) {
    pkt p;
    pkt_init(&p);
    /* Buddy system: a suspected member hears of it first, from its prober. */
    if (m->state == SWIM_SUSPECT) {
        wire_pack_suspect(&p.pk, m->name, m->incarnation, self(s)->name);
        p.count++;
    }
    wire_pack_ping(&p.pk, pr->seq, m->name);
    p.count++;
    pack_self_for_probe(s, &p, m, pr);
    pkt_send(s, &p, m->addr);
}

static void probe_start(swim *s, int64_t now, swim_member *m, bool regular) {
    probe *pr = NULL;
    for (int i = 0; i < MAX_PROBES && pr == NULL; i++)
        if (!s->probes[i].active) pr = &s->probes[i];
    if (pr == NULL || probe_for(s, m->name) != NULL) return;
    memset(pr, 0, sizeof *pr);
    pr->active = true;
    pr->regular = regular;
    pr->seq = s->next_seq++;
    snprintf(pr->target, sizeof pr->target, "%s", m->name);
    pr->addr = m->addr;
    pr->direct_deadline = now + scaled(s, s->cfg.probe_timeout_ms);
    pr->indirect_deadline = now + scaled(s, s->cfg.indirect_timeout_ms);
    s->stats.probes++;
    send_ping(s, pr, m);
}

/* Picks up to k distinct live members other than self and `not`. */
static uint32_t pick_random(swim *s, const swim_member *not, uint32_t k, bool with_dead,
                            int64_t now, uint32_t *out) {
    uint32_t cand = 0;
    uint32_t chosen = 0;
    /* Reservoir sampling over eligible members: one pass, no allocation. */
    for (uint32_t i = 1; i < s->nmembers; i++) {
        swim_member *m = &s->members[i];
        if (m == not) continue;
        bool ok = m->state <= SWIM_SUSPECT ||
                  (with_dead && m->state == SWIM_DEAD &&
                   now - m->state_change_ms < s->cfg.gossip_to_dead_ms);
        if (!ok) continue;
        cand++;
        if (chosen < k) out[chosen++] = i;
        else {
            uint32_t j = shoal_rng_below(&s->rng, cand);
            if (j < k) out[j] = i;
        }
    }
    return chosen;
}

static void probe_go_indirect(swim *s, probe *pr) {
    uint32_t helpers[16];
    uint32_t k = s->cfg.indirect_checks < 16 ? s->cfg.indirect_checks : 16;
    swim_member *target = member_find(s, pr->target);
    uint32_t n = pick_random(s, target, k, false, 0, helpers);
    pr->indirect_sent = true;
    pr->expected_nacks = n;
    for (uint32_t i = 0; i < n; i++) {
        pkt p;
        pkt_init(&p);
        wire_pack_ping_req(&p.pk, pr->seq, pr->target, pr->addr, true);
        p.count++;
        pkt_send(s, &p, s->members[helpers[i]].addr);
    }
}

static void probe_failed(swim *s, int64_t now, probe *pr) {
    pr->active = false;
    s->stats.probe_failures++;
    if (pr->regular) {
        /* Lifeguard: missing nacks mean our own links or host are the
         * problem, so lower our confidence in our judgement. */
        int delta = pr->expected_nacks > 0 ? (int)(pr->expected_nacks - pr->nacks) : 1;
        awareness_apply(&s->aw, delta);
    }
    swim_member *m = member_find(s, pr->target);
    if (m == NULL || m->state >= SWIM_DEAD) return;
    apply_suspect(s, now, m->name, m->incarnation, self(s)->name);
}

static void probe_acked(swim *s, probe *pr) {
    pr->active = false;
    if (pr->regular) awareness_apply(&s->aw, -1);
}

static void shuffle_probe_order(swim *s) {
    s->probe_order_len = 0;
    for (uint32_t i = 1; i < s->nmembers; i++) s->probe_order[s->probe_order_len++] = i;
    for (uint32_t i = s->probe_order_len; i > 1; i--) {
        uint32_t j = shoal_rng_below(&s->rng, i);
        uint32_t t = s->probe_order[i - 1];
        s->probe_order[i - 1] = s->probe_order[j];
        s->probe_order[j] = t;
    }
    s->probe_pos = 0;
}

/* The next member of the shuffled round-robin that is alive or suspect. */
static swim_member *next_probe_target(swim *s) {
    for (int pass = 0; pass < 2; pass++) {
        while (s->probe_pos < s->probe_order_len) {
            uint32_t i = s->probe_order[s->probe_pos++];
            if (i < s->nmembers && s->members[i].state <= SWIM_SUSPECT) return &s->members[i];
        }
        shuffle_probe_order(s);
    }
    return NULL;
}

void swim_probe_now(swim *s, int64_t now, const char *name) {
    swim_member *m = member_find(s, name);
    if (m == NULL || m == self(s) || m->state != SWIM_ALIVE || s->leaving) return;
    if (probe_for(s, name) != NULL) return;
    /* Lifeguard: while this node misses acks itself (lossy links, slow
     * host) its local health score is up; then hints are mostly loss, not
     * deaths, so it leaves detection to the round-robin probes. */
    if (s->aw.score > 0) return;
    /* At most one such probe per member per probe interval: under heavy
     * loss the hints come often, and each probe is a chance of a wrong
     * suspicion. Suspects are re-probed by the suspicion logic anyway. */
    if (now < m->next_hint_probe_ms) return;
    m->next_hint_probe_ms = now + s->cfg.probe_interval_ms;
    probe_start(s, now, m, false);
    probe *pr = probe_for(s, name);
    if (pr == NULL) return;
    /* The silent ping was the direct probe: go indirect now, and keep the
     * same total window as a round-robin probe after its direct part. */
    pr->direct_deadline = now;
    pr->indirect_deadline = now + scaled(s, s->cfg.indirect_timeout_ms - s->cfg.probe_timeout_ms);
    probe_go_indirect(s, pr);
}

/* ==== receiving ========================================================== */

static relay *relay_for(swim *s, uint32_t seq) {
    for (int i = 0; i < MAX_RELAYS; i++)
        if (s->relays[i].active && s->relays[i].seq == seq) return &s->relays[i];
    return NULL;
}

static void send_seq_msg(swim *s, shoal_addr to, uint8_t type, uint32_t seq) {
    pkt p;
    pkt_init(&p);
    if (type == WIRE_ACK) wire_pack_ack(&p.pk, seq);
    else wire_pack_nack(&p.pk, seq);
    p.count++;
    pkt_send(s, &p, to);
}

static void handle_ping_req(swim *s, int64_t now, shoal_addr from, const wire_msg *m) {
    relay *r = NULL;
    for (int i = 0; i < MAX_RELAYS && r == NULL; i++)
        if (!s->relays[i].active || s->relays[i].expire <= now) r = &s->relays[i];
    if (r == NULL) return; /* overloaded: the origin counts a missing nack */
    r->active = true;
    r->seq = s->next_seq++;
    r->origin = from;
    r->origin_seq = m->seq;
    r->want_nack = m->want_nack;
    /* Nack well before the origin's indirect deadline so it arrives in time. */
    r->nack_deadline = now + s->cfg.probe_timeout_ms * 8 / 10;
    r->expire = now + s->cfg.probe_interval_ms;
    pkt p;
    pkt_init(&p);
    wire_pack_ping(&p.pk, r->seq, m->target);
    p.count++;
    pkt_send(s, &p, m->target_addr);
}

static void handle_ack(swim *s, shoal_addr from, uint32_t seq) {
    for (int i = 0; i < MAX_PROBES; i++)
        if (s->probes[i].active && s->probes[i].seq == seq) {
            probe *pr = &s->probes[i];
            /* Only the target's own ack shows that it read our record (a
             * relay's ack answers the relay's ping, which carried none). */
            swim_member *t = shoal_addr_eq(from, pr->addr) ? member_find(s, pr->target) : NULL;
            if (t != NULL && pr->carried_self) {
                t->told = true;
                t->told_incarnation = pr->carried_incarnation;
            }
            probe_acked(s, pr);
            return;
        }
    relay *r = relay_for(s, seq);
    if (r != NULL) {
        send_seq_msg(s, r->origin, WIRE_ACK, r->origin_seq);
        r->active = false;
    }
}

static void handle_nack(swim *s, uint32_t seq) {
    for (int i = 0; i < MAX_PROBES; i++)
        if (s->probes[i].active && s->probes[i].seq == seq) {
            s->probes[i].nacks++;
            return;
        }
}

static bool foreign_seen(swim *s, const wire_header *h) {
    uint64_t k = name_hash(h->sender) ^ (name_hash(h->cluster) * 31) ^ h->version ^ (h->cluster_id * 7);
    for (uint32_t i = 0; i < s->nforeign; i++)
        if (s->foreign[i] == k) return true;
    if (s->nforeign < MAX_FOREIGN) s->foreign[s->nforeign++] = k;
    return false;
}

/* Another cluster (name or id) or wire version: counted, reported once per
 * sender, dropped. A node without a cluster id yet (0) is not foreign. */
static bool is_foreign(swim *s, int64_t now, const wire_header *h) {
    char why[WIRE_NAME_MAX + 1];
    if (h->version != WIRE_VERSION) snprintf(why, sizeof why, "wire version %u", h->version);
    else if (strcmp(h->cluster, s->cfg.cluster_name) != 0) snprintf(why, sizeof why, "%s", h->cluster);
    else if (h->cluster_id != 0 && s->cluster_id != 0 && h->cluster_id != s->cluster_id)
        snprintf(why, sizeof why, "%.40s (cluster id %016llx, ours %016llx)", h->cluster,
                 (unsigned long long)h->cluster_id, (unsigned long long)s->cluster_id);
    else return false;
    s->stats.foreign_packets++;
    if (!foreign_seen(s, h)) emit_event(s, now, SWIM_EV_FOREIGN, h->version == WIRE_VERSION ? h->sender : "?", h->version, why);
    return true;
}

/* A packet or stream of `name` arrived. A member we list as dead or left
 * is talking to us: it came back (a restart, a healed cut) and its news
 * may have been spent on others while we could not hear. A push-pull
 * settles it at once (it refutes, or we learn its newer incarnation)
 * instead of at the next periodic one, up to 30 s later. Returns the
 * member, NULL if we do not know it. */
static swim_member *heard_from(swim *s, int64_t now, const char *name) {
    swim_member *sender = member_find(s, name);
    if (sender == NULL) return NULL;
    sender->last_heard_ms = now;
    if (sender != self(s) && (sender->state == SWIM_DEAD || sender->state == SWIM_LEFT) &&
        now >= sender->next_revive_ms) {
        sender->next_revive_ms = now + s->cfg.reconnect_interval_ms;
        send_pushpull(s, sender->addr, 0, false, false);
    }
    return sender;
}

void swim_recv_packet(swim *s, int64_t now, shoal_addr from, const uint8_t *buf, size_t len) {
    s->stats.packets_in++;
    s->stats.bytes_in += len;
    mp_reader r;
    wire_header h;
    uint32_t n;
    mp_reader_init(&r, buf, len);
    if (len > 65535 || !wire_open_packet(&r, &h, &n)) {
        s->stats.bad_packets++;
        return;
    }
    if (is_foreign(s, now, &h)) return;
    heard_from(s, now, h.sender);
    /* Pings are answered after the whole packet is applied, so that an ack
     * carries any refutation this packet provoked (the buddy system). */
    uint32_t acks[MAX_PKT_MSGS];
    uint32_t nacks_to_send = 0;
    wire_msg m;
    for (uint32_t i = 0; i < n; i++) {
        int rc = wire_next_msg(&r, &m);
        if (rc < 0) {
            s->stats.bad_packets++;
            break;
        }
        if (rc == 0) {
            s->stats.unknown_msgs++;
            continue;
        }
        switch (m.type) {
        case WIRE_PING:
            if (strcmp(m.target, self(s)->name) == 0 && nacks_to_send < MAX_PKT_MSGS)
                acks[nacks_to_send++] = m.seq;
            break;
        case WIRE_PING_REQ: handle_ping_req(s, now, from, &m); break;
        case WIRE_ACK: handle_ack(s, from, m.seq); break;
        case WIRE_NACK: handle_nack(s, m.seq); break;
        case WIRE_ALIVE: apply_alive(s, now, &m.node); break;
        case WIRE_SUSPECT: apply_suspect(s, now, m.name, m.incarnation, m.from); break;
        case WIRE_DEAD: apply_dead(s, now, m.name, m.incarnation, m.from); break;
        default: s->stats.unknown_msgs++; break;
        }
    }
    for (uint32_t i = 0; i < nacks_to_send; i++) send_seq_msg(s, from, WIRE_ACK, acks[i]);
}

/* ==== push-pull ========================================================== */

static uint64_t sender_hash(const swim_member *m) { return m ? m->name_hash : 0; }

static void send_pushpull(swim *s, shoal_addr to, uint64_t conn_id, bool is_reply, bool join) {
    msgpack_sbuffer b;
    msgpack_packer pk;
    msgpack_sbuffer_init(&b);
    msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
    static const char hole[4] = {0, 0, 0, 0}; /* length prefix, filled below */
    msgpack_sbuffer_write(&b, hole, 4);
    uint32_t count = s->nmembers < WIRE_MAX_STATES ? s->nmembers : WIRE_MAX_STATES;
    wire_pack_header(&pk, s->cfg.cluster_name, s->cluster_id, s->cfg.node_name, 1);
    wire_pack_pushpull(&pk, is_reply, join, count);
    for (uint32_t i = 0; i < count; i++) {
        wire_node n;
        member_to_node(&s->members[i], &n);
        wire_pack_state(&pk, &n);
    }
    uint32_t plen = (uint32_t)(b.size - 4);
    if (b.data == NULL || plen > WIRE_MAX_FRAME) {
        msgpack_sbuffer_destroy(&b);
        return;
    }
    b.data[0] = (char)(plen >> 24);
    b.data[1] = (char)(plen >> 16);
    b.data[2] = (char)(plen >> 8);
    b.data[3] = (char)plen;
    outbox_add(s, SWIM_OUT_STREAM, to, conn_id, &b);
}

/* Merges a remote full state. As in memberlist, a remote "dead" only makes
 * us suspect (our own probes decide), while "left" is taken as said. */
static void merge_state(swim *s, int64_t now, const wire_node *n, const char *sender) {
    switch (n->state) {
    case SWIM_ALIVE: apply_alive(s, now, n); break;
    case SWIM_LEFT: apply_dead(s, now, n->name, n->incarnation, n->name); break;
    case SWIM_SUSPECT:
    case SWIM_DEAD:
        if (member_find(s, n->name) == NULL) {
            /* Unknown and not alive: learn of it as dead so we can reconnect. */
            swim_member *m = member_add(s, now, n);
            if (m != NULL) set_state(s, m, now, n->state == SWIM_DEAD ? SWIM_DEAD : SWIM_SUSPECT);
            if (m != NULL && m->state == SWIM_SUSPECT) {
                int64_t min = suspicion_min(s);
                suspicion_start(&m->susp, now, name_hash(sender), expected_confirmations(s), min,
                                min * (int64_t)s->cfg.suspicion_max_mult);
                m->next_reprobe_ms = now;
            }
        } else {
            apply_suspect(s, now, n->name, n->incarnation, sender);
        }
        break;
    default: break;
    }
}

void swim_recv_stream(swim *s, int64_t now, shoal_addr from, uint64_t conn_id,
                      const uint8_t *buf, size_t len) {
    mp_reader r;
    wire_header h;
    uint32_t n, count;
    bool is_reply, join;
    mp_reader_init(&r, buf, len);
    if (len > WIRE_MAX_FRAME || !wire_open_packet(&r, &h, &n)) {
        s->stats.bad_packets++;
        return;
    }
    if (is_foreign(s, now, &h)) return;
    if (n != 1 || !wire_open_pushpull(&r, &is_reply, &join, &count)) {
        s->stats.bad_packets++;
        return;
    }
    s->stats.streams_in++;
    /* Decode everything first: a truncated list must not half-apply. */
    wire_node *states = malloc((size_t)(count ? count : 1) * sizeof *states);
    if (states == NULL) return;
    for (uint32_t i = 0; i < count; i++)
        if (!wire_next_state(&r, &states[i])) {
            s->stats.bad_packets++;
            free(states);
            return;
        }
    for (uint32_t i = 0; i < count; i++) merge_state(s, now, &states[i], h.sender);
    free(states);
    const swim_member *sender = heard_from(s, now, h.sender);
    if (!is_reply && conn_id != 0) send_pushpull(s, from, conn_id, true, join);
    /* We just joined: tell every member we learned of directly, so that none
     * depends on the epidemic alone to hear of us (a member that never
     * heard of us could not notice our death either). */
    if (is_reply && join && conn_id == 0 && !s->leaving)
        for (uint32_t i = 1; i < s->nmembers; i++)
            if (s->members[i].state <= SWIM_SUSPECT && s->members[i].name_hash != sender_hash(sender))
                send_self_state(s, s->members[i].addr, false);
}

/* ==== timers ============================================================= */

static void reconnect(swim *s) {
    /* Candidates: dead members (not left: they asked to go) and contacts
     * that are not live members. Alone: all of them; else one at random. */
    bool alone = swim_live_count(s) <= 1;
    uint32_t cand = 0;
    shoal_addr pick = {0, 0};
    for (uint32_t i = 1; i < s->nmembers; i++) {
        swim_member *m = &s->members[i];
        if (m->state != SWIM_DEAD) continue;
        if (alone) send_pushpull(s, m->addr, 0, false, true);
        else if (shoal_rng_below(&s->rng, ++cand) == 0) pick = m->addr;
    }
    for (uint32_t i = 0; i < s->ncontacts; i++) {
        /* Known members are handled above (dead) or need nothing. */
        if (member_find(s, s->contacts[i].name) != NULL) continue;
        if (alone) send_pushpull(s, s->contacts[i].addr, 0, false, true);
        else if (shoal_rng_below(&s->rng, ++cand) == 0) pick = s->contacts[i].addr;
    }
    if (!alone && cand > 0) send_pushpull(s, pick, 0, false, false);
}

static void gossip(swim *s, int64_t now) {
    if (s->bcast.len == 0) return; /* nothing new: stay quiet */
    uint32_t targets[16];
    uint32_t k = s->cfg.gossip_nodes < 16 ? s->cfg.gossip_nodes : 16;
    uint32_t n = pick_random(s, NULL, k, true, now, targets);
    for (uint32_t i = 0; i < n; i++) {
        pkt p;
        pkt_init(&p);
        pkt_send(s, &p, s->members[targets[i]].addr);
    }
}

static void reap(swim *s, int64_t now) {
    bool removed = false;
    for (uint32_t i = 1; i < s->nmembers;) {
        swim_member *m = &s->members[i];
        if (m->state >= SWIM_DEAD && now - m->state_change_ms >= s->cfg.reap_ms) {
            emit_event(s, now, SWIM_EV_REAP, m->name, m->incarnation, NULL);
            s->members[i] = s->members[--s->nmembers];
            removed = true;
        } else {
            i++;
        }
    }
    if (removed) {
        index_rebuild(s);
        shuffle_probe_order(s);
    }
}

void swim_tick(swim *s, int64_t now) {
    /* A tick far later than any deadline means this process stalled (paused,
     * swapped, debugger): our timers expired without our fault or others'.
     * Drop the probes in flight and give accused members a grace period. */
    if (now - s->last_tick_ms > s->cfg.probe_interval_ms + s->cfg.gossip_interval_ms) {
        for (int i = 0; i < MAX_PROBES; i++) s->probes[i].active = false;
        awareness_apply(&s->aw, 1);
        s->stall_grace_until = now + s->cfg.probe_interval_ms;
        s->next_probe_ms = now;
        emit_event(s, now, SWIM_EV_STALL, self(s)->name, 0, NULL);
    }
    s->last_tick_ms = now;

    for (int i = 0; i < MAX_PROBES; i++) {
        probe *pr = &s->probes[i];
        if (!pr->active) continue;
        if (now >= pr->indirect_deadline) probe_failed(s, now, pr);
        else if (now >= pr->direct_deadline && !pr->indirect_sent) probe_go_indirect(s, pr);
    }
    for (int i = 0; i < MAX_RELAYS; i++) {
        relay *r = &s->relays[i];
        if (!r->active) continue;
        if (r->want_nack && now >= r->nack_deadline) {
            send_seq_msg(s, r->origin, WIRE_NACK, r->origin_seq);
            r->want_nack = false;
        }
        if (now >= r->expire) r->active = false;
    }
    if (s->leaving) { /* only finish sending the leave */
        if (now >= s->next_gossip_ms) {
            gossip(s, now);
            s->next_gossip_ms = now + s->cfg.gossip_interval_ms;
        }
        return;
    }
    for (uint32_t i = 1; i < s->nmembers; i++) {
        swim_member *m = &s->members[i];
        if (m->state != SWIM_SUSPECT) continue;
        if (now >= suspicion_deadline(&m->susp) && now >= s->stall_grace_until) {
            apply_dead(s, now, m->name, m->incarnation, self(s)->name);
            continue;
        }
        if (now >= m->next_reprobe_ms) {
            probe_start(s, now, m, false);
            m->next_reprobe_ms = now + s->cfg.suspect_reprobe_ms;
        }
    }
    if (now >= s->next_probe_ms) {
        swim_member *t = next_probe_target(s);
        if (t != NULL) probe_start(s, now, t, true);
        s->next_probe_ms = now + scaled(s, s->cfg.probe_interval_ms);
    }
    if (now >= s->next_gossip_ms) {
        gossip(s, now);
        s->next_gossip_ms = now + s->cfg.gossip_interval_ms;
    }
    if (now >= s->next_pushpull_ms) {
        uint32_t pick[1];
        if (pick_random(s, NULL, 1, false, now, pick) == 1)
            send_pushpull(s, s->members[pick[0]].addr, 0, false, false);
        uint32_t scale = (swim_live_count(s) + 31) / 32;
        s->next_pushpull_ms = now + s->cfg.push_pull_interval_ms * (scale ? scale : 1);
    }
    if (now >= s->next_reconnect_ms) {
        reconnect(s);
        s->next_reconnect_ms = now + s->cfg.reconnect_interval_ms;
    }
    reap(s, now);
}

int64_t swim_next_deadline(const swim *s) {
    int64_t d = s->next_gossip_ms;
#define EARLIER(x) do { if ((x) < d) d = (x); } while (0)
    for (int i = 0; i < MAX_PROBES; i++) {
        const probe *pr = &s->probes[i];
        if (!pr->active) continue;
        EARLIER(pr->indirect_deadline);
        if (!pr->indirect_sent) EARLIER(pr->direct_deadline);
    }
    for (int i = 0; i < MAX_RELAYS; i++) {
        const relay *r = &s->relays[i];
        if (!r->active) continue;
        EARLIER(r->expire);
        if (r->want_nack) EARLIER(r->nack_deadline);
    }
    if (!s->leaving) {
        EARLIER(s->next_probe_ms);
        EARLIER(s->next_pushpull_ms);
        EARLIER(s->next_reconnect_ms);
        for (uint32_t i = 1; i < s->nmembers; i++) {
            const swim_member *m = &s->members[i];
            if (m->state != SWIM_SUSPECT) continue;
            int64_t dl = suspicion_deadline(&m->susp);
            EARLIER(dl > s->stall_grace_until ? dl : s->stall_grace_until);
            EARLIER(m->next_reprobe_ms);
        }
    } else {
        EARLIER(s->leave_deadline);
    }
#undef EARLIER
    return d;
}

/* ==== lifecycle, leave and metadata ====================================== */

void swim_config_default(swim_config *c) {
    memset(c, 0, sizeof *c);
    c->probe_interval_ms = 1000;
    c->probe_timeout_ms = 300;
    c->indirect_timeout_ms = 800;
    c->indirect_checks = 3;
    c->suspicion_min_ms = 1600;
    c->suspicion_max_mult = 6;
    c->suspicion_confirmations = 3;
    c->suspect_reprobe_ms = 500;
    c->gossip_interval_ms = 200;
    c->gossip_nodes = 3;
    c->gossip_to_dead_ms = 30000;
    c->retransmit_mult = 4;
    c->push_pull_interval_ms = 30000;
    c->reconnect_interval_ms = 1000;
    c->leave_timeout_ms = 2000;
    c->awareness_max = 8;
    c->reap_ms = 86400000;
    c->max_members = 4096;
    c->meta.weight = 100;
}

swim *swim_new(const swim_config *cfg, uint64_t seed, int64_t now) {
    if (cfg->node_name[0] == '\0' || cfg->cluster_name[0] == '\0' || cfg->probe_interval_ms <= 0 ||
        cfg->indirect_timeout_ms <= cfg->probe_timeout_ms ||
        cfg->indirect_timeout_ms > cfg->probe_interval_ms || cfg->max_members < 2 ||
        cfg->awareness_max < 1 || cfg->gossip_interval_ms <= 0 || cfg->reconnect_interval_ms <= 0)
        return NULL;
    swim *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    s->cfg = *cfg;
    s->cfg.contacts = NULL;
    s->cluster_id = cfg->cluster_id; /* before the first packet: joins carry it */
    shoal_rng_seed(&s->rng, seed);
    s->cap_members = 16;
    s->members = calloc(s->cap_members, sizeof *s->members);
    s->index_cap = 32;
    s->index = calloc(s->index_cap, sizeof *s->index);
    s->probe_order = calloc(s->cap_members, sizeof *s->probe_order);
    s->contacts = calloc(cfg->ncontacts ? cfg->ncontacts : 1, sizeof *s->contacts);
    if (!s->members || !s->index || !s->probe_order || !s->contacts) {
        swim_free(s);
        return NULL;
    }
    if (cfg->ncontacts > 0) memcpy(s->contacts, cfg->contacts, cfg->ncontacts * sizeof *s->contacts);
    s->ncontacts = cfg->ncontacts;
    s->cap_contacts = cfg->ncontacts ? cfg->ncontacts : 1;
    bcast_queue_init(&s->bcast);
    awareness_init(&s->aw, cfg->awareness_max);
    wire_node me = {.addr = cfg->addr, .incarnation = 0, .meta = cfg->meta};
    snprintf(me.name, sizeof me.name, "%s", cfg->node_name);
    member_add(s, now, &me);
    queue_alive(s, self(s)); /* announce ourselves to whoever we meet first */
    s->last_tick_ms = now;
    /* A random first phase: nodes started together must not probe in lockstep. */
    s->next_probe_ms = now + 1 + shoal_rng_below(&s->rng, (uint32_t)cfg->probe_interval_ms);
    s->next_gossip_ms = now + cfg->gossip_interval_ms;
    s->next_pushpull_ms = now + cfg->push_pull_interval_ms;
    s->next_reconnect_ms = now + cfg->reconnect_interval_ms;
    for (uint32_t i = 0; i < s->ncontacts; i++)
        if (strcmp(s->contacts[i].name, cfg->node_name) != 0)
            send_pushpull(s, s->contacts[i].addr, 0, false, true);
    return s;
}

void swim_free(swim *s) {
    if (s == NULL) return;
    outbox_free(&s->out);
    free(s->events.items);
    bcast_queue_free(&s->bcast);
    free(s->members);
    free(s->index);
    free(s->probe_order);
    free(s->contacts);
    free(s);
}

void swim_leave(swim *s, int64_t now) {
    if (s->leaving) return;
    s->leaving = true;
    s->leave_deadline = now + s->cfg.leave_timeout_ms;
    swim_member *me = self(s);
    set_state(s, me, now, SWIM_LEFT);
    /* Tell every live member directly, then let gossip repeat it (queued
     * after the direct sends so that they do not use up its retransmits). */
    for (uint32_t i = 1; i < s->nmembers; i++)
        if (s->members[i].state <= SWIM_SUSPECT) send_self_state(s, s->members[i].addr, true);
    queue_accusation(s, WIRE_DEAD, me->name, me->incarnation, me->name);
    emit_event(s, now, SWIM_EV_LEFT, me->name, me->incarnation, me->name);
}

bool swim_leave_done(const swim *s, int64_t now) {
    return s->leaving && (now >= s->leave_deadline || !bcast_queue_has(&s->bcast, s->cfg.node_name));
}

void swim_set_cluster_id(swim *s, uint64_t cluster_id) { s->cluster_id = cluster_id; }

void swim_add_contact(swim *s, int64_t now, const char *name, shoal_addr addr) {
    (void)now;
    bool known = false;
    for (uint32_t i = 0; i < s->ncontacts; i++)
        if (strcmp(s->contacts[i].name, name) == 0) known = true;
    if (!known) {
        if (array_grow(&s->contacts, &s->cap_contacts, (size_t)s->ncontacts + 1, sizeof *s->contacts)) {
            swim_contact *c = &s->contacts[s->ncontacts++];
            snprintf(c->name, sizeof c->name, "%s", name);
            c->addr = addr;
        }
    }
    send_pushpull(s, addr, 0, false, true);
}

void swim_set_meta(swim *s, int64_t now, const wire_meta *meta) {
    swim_member *me = self(s);
    if (wire_meta_equal(&me->meta, meta) || s->leaving) return;
    me->meta = *meta;
    me->incarnation++;
    queue_alive(s, me);
    emit_event(s, now, SWIM_EV_UPDATE, me->name, me->incarnation, NULL);
}

/* ==== accessors ========================================================== */

outbox *swim_outbox(swim *s) { return &s->out; }

const swim_event *swim_events(const swim *s, uint32_t *n) {
    *n = s->events.len;
    return s->events.items;
}

void swim_events_clear(swim *s) { s->events.len = 0; }

uint32_t swim_member_count(const swim *s) { return s->nmembers; }
const swim_member *swim_member_at(const swim *s, uint32_t i) {
    return i < s->nmembers ? &s->members[i] : NULL;
}
const swim_member *swim_find(const swim *s, const char *name) { return member_find(s, name); }
const swim_stats *swim_get_stats(const swim *s) { return &s->stats; }
int swim_health_score(const swim *s) { return s->aw.score; }
uint32_t swim_queued_updates(const swim *s) { return s->bcast.len; }

const char *swim_state_name(swim_state st) {
    switch (st) {
    case SWIM_ALIVE: return "alive";
    case SWIM_SUSPECT: return "suspect";
    case SWIM_DEAD: return "dead";
    case SWIM_LEFT: return "left";
    }
    return "unknown";
}

const char *swim_event_name(swim_event_type t) {
    static const char *names[] = {"member_join", "member_alive", "member_suspect",
                                  "member_dead", "member_left", "member_update",
                                  "refute", "member_reap", "foreign_cluster", "stall"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

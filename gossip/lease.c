/* lease.c - majority lease (see lease.h for the fence and its timing). */
#include "lease.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_read.h"
#include "wire.h"

#define PING_HISTORY 64      /* pings remembered to match answers */
#define MAX_REVOKED 1024

enum { LEASE_PING = 1, LEASE_ACK = 2 };

typedef struct grant {
    char name[WIRE_NAME_MAX + 1];
    int64_t granted_at;      /* local send time of the newest answered ping; -1 none */
    uint32_t boot;           /* the member's boot id in that answer */
    int64_t last_ping_at;    /* when the newest ping went out; 0 none */
    bool checked;            /* that ping was looked at for silence */
} grant;

struct lease {
    lease_config cfg;
    raft_roster roster;
    grant grants[RAFT_MAX_MEMBERS];
    struct { uint32_t seq; int64_t sent_at; } pings[PING_HISTORY];
    uint32_t next_seq;
    int64_t next_renew;
    char (*revoked)[WIRE_NAME_MAX + 1];
    uint32_t nrevoked;
    struct answered { char name[WIRE_NAME_MAX + 1]; int64_t at; } *answered; /* whom we granted, when */
    uint32_t nanswered;
    outbox out;
    char silent[RAFT_MAX_MEMBERS][WIRE_NAME_MAX + 1];
    uint32_t nsilent;
};

void lease_config_default(lease_config *c) {
    memset(c, 0, sizeof *c);
    c->lease_ms = 2000;
    c->renew_ms = 500;
    c->drift = 0.05;
    c->silent_ms = 300;
}

lease *lease_new(const lease_config *cfg, int64_t now) {
    lease *l = calloc(1, sizeof *l);
    if (l == NULL) return NULL;
    l->revoked = calloc(MAX_REVOKED, sizeof *l->revoked);
    l->answered = calloc(MAX_REVOKED, sizeof *l->answered);
    if (l->revoked == NULL || l->answered == NULL) {
        free(l->revoked);
        free(l->answered);
        free(l);
        return NULL;
    }
    l->cfg = *cfg;
    l->next_renew = now;
    return l;
}

void lease_free(lease *l) {
    if (l == NULL) return;
    free(l->revoked);
    free(l->answered);
    outbox_free(&l->out);
    free(l);
}

void lease_set_roster(lease *l, const raft_roster *roster) {
    grant old[RAFT_MAX_MEMBERS];
    memcpy(old, l->grants, sizeof old);
    uint32_t oldn = l->roster.n;
    l->roster = *roster;
    for (uint32_t i = 0; i < roster->n; i++) {
        snprintf(l->grants[i].name, sizeof l->grants[i].name, "%s", roster->names[i]);
        l->grants[i].granted_at = -1;
        l->grants[i].last_ping_at = 0;
        l->grants[i].checked = true;
        for (uint32_t k = 0; k < oldn; k++)
            if (strcmp(old[k].name, roster->names[i]) == 0) l->grants[i] = old[k];
    }
}

static int revoked_index(const lease *l, const char *name) {
    for (uint32_t i = 0; i < l->nrevoked; i++)
        if (strcmp(l->revoked[i], name) == 0) return (int)i;
    return -1;
}

void lease_revoke(lease *l, const char *member, bool revoked, int64_t now) {
    (void)now;
    int i = revoked_index(l, member);
    if (revoked && i < 0 && l->nrevoked < MAX_REVOKED)
        snprintf(l->revoked[l->nrevoked++], WIRE_NAME_MAX + 1, "%s", member);
    else if (!revoked && i >= 0)
        memcpy(l->revoked[i], l->revoked[--l->nrevoked], WIRE_NAME_MAX + 1);
}

/* [LEASE_WIRE_KIND, cluster, sender, type, seq, boot_id] (boot_id added later: may be absent) */
static void lease_send(lease *l, const char *to, int type, uint32_t seq) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint8(&pk, LEASE_WIRE_KIND);
    wire_pack_cstr(&pk, l->cfg.cluster_name);
    wire_pack_cstr(&pk, l->cfg.node_name);
    msgpack_pack_uint8(&pk, (uint8_t)type);
    msgpack_pack_uint32(&pk, seq);
    msgpack_pack_uint32(&pk, l->cfg.boot_id);
    if (sb.data == NULL || sb.size > LEASE_PACKET_MAX) {
        msgpack_sbuffer_destroy(&sb);
        return;
    }
    core_out o = {0};
    snprintf(o.to, sizeof o.to, "%s", to);
    outbox_push_sbuffer(&l->out, &o, &sb);
}

static void note_answer(lease *l, const char *name, int64_t now) {
    for (uint32_t i = 0; i < l->nanswered; i++)
        if (strcmp(l->answered[i].name, name) == 0) {
            l->answered[i].at = now;
            return;
        }
    if (l->nanswered == MAX_REVOKED) return; /* beyond this many pingers: treated as never answered */
    snprintf(l->answered[l->nanswered].name, WIRE_NAME_MAX + 1, "%s", name);
    l->answered[l->nanswered++].at = now;
}

void lease_recv(lease *l, int64_t now, const uint8_t *buf, size_t len) {
    mp_reader r;
    uint32_t n;
    uint64_t kind, type, seq;
    char cluster[WIRE_CLUSTER_MAX + 1], sender[WIRE_NAME_MAX + 1];
    mp_reader_init(&r, buf, len);
    if (!mp_read_array(&r, &n) || n < 5 || !mp_read_uint(&r, &kind) || kind != LEASE_WIRE_KIND ||
        !mp_read_str_into(&r, cluster, sizeof cluster) || !mp_read_str_into(&r, sender, sizeof sender) ||
        !mp_read_uint_max(&r, LEASE_ACK, &type) || !mp_read_uint_max(&r, UINT32_MAX, &seq))
        return;
    uint64_t boot = 0;
    if (n >= 6 && !mp_read_uint_max(&r, UINT32_MAX, &boot)) return;
    if (strcmp(cluster, l->cfg.cluster_name) != 0 || strcmp(sender, l->cfg.node_name) == 0) return;
    if (type == LEASE_PING) {
#ifdef SHOAL_PLANTED_FAULT_NO_FENCE
        /* Planted fault for bench/splitbrain's self-test only: answer even
         * the nodes we list as dead. Never built into shoald. */
        note_answer(l, sender, now);
        lease_send(l, sender, LEASE_ACK, (uint32_t)seq);
#else
        if (revoked_index(l, sender) < 0) {
            note_answer(l, sender, now);
            lease_send(l, sender, LEASE_ACK, (uint32_t)seq);
        }
#endif
        return;
    }
    int64_t sent_at = -1;
    for (int i = 0; i < PING_HISTORY; i++)
        if (l->pings[i].seq == (uint32_t)seq && l->pings[i].sent_at > 0) sent_at = l->pings[i].sent_at;
    if (sent_at < 0) return;
    for (uint32_t i = 0; i < l->roster.n; i++)
        if (strcmp(l->grants[i].name, sender) == 0 && sent_at > l->grants[i].granted_at) {
            l->grants[i].granted_at = sent_at;
            l->grants[i].boot = (uint32_t)boot;
        }
}

void lease_tick(lease *l, int64_t now) {
    for (uint32_t i = 0; i < l->roster.n; i++) {
        grant *g = &l->grants[i];
        if (g->checked || now < g->last_ping_at + l->cfg.silent_ms) continue;
        g->checked = true;
        if (g->granted_at < g->last_ping_at && l->nsilent < RAFT_MAX_MEMBERS) {
            size_t len = strnlen(g->name, WIRE_NAME_MAX);
            memcpy(l->silent[l->nsilent], g->name, len);
            l->silent[l->nsilent++][len] = '\0';
        }
    }
    if (now < l->next_renew) return;
    l->next_renew = now + l->cfg.renew_ms;
    for (uint32_t i = 0; i < l->roster.n; i++) {
        if (strcmp(l->roster.names[i], l->cfg.node_name) == 0) continue;
        uint32_t seq = ++l->next_seq;
        l->pings[seq % PING_HISTORY].seq = seq;
        l->pings[seq % PING_HISTORY].sent_at = now;
        l->grants[i].last_ping_at = now;
        l->grants[i].checked = false;
        lease_send(l, l->roster.names[i], LEASE_PING, seq);
    }
}

int64_t lease_next_deadline(const lease *l) {
    int64_t d = l->next_renew;
    for (uint32_t i = 0; i < l->roster.n; i++)
        if (!l->grants[i].checked && l->grants[i].last_ping_at + l->cfg.silent_ms < d)
            d = l->grants[i].last_ping_at + l->cfg.silent_ms;
    return d;
}

const char (*lease_silent(const lease *l, uint32_t *n))[WIRE_NAME_MAX + 1] {
    *n = l->nsilent;
    return l->silent;
}

void lease_silent_clear(lease *l) { l->nsilent = 0; }

static int cmp_desc(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : (x > y ? -1 : 0);
}

int64_t lease_expires(const lease *l, int64_t now) {
    uint32_t n = l->roster.n;
    if (n == 0) return now - 1;
    uint32_t need = n / 2 + 1;
    int64_t times[RAFT_MAX_MEMBERS];
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        times[k++] = strcmp(l->grants[i].name, l->cfg.node_name) == 0 ? INT64_MAX : l->grants[i].granted_at;
    qsort(times, k, sizeof times[0], cmp_desc);
    int64_t t = times[need - 1];
    if (t == INT64_MAX) return INT64_MAX; /* a roster of one: ourselves */
    if (t < 0) return now - 1;
    /* Our clock may run slow by `drift`: count the lease shorter. */
    return t + (int64_t)((double)l->cfg.lease_ms / (1.0 + l->cfg.drift));
}

bool lease_valid(const lease *l, int64_t now) { return lease_expires(l, now) > now; }

outbox *lease_outbox(lease *l) { return &l->out; }

int64_t lease_answered_at(const lease *l, const char *name) {
    for (uint32_t i = 0; i < l->nanswered; i++)
        if (strcmp(l->answered[i].name, name) == 0) return l->answered[i].at;
    return INT64_MIN;
}

bool lease_grant_of(const lease *l, const char *member, int64_t *granted_at, uint32_t *boot) {
    for (uint32_t i = 0; i < l->roster.n; i++)
        if (strcmp(l->grants[i].name, member) == 0 && l->grants[i].granted_at >= 0) {
            *granted_at = l->grants[i].granted_at;
            *boot = l->grants[i].boot;
            return true;
        }
    return false;
}

int64_t lease_grant_ms(const lease *l) { return (int64_t)((double)l->cfg.lease_ms / (1.0 + l->cfg.drift)); }
uint32_t lease_boot_id(const lease *l) { return l->cfg.boot_id; }
const lease_config *lease_get_config(const lease *l) { return &l->cfg; }

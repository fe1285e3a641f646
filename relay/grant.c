/* grant.c - legs' grants lent by a channel's holder (see .h). */
#include "grant.h"

#include <stdio.h>
#include <string.h>

static const char *lent_key(const void *item) { return ((const relay_lent *)item)->key; }

static void key_of(char *out, size_t cap, const char *channel, const char *leg) {
    snprintf(out, cap, "%s\n%s", channel, leg);
}

void relay_grantor_init(relay_grantor *g) { keyed_init(&g->lent, sizeof(relay_lent), lent_key); }

void relay_grantor_free(relay_grantor *g) { keyed_free(&g->lent); }

static void answer(relay_grant_msg *reply, const relay_grant_msg *req, relay_grant_type type) {
    memset(reply, 0, sizeof *reply);
    reply->type = type;
    reply->req = req->req;
    snprintf(reply->channel, sizeof reply->channel, "%s", req->channel);
    snprintf(reply->peer, sizeof reply->peer, "%s", req->peer);
}

void relay_grantor_request(relay_grantor *g, int64_t now, const relay_grant_msg *req, int64_t claim_until,
                           bool serving, relay_grant_msg *reply) {
    int64_t left = claim_until - now - RELAY_GRANT_MARGIN_MS;
    if (!serving || left <= 0) {
        answer(reply, req, RELAY_GRANT_DENY);
        reply->why = serving ? SHOAL_CLAIM_LOST : SHOAL_NOT_SERVING;
        return;
    }
    uint32_t ms = left < RELAY_GRANT_MS ? (uint32_t)left : RELAY_GRANT_MS;
    relay_lent l = {.until = now + ms};
    key_of(l.key, sizeof l.key, req->channel, req->peer);
    int64_t i = keyed_find(&g->lent, l.key);
    if (i < 0) {
        snprintf(l.channel, sizeof l.channel, "%s", req->channel);
        snprintf(l.leg, sizeof l.leg, "%s", req->peer);
        i = keyed_add(&g->lent, &l);
    }
    if (i < 0) { /* out of memory: an untracked grant could not be withdrawn early */
        answer(reply, req, RELAY_GRANT_DENY);
        reply->why = SHOAL_NOT_SERVING;
        return;
    }
    relay_lent *x = keyed_at(&g->lent, (uint32_t)i);
    if (x->until < l.until) x->until = l.until;
    answer(reply, req, RELAY_GRANT_GIVE);
    reply->ms = ms;
}

uint32_t relay_grantor_withdraw(relay_grantor *g, int64_t now, const char *channel, relay_grant_msg *out, uint32_t max) {
    uint32_t n = 0;
    for (uint32_t i = g->lent.n; i-- > 0;) { /* backwards: swap-remove moves only what was seen */
        const relay_lent *l = keyed_at(&g->lent, i);
        if (channel && strcmp(l->channel, channel) != 0) continue;
        if (now < l->until && n < max) {
            memset(&out[n], 0, sizeof out[n]);
            out[n].type = RELAY_GRANT_WITHDRAW;
            snprintf(out[n].channel, sizeof out[n].channel, "%s", l->channel);
            snprintf(out[n].peer, sizeof out[n].peer, "%s", l->leg);
            n++;
        }
        keyed_remove(&g->lent, i);
    }
    return n;
}

uint32_t relay_grantor_legs(const relay_grantor *g, int64_t now, const char *channel, const char **out, uint32_t max) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->lent.n && n < max; i++) {
        const relay_lent *l = keyed_at(&g->lent, i);
        if (now < l->until && strcmp(l->channel, channel) == 0) out[n++] = l->leg;
    }
    return n;
}

void relay_grantor_tick(relay_grantor *g, int64_t now) {
    for (uint32_t i = g->lent.n; i-- > 0;)
        if (((const relay_lent *)keyed_at(&g->lent, i))->until <= now) keyed_remove(&g->lent, i);
}

void relay_grantee_init(relay_grantee *e, const char *channel, const char *holder, int64_t now) {
    memset(e, 0, sizeof *e);
    snprintf(e->channel, sizeof e->channel, "%s", channel);
    snprintf(e->holder, sizeof e->holder, "%s", holder);
    e->next_req = 1;
    e->valid_until = now; /* not valid before a GIVE */
    e->next_ask = now;
    e->denied = SHOAL_OK;
}

bool relay_grantee_tick(relay_grantee *e, int64_t now, bool want, relay_grant_msg *req) {
    if (!want || now < e->next_ask) return false;
    uint32_t r = e->next_req++;
    if (e->next_req == 0) e->next_req = 1;
    e->asked[r % RELAY_GRANT_ASKED].req = r;
    e->asked[r % RELAY_GRANT_ASKED].sent = now;
    e->next_ask = now + RELAY_GRANT_RENEW_MS;
    memset(req, 0, sizeof *req);
    req->type = RELAY_GRANT_REQUEST;
    req->req = r;
    snprintf(req->channel, sizeof req->channel, "%s", e->channel);
    snprintf(req->peer, sizeof req->peer, "%s", e->holder);
    return true;
}

void relay_grantee_recv(relay_grantee *e, int64_t now, const relay_grant_msg *m) {
    if (strcmp(m->peer, e->holder) != 0 || strcmp(m->channel, e->channel) != 0) return;
    if (m->type == RELAY_GRANT_WITHDRAW) {
        if (e->valid_until > now) e->valid_until = now;
        return;
    }
    if (m->type != RELAY_GRANT_GIVE && m->type != RELAY_GRANT_DENY) return;
    const relay_grant_asked *a = &e->asked[m->req % RELAY_GRANT_ASKED];
    if (m->req == 0 || a->req != m->req) return; /* not a request it remembers */
    if (m->type == RELAY_GRANT_DENY) {
        if (m->req < e->given_req) return; /* older than a GIVE: overtaken on the way */
        e->denied = m->why;
        if (e->valid_until > now) e->valid_until = now;
        return;
    }
    /* from when it asked, shrunk by both clocks' drift */
    int64_t until = a->sent + (int64_t)((double)m->ms / ((1.0 + RELAY_GRANT_DRIFT) * (1.0 + RELAY_GRANT_DRIFT)));
    if (until > e->valid_until) e->valid_until = until;
    if (m->req > e->given_req) e->given_req = m->req;
    e->denied = SHOAL_OK;
}

int64_t relay_grantee_next_deadline(const relay_grantee *e, bool want) {
    int64_t d = want ? e->next_ask : INT64_MAX;
    return e->valid_until < d ? e->valid_until : d;
}

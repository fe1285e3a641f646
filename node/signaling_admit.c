/* signaling_admit.c - what the node does with a client's connect (see
 * signaling.h): route (placement/route.h) over this node's view, capacity,
 * the channel's claim, then admission into the node's own channel, with
 * notify to its clients, the channel table and the gossiped load. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "node.h"
#include "auth.h"
#include "placement_io.h"
#include "route.h"
#include "signaling.h"
#include "webhook.h"

/* Rejection reasons counted in metrics (the close reason starts with one). */
static const char *const REASONS[] = {"NOT-SERVING", "NODE-BLOCKS-NEW-CONNECTIONS", "NODE-BLOCKS-NEW-SESSIONS",
                                      "NODE-FULL",   "CLUSTER-FULL",                "CLAIM-FAILED",
                                      "NO-SIGNALING-URL", "AUTH-REJECTED", "AUTH-WEBHOOK-TIMEOUT",
                                      "AUTH-WEBHOOK-UNREACHABLE", "AUTH-WEBHOOK-ERROR"};
#define NREASONS (sizeof REASONS / sizeof REASONS[0])
_Static_assert(NREASONS <= sizeof(((sig_metrics *)0)->rejected) / sizeof(uint64_t), "one counter per reason");

static const double BUCKET_MS[SIG_LATENCY_BUCKETS] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};

static void count_latency(uint64_t *buckets, double *sum, double ms) {
    *sum += ms;
    for (int b = 0; b < SIG_LATENCY_BUCKETS; b++)
        if (ms <= BUCKET_MS[b]) buckets[b]++;
}

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the node's own channels ---------------------------------------------- */

static const char *chan_key(const void *ctx, uint32_t item) {
    const signaling *sg = ctx;
    return sg->chans[item].id;
}

void adm_init(signaling *sg) { strmap_init(&sg->chan_map, chan_key, sg); }

void adm_free(signaling *sg) {
    strmap_free(&sg->chan_map);
    free(sg->chans);
    sg->chans = NULL;
    sg->nchans = sg->capchans = 0;
}

static int64_t chan_find(const signaling *sg, const char *id) { return strmap_find(&sg->chan_map, id); }

static int64_t chan_get(signaling *sg, const char *id) {
    int64_t i = chan_find(sg, id);
    if (i >= 0) return i;
    if (sg->nchans == sg->capchans) {
        uint32_t cap = sg->capchans ? sg->capchans * 2 : 64;
        local_chan *v = realloc(sg->chans, cap * sizeof *v);
        if (v == NULL) return -1;
        sg->chans = v;
        sg->capchans = cap;
    }
    local_chan *ch = &sg->chans[sg->nchans];
    memset(ch, 0, sizeof *ch);
    snprintf(ch->id, sizeof ch->id, "%s", id);
    if (!strmap_insert(&sg->chan_map, ch->id, sg->nchans)) return -1;
    return sg->nchans++;
}

static void list_push(sig_conn **head, sig_conn *c) {
    c->prev = NULL;
    c->next = *head;
    if (*head) (*head)->prev = c;
    *head = c;
}

static void list_remove(sig_conn **head, sig_conn *c) {
    if (c->prev) c->prev->next = c->next;
    else *head = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* Drops the channel when nobody is in it or waiting for it, and with it
 * this node's claim (swap-remove: the last channel takes its index, and its
 * clients learn the new one). */
static void chan_tidy(signaling *sg, const char *id) {
    int64_t i = chan_find(sg, id);
    if (i < 0 || sg->chans[i].members || sg->chans[i].waiting || sg->chans[i].nauth) return;
    claims_io_release(&sg->node->claims, id); /* nothing to release when no claim was made */
    strmap_remove(&sg->chan_map, id);
    uint32_t last = --sg->nchans;
    if ((uint32_t)i != last) {
        sg->chans[i] = sg->chans[last];
        strmap_reindex(&sg->chan_map, sg->chans[i].id, (uint32_t)i);
        for (sig_conn *c = sg->chans[i].members; c; c = c->next) c->chan = (uint32_t)i;
        for (sig_conn *c = sg->chans[i].waiting; c; c = c->next) c->chan = (uint32_t)i;
    }
}

/* ---- outcomes --------------------------------------------------------------- */

static void reject(signaling *sg, sig_conn *c, const char *reason, const char *words) {
    size_t k = 0;
    while (k + 1 < NREASONS && strcmp(REASONS[k], reason) != 0) k++;
    if (strcmp(REASONS[k], reason) != 0) k = 0; /* the cluster's reasons (CLUSTER-NOT-MAJORITY...) */
    sg->m.rejected[k]++;
    uint16_t code = strncmp(reason, "NODE-BLOCKS", 11) == 0 || strncmp(reason, "AUTH", 4) == 0 ? 1008 : 1013;
    char text[SIG_REASON_MAX + 1];
    snprintf(text, sizeof text, "%s%s%s", reason, words ? ": " : "", words ? words : "");
    sig_session_reject(c->s, code, text);
}

static void redirect(signaling *sg, sig_conn *c, const char *to) {
    const swim_member *m = swim_find(sg->node->core, to);
    if (m == NULL || m->meta.url[0] == '\0') {
        reject(sg, c, "NO-SIGNALING-URL", "the channel's node publishes no public_signaling_url");
        return;
    }
    sg->m.redirects++;
    sig_session_redirect(c->s, gossip_now_ms(), m->meta.url);
}

static const char *client_id_of(const sig_conn *c) {
    const sig_connect *cn = sig_session_connect(c->s);
    return cn && cn->client_id[0] ? cn->client_id : c->connection_id;
}

/* Sora's notify to every client of the channel, with the channel's counts. */
static void notify(signaling *sg, local_chan *ch, const char *event, const sig_conn *subject) {
    (void)sg;
    const sig_connect *cn = sig_session_connect(subject->s);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "type", "notify", "event_type",
                          event, "role", sig_role_name(cn->role), "client_id", client_id_of(subject),
                          "connection_id", subject->connection_id, "channel_id", ch->id, "channel_connections",
                          (json_int_t)ch->nmembers, "channel_sendrecv_connections",
                          (json_int_t)ch->counts[SIG_SENDRECV], "channel_sendonly_connections",
                          (json_int_t)ch->counts[SIG_SENDONLY], "channel_recvonly_connections",
                          (json_int_t)ch->counts[SIG_RECVONLY]);
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (t == NULL) return;
    /* sent at once where the socket takes it; a session that overflowed
     * handles its close on the next loop iteration (sig_conn_kick) */
    for (sig_conn *m = ch->members; m; m = m->next) {
        sig_session_send(m->s, t);
        sig_conn_kick(m);
    }
    free(t);
}

static void new_connection_id(char out[27]) {
    static const char ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford base32, as Sora's ids */
    unsigned char r[26];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) /* cannot fail for 26 bytes after boot; still */
        for (int i = 0; i < 26; i++) r[i] = (unsigned char)rand();
    for (int i = 0; i < 26; i++) out[i] = ALPHABET[r[i] & 31];
    out[26] = '\0';
}

static void table_update(signaling *sg, const local_chan *ch) {
    channels_set_local(&sg->node->chans, ch->id, ch->nmembers, ch->nmembers ? ch->created_ms : 0);
}

static void admit(signaling *sg, sig_conn *c, uint32_t idx) {
    local_chan *ch = &sg->chans[idx];
    const sig_connect *cn = sig_session_connect(c->s);
    int64_t now = gossip_now_ms();
    if (c->connection_id[0] == '\0') new_connection_id(c->connection_id);
    sig_session_admit(c->s, now, c->connection_id);
    media_io_join(&sg->node->media, c); /* the offer goes before notify */
    c->phase = ADM_ADMITTED;
    c->chan = idx;
    list_push(&ch->members, c);
    ch->nmembers++;
    ch->counts[cn->role]++;
    sg->nsessions++;
    if (ch->nmembers == 1) {
        ch->created_ms = (uint64_t)wall_ms();
        shoal_log_event(&sg->node->log, "channel_opened", json_pack("{s:s}", "channel_id", ch->id));
    }
    table_update(sg, ch);
    sg->m.admitted++;
    count_latency(sg->m.admit_ms_buckets, &sg->m.admit_ms_sum, (double)(now - c->connect_ms));
    notify(sg, ch, "connection.created", c);
}

static const char *capacity_full(const signaling *sg) {
    const shoal_config *cfg = &sg->node->cfg;
    uint64_t here = (uint64_t)sg->nsessions + sg->npending;
    /* the cluster's cap first: when both are reached, the cluster is what is full */
    if (cfg->cluster_max_connections && sg->others_load + here >= cfg->cluster_max_connections) return "CLUSTER-FULL";
    if (here >= cfg->max_connections) return "NODE-FULL";
    return NULL;
}

/* The ring's choice for a new channel: the bounded-load lookup over the
 * gossiped loads ("" when every serving node is at its cap, or none serves). */
static const char *ring_choice(signaling *sg, const char *id) {
    shoal_node *node = sg->node;
    placement_refresh(node);
    const ring *r = &node->ring.r;
    if (r->nnodes == 0 || node->ring.loads == NULL) return "";
    int o = ring_lookup_bounded(r, ring_hash(id, strlen(id)), node->ring.loads, node->ring.total_load,
                                node->cfg.bounded_load_epsilon);
    return o >= 0 ? r->nodes[o].name : "";
}

static void wait_claim(signaling *sg, sig_conn *c, uint32_t idx) {
    c->phase = ADM_WAITING;
    c->chan = idx;
    list_push(&sg->chans[idx].waiting, c);
    sg->npending++;
}

/* ---- the auth webhook --------------------------------------------------------- */

static void decide(signaling *sg, sig_conn *c);

/* {"allowed": true} admits (the route is checked again: the claim may have
 * lapsed meanwhile); anything else rejects with the reason. */
static void webhook_done(void *ctx, webhook_result res, int status, const char *body, size_t len) {
    sig_conn *c = ctx;
    signaling *sg = c->sg;
    local_chan *ch = &sg->chans[c->chan];
    char id[sizeof ch->id];
    snprintf(id, sizeof id, "%s", ch->id);
    ch->nauth--;
    sg->npending--;
    c->hook = NULL;
    c->phase = ADM_NONE;
    sg->m.hooks++;
    count_latency(sg->m.hook_ms_buckets, &sg->m.hook_ms_sum, (double)(gossip_now_ms() - c->hook_ms));
    char words[SIG_REASON_MAX + 1];
    if (res == WEBHOOK_TIMEOUT) {
        snprintf(words, sizeof words, "no answer within %u ms", sg->node->cfg.auth_webhook_timeout_ms);
        reject(sg, c, "AUTH-WEBHOOK-TIMEOUT", words);
    } else if (res == WEBHOOK_UNREACHABLE) {
        reject(sg, c, "AUTH-WEBHOOK-UNREACHABLE", "no connection to auth_webhook_url");
    } else {
        sig_auth_answer a;
        sig_auth_decode(status, body, len, &a);
        if (a.allowed) {
            c->authorized = true;
            decide(sg, c);
        } else {
            reject(sg, c, a.code, a.words);
        }
    }
    sig_conn_pump(c);
    chan_tidy(sg, id);
}

/* What the webhook is told: the connect, and the ids this node assigned. */
static char *webhook_body(signaling *sg, sig_conn *c) {
    const sig_connect *cn = sig_session_connect(c->s);
    json_t *meta = cn->metadata ? json_loads(cn->metadata, JSON_DECODE_ANY, NULL) : json_null();
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:b, s:b, s:b, s:b, s:s}", "channel_id",
                          cn->channel_id, "client_id", client_id_of(c), "connection_id", c->connection_id, "role",
                          sig_role_name(cn->role), "metadata", meta ? meta : json_null(), "sora_client",
                          cn->sora_client, "environment", cn->environment, "multistream", cn->multistream, "audio",
                          cn->audio, "video", cn->video, "redirect", cn->redirect, "node_name",
                          sg->node->cfg.node_name);
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return t;
}

static void ask_webhook(signaling *sg, sig_conn *c, uint32_t idx) {
    if (c->connection_id[0] == '\0') new_connection_id(c->connection_id);
    char *body = webhook_body(sg, c);
    c->hook = body ? webhook_post(sg->node, sg->node->cfg.auth_webhook_url, body, sg->node->cfg.auth_webhook_timeout_ms,
                                  webhook_done, c)
                   : NULL;
    free(body);
    if (c->hook == NULL) {
        reject(sg, c, "AUTH-WEBHOOK-ERROR", "cannot send the request (auth_webhook_url?)");
        return;
    }
    c->phase = ADM_AUTH;
    c->chan = idx;
    c->hook_ms = gossip_now_ms();
    sg->chans[idx].nauth++;
    sg->npending++;
}

/* Held sockets count against max_connections with the sessions: a flood
 * during a suspicion is redirected as before rather than kept here. */
static bool room_to_hold(const signaling *sg) {
    return (uint64_t)sg->nsessions + sg->npending + sg->nheld < sg->node->cfg.max_connections;
}

/* Held for ROUTE_HOLD_MAX_MS at most, and only while there is room. */
static bool hold_expired(const signaling *sg, const sig_conn *c, int64_t now) {
    return (c->held_ms != 0 && now - c->held_ms >= ROUTE_HOLD_MAX_MS) || !room_to_hold(sg);
}

/* Not sent to a suspect: kept until adm_enforce decides again. */
static void hold(signaling *sg, sig_conn *c, int64_t now) {
    if (c->held_ms == 0) {
        c->held_ms = now;
        sg->m.holds++;
    }
    c->phase = ADM_HELD;
    list_push(&sg->held, c);
    sg->nheld++;
}

/* A client in DECIDING (phase NONE): where it goes. */
static void decide(signaling *sg, sig_conn *c) {
    shoal_node *node = sg->node;
    const sig_connect *cn = sig_session_connect(c->s);
    const char *id = cn->channel_id;
    int64_t now = gossip_now_ms();
    const char *holder = chtable_holder(node->chans.table, id), *owner = ring_choice(sg, id);
    route_in in = {.self = node->cfg.node_name,
                   .not_serving = ccore_reason_now(node->clu.core, now),
                   .mode = ccore_effective_mode(node->clu.core),
                   .claim_valid = claims_io_valid(&node->claims, id),
                   .claim_pending = claims_io_pending(&node->claims, id),
                   .table_holder = holder,
                   .ring_owner = owner,
                   .redirected = cn->redirect,
                   .table_holder_suspect = view_suspects(node->core, holder),
                   .ring_owner_suspect = view_suspects(node->core, owner),
                   .hold_expired = hold_expired(sg, c, now)};
    route_out r = route_decide(&in);
    const char *full = NULL;
    if ((r.action == ROUTE_ADMIT || r.action == ROUTE_CLAIM) && (full = capacity_full(sg)) != NULL) {
        reject(sg, c, full, strcmp(full, "NODE-FULL") == 0 ? "max_connections reached" : "cluster_max_connections reached");
        return;
    }
    int64_t idx = -1;
    if (r.action == ROUTE_ADMIT || r.action == ROUTE_CLAIM || r.action == ROUTE_WAIT) {
        idx = chan_get(sg, id);
        if (idx < 0) {
            reject(sg, c, "NODE-FULL", "out of memory");
            return;
        }
    }
    switch (r.action) {
    case ROUTE_ADMIT:
        if (sg->node->cfg.auth_webhook_url[0] && !c->authorized) ask_webhook(sg, c, (uint32_t)idx);
        else admit(sg, c, (uint32_t)idx);
        break;
    case ROUTE_WAIT: wait_claim(sg, c, (uint32_t)idx); break;
    case ROUTE_CLAIM:
        wait_claim(sg, c, (uint32_t)idx);
        claims_io_acquire(&node->claims, id); /* the outcome may come at once (adm_on_claim) */
        break;
    case ROUTE_REDIRECT: redirect(sg, c, r.to); break;
    case ROUTE_HOLD: hold(sg, c, now); break;
    case ROUTE_REJECT:
        reject(sg, c, r.reason,
               strcmp(r.reason, "CLUSTER-FULL") == 0 ? "every node is at its load cap" : "this node does not serve");
        break;
    }
}

void adm_on_connect(signaling *sg, sig_conn *c) {
    c->connect_ms = gossip_now_ms();
    decide(sg, c);
}

/* A member named another holder: go there, or wait here while it is suspected. */
static void refused(signaling *sg, sig_conn *c, const char *holder) {
    int64_t now = gossip_now_ms();
    route_out r = route_refused(holder, view_suspects(sg->node->core, holder), hold_expired(sg, c, now));
    if (r.action == ROUTE_HOLD) hold(sg, c, now);
    else redirect(sg, c, holder);
}

/* Claim outcomes for the clients waiting on a channel. */
static void on_claim(void *ctx, const claims_event *ev) {
    signaling *sg = ctx;
    int64_t idx = chan_find(sg, ev->channel);
    if (idx < 0 || sg->chans[idx].waiting == NULL) return;
    char id[sizeof sg->chans[0].id];
    snprintf(id, sizeof id, "%s", ev->channel);
    sig_conn *w = sg->chans[idx].waiting;
    sg->chans[idx].waiting = NULL;
    while (w != NULL) {
        sig_conn *next = w->next;
        w->phase = ADM_NONE;
        w->prev = w->next = NULL;
        sg->npending--;
        if (ev->type == CLAIMS_EV_HELD) decide(sg, w); /* the route now admits, unless the node stopped */
        else if (ev->type == CLAIMS_EV_REFUSED) refused(sg, w, ev->holder);
        else reject(sg, w, "CLAIM-FAILED", "no majority of the roster recorded this node as the channel's");
        sig_conn_pump(w);
        w = next;
    }
    chan_tidy(sg, id);
}

void adm_on_closed(signaling *sg, sig_conn *c) {
    sg->m.closed++;
    if (c->phase == ADM_NONE) return;
    if (c->phase == ADM_HELD) {
        list_remove(&sg->held, c);
        sg->nheld--;
        c->phase = ADM_NONE;
        return;
    }
    local_chan *ch = &sg->chans[c->chan];
    char id[sizeof ch->id];
    snprintf(id, sizeof id, "%s", ch->id);
    if (c->phase == ADM_WAITING) {
        list_remove(&ch->waiting, c);
        sg->npending--;
    } else if (c->phase == ADM_AUTH) {
        webhook_cancel(c->hook);
        c->hook = NULL;
        ch->nauth--;
        sg->npending--;
    } else {
        const sig_connect *cn = sig_session_connect(c->s);
        media_io_leave(&sg->node->media, c);
        list_remove(&ch->members, c);
        ch->nmembers--;
        ch->counts[cn->role]--;
        sg->nsessions--;
        notify(sg, ch, "connection.destroyed", c);
        table_update(sg, ch);
        if (ch->nmembers == 0) /* the claim goes with the entry (chan_tidy) */
            shoal_log_event(&sg->node->log, "channel_closed", json_pack("{s:s}", "channel_id", id));
    }
    c->phase = ADM_NONE;
    chan_tidy(sg, id);
}

/* Closes every client of the channel at index idx (its claim is gone). */
static void close_members(signaling *sg, uint32_t idx, uint16_t code, const char *reason) {
    sig_conn *m = sg->chans[idx].members;
    while (m != NULL) {
        sig_conn *next = m->next;
        sig_session_close(m->s, code, reason);
        sig_conn_pump(m); /* CLOSED: adm_on_closed takes it out of the channel */
        m = next;
    }
}

/* The held clients, decided again: their node's suspicion may have ended
 * (alive: redirected there; dead: its channels are gone from the table and
 * the ring, so they go to the new node), or the hold reached its bound. */
static void decide_held(signaling *sg) {
    sig_conn *h = sg->held;
    sg->held = NULL;
    sg->nheld = 0;
    while (h != NULL) {
        sig_conn *next = h->next;
        h->phase = ADM_NONE;
        h->prev = h->next = NULL;
        decide(sg, h); /* may hold it again */
        sig_conn_pump(h);
        h = next;
    }
}

/* No client may stay on a node that does not serve, or in a channel whose
 * claim is no longer valid: within 100 ms of either (claims.h's lease bound
 * is what makes that safe). */
void adm_enforce(signaling *sg) {
    shoal_node *node = sg->node;
    const char *why = ccore_reason_now(node->clu.core, gossip_now_ms());
    if (why != NULL) {
        if (sg->nconns > 0) {
            char text[SIG_REASON_MAX + 1];
            uint16_t code = node->leaving ? 1001 : 1013;
            snprintf(text, sizeof text, "%s: %s", why,
                     node->leaving ? "the node is shutting down" : "this node does not serve now");
            for (sig_conn *c = sg->all, *next; c; c = next) {
                next = c->all_next;
                if (sig_session_state(c->s) == SIG_CLOSED) continue;
                sig_session_close(c->s, code, text);
                sig_conn_pump(c);
            }
        }
        claims_io_drop_all(&node->claims);
        return;
    }
    for (uint32_t i = sg->nchans; i-- > 0;) { /* downwards: a removal moves the last into i */
        if (i >= sg->nchans || sg->chans[i].nmembers == 0) continue;
        if (!claims_io_valid(&node->claims, sg->chans[i].id)) {
            /* the last close releases the claim (adm_on_closed) */
            close_members(sg, i, 1013, "CLAIM-LOST: the channel's claim lapsed; connect again");
        }
    }
    decide_held(sg);
}

/* Every second: the others' loads (the cluster cap, the ring's bounded
 * lookup) and this node's own, gossiped when it changed. */
void adm_publish_load(signaling *sg) {
    shoal_node *node = sg->node;
    uint64_t others = 0;
    for (uint32_t i = 1; i < swim_member_count(node->core); i++) {
        const swim_member *m = swim_member_at(node->core, i);
        if (m->state == SWIM_ALIVE || m->state == SWIM_SUSPECT) others += m->meta.load;
    }
    sg->others_load = others;
    placement_refresh(node);
    view_ring_refresh_loads(&node->ring, node->core);
    uint32_t load = sg->nsessions + sg->npending;
    if (load != sg->published_load) {
        wire_meta m = swim_member_at(node->core, 0)->meta;
        m.load = load;
        swim_set_meta(node->core, gossip_now_ms(), &m);
        gossip_io_flush(&node->gio);
        sg->published_load = load;
    }
}

void adm_register(signaling *sg) {
    sg->node->claims.on_outcome = on_claim;
    sg->node->claims.outcome_ctx = sg;
}

/* ---- metrics ---------------------------------------------------------------- */

/* A Prometheus histogram in seconds from buckets counted in ms. */
static void histogram(FILE *f, const char *name, const uint64_t *buckets, double sum_ms, uint64_t count) {
    fprintf(f, "# TYPE %s histogram\n", name);
    for (int b = 0; b < SIG_LATENCY_BUCKETS; b++)
        fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, BUCKET_MS[b] / 1000.0, (unsigned long long)buckets[b]);
    fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name, (unsigned long long)count, name,
            sum_ms / 1000.0, name, (unsigned long long)count);
}

void signaling_metrics(const signaling *sg, FILE *f) {
    uint32_t open_chans = 0;
    for (uint32_t i = 0; i < sg->nchans; i++) open_chans += sg->chans[i].nmembers > 0;
    fprintf(f, "# TYPE shoal_signaling_connections gauge\nshoal_signaling_connections %u\n", sg->nconns);
    fprintf(f, "# TYPE shoal_signaling_sessions gauge\nshoal_signaling_sessions %u\n", sg->nsessions);
    fprintf(f, "# TYPE shoal_signaling_pending gauge\nshoal_signaling_pending %u\n", sg->npending);
    fprintf(f, "# TYPE shoal_signaling_channels gauge\nshoal_signaling_channels %u\n", open_chans);
    fprintf(f, "# TYPE shoal_signaling_held gauge\nshoal_signaling_held %u\n", sg->nheld);
    fprintf(f, "# TYPE shoal_signaling_holds_total counter\nshoal_signaling_holds_total %llu\n",
            (unsigned long long)sg->m.holds);
    fprintf(f, "# TYPE shoal_signaling_connects_total counter\nshoal_signaling_connects_total %llu\n",
            (unsigned long long)sg->m.connects);
    fprintf(f, "# TYPE shoal_signaling_admitted_total counter\nshoal_signaling_admitted_total %llu\n",
            (unsigned long long)sg->m.admitted);
    fprintf(f, "# TYPE shoal_signaling_redirects_total counter\nshoal_signaling_redirects_total %llu\n",
            (unsigned long long)sg->m.redirects);
    fprintf(f, "# TYPE shoal_signaling_closed_total counter\nshoal_signaling_closed_total %llu\n",
            (unsigned long long)sg->m.closed);
    fprintf(f, "# TYPE shoal_signaling_rejections_total counter\n");
    for (size_t k = 0; k < NREASONS; k++)
        fprintf(f, "shoal_signaling_rejections_total{reason=\"%s\"} %llu\n", REASONS[k],
                (unsigned long long)sg->m.rejected[k]);
    histogram(f, "shoal_signaling_admission_seconds", sg->m.admit_ms_buckets, sg->m.admit_ms_sum, sg->m.admitted);
    histogram(f, "shoal_auth_webhook_seconds", sg->m.hook_ms_buckets, sg->m.hook_ms_sum, sg->m.hooks);
}

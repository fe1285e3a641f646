/* signaling_admit.c - what the node core decides for each signaling client,
 * carried out on its WebSocket session (see signaling.h): admission (the
 * session, its media, Sora's notify to the channel), redirect, refusal,
 * close, and the auth webhook's requests. Every decision is the node
 * core's (node/core/admission.c); this file only acts on it. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "auth.h"
#include "node_ctx.h"
#include "signaling.h"
#include "webhook.h"

static const double BUCKET_MS[SIG_LATENCY_BUCKETS] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};

static void count_latency(uint64_t *buckets, double *sum, double ms) {
    *sum += ms;
    for (int b = 0; b < SIG_LATENCY_BUCKETS; b++)
        if (ms <= BUCKET_MS[b]) buckets[b]++;
}

static const char *client_id_of(const sig_conn *c) {
    const sig_connect *cn = sig_session_connect(c->s);
    return cn && cn->client_id[0] ? cn->client_id : c->connection_id;
}

static void new_connection_id(char out[27]) {
    static const char ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford base32, as Sora's ids */
    unsigned char r[26];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) /* cannot fail for 26 bytes after boot; still */
        for (int i = 0; i < 26; i++) r[i] = (unsigned char)rand();
    for (int i = 0; i < 26; i++) out[i] = ALPHABET[r[i] & 31];
    out[26] = '\0';
}

/* ---- notify --------------------------------------------------------------------- */

static void send_to(void *ctx, void *user) {
    sig_conn *m = user;
    /* sent at once where the socket takes it; a session that overflowed
     * handles its close on the next loop iteration (sig_conn_kick) */
    sig_session_send(m->s, ctx);
    sig_conn_kick(m);
}

/* Sora's notify to every client of the channel, with the channel's counts. */
static void notify(signaling *sg, const char *channel, const char *event, const sig_conn *subject) {
    ncore_channel_info ch;
    if (!ncore_channel(sg->node->nc, channel, &ch)) return; /* nobody left to tell */
    const sig_connect *cn = sig_session_connect(subject->s);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "type", "notify", "event_type",
                          event, "role", sig_role_name(cn->role), "client_id", client_id_of(subject),
                          "connection_id", subject->connection_id, "channel_id", channel, "channel_connections",
                          (json_int_t)ch.members, "channel_sendrecv_connections",
                          (json_int_t)ch.counts[SIG_SENDRECV], "channel_sendonly_connections",
                          (json_int_t)ch.counts[SIG_SENDONLY], "channel_recvonly_connections",
                          (json_int_t)ch.counts[SIG_RECVONLY]);
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (t == NULL) return;
    ncore_channel_each(sg->node->nc, channel, send_to, t);
    free(t);
}

/* ---- the auth webhook --------------------------------------------------------------- */

/* {"allowed": true} admits (the node core checks the route again: the
 * claim may have lapsed meanwhile); anything else refuses with the reason. */
static void webhook_done(void *ctx, webhook_result res, int status, const char *body, size_t len) {
    sig_conn *c = ctx;
    signaling *sg = c->sg;
    c->hook = NULL;
    sg->m.hooks++;
    int64_t now = node_now_ms();
    count_latency(sg->m.hook_ms_buckets, &sg->m.hook_ms_sum, (double)(now - c->hook_ms));
    char words[SIG_REASON_MAX + 1];
    if (res == WEBHOOK_TIMEOUT) {
        snprintf(words, sizeof words, "no answer within %u ms", sg->node->cfg.auth_webhook_timeout_ms);
        ncore_client_auth(sg->node->nc, now, c->client, SHOAL_AUTH_WEBHOOK_TIMEOUT, words);
    } else if (res == WEBHOOK_UNREACHABLE) {
        ncore_client_auth(sg->node->nc, now, c->client, SHOAL_AUTH_WEBHOOK_UNREACHABLE,
                          "no connection to auth_webhook_url");
    } else {
        sig_auth_answer a;
        sig_auth_decode(status, body, len, &a);
        ncore_client_auth(sg->node->nc, now, c->client, a.allowed ? SHOAL_OK : a.code, a.words);
    }
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

static void ask_webhook(signaling *sg, sig_conn *c) {
    if (c->connection_id[0] == '\0') new_connection_id(c->connection_id);
    char *body = webhook_body(sg, c);
    c->hook_ms = node_now_ms();
    c->hook = body ? webhook_post(sg->node, sg->node->cfg.auth_webhook_url, body, sg->node->cfg.auth_webhook_timeout_ms,
                                  webhook_done, c)
                   : NULL;
    free(body);
    if (c->hook == NULL)
        ncore_client_auth(sg->node->nc, c->hook_ms, c->client, SHOAL_AUTH_WEBHOOK_ERROR,
                          "cannot send the request (auth_webhook_url?)");
}

/* ---- the node core's decisions ------------------------------------------------------- */

static void admit(signaling *sg, sig_conn *c) {
    const sig_connect *cn = sig_session_connect(c->s);
    int64_t now = node_now_ms();
    if (c->connection_id[0] == '\0') new_connection_id(c->connection_id);
    sig_session_admit(c->s, now, c->connection_id);
    sig_media_join(sg, c); /* the offer goes before notify */
    c->admitted = true;
    count_latency(sg->m.admit_ms_buckets, &sg->m.admit_ms_sum, (double)(now - c->connect_ms));
    notify(sg, cn->channel_id, "connection.created", c);
}

void adm_on_client(signaling *sg, const ncore_client_event *e) {
    sig_conn *c = e->user;
    if (c == NULL || c->client != e->client) return; /* gone meanwhile */
    switch (e->action) {
    case NCORE_ADMIT: admit(sg, c); break;
    case NCORE_REDIRECT: sig_session_redirect(c->s, node_now_ms(), e->url); break;
    case NCORE_REJECT: sig_session_reject(c->s, e->code, e->text); break;
    case NCORE_CLOSE: sig_session_close(c->s, e->code, e->text); break;
    case NCORE_AUTH: ask_webhook(sg, c); break;
    case NCORE_HOLD: return; /* kept open: the node core decides again */
    }
    sig_conn_pump(c);
}

bool adm_on_open(signaling *sg, sig_conn *c) {
    c->client = ncore_client_open(sg->node->nc, c);
    return c->client != 0;
}

void adm_on_connect(signaling *sg, sig_conn *c) {
    const sig_connect *cn = sig_session_connect(c->s);
    c->connect_ms = node_now_ms();
    ncore_client_connect(sg->node->nc, c->connect_ms, c->client, cn->channel_id, (uint8_t)cn->role, cn->redirect);
}

void adm_on_closed(signaling *sg, sig_conn *c) {
    sg->m.closed++;
    if (c->client == 0) return;
    if (c->hook != NULL) {
        webhook_cancel(c->hook);
        c->hook = NULL;
    }
    if (c->admitted) sig_media_leave(sg, c);
    ncore_client_gone(sg->node->nc, node_now_ms(), c->client);
    c->client = 0;
    if (c->admitted) notify(sg, sig_session_connect(c->s)->channel_id, "connection.destroyed", c);
    c->admitted = false;
}

/* ---- metrics ---------------------------------------------------------------- */

/* Refusals counted by these labels; the cluster's own reasons (not
 * serving: no majority, leaving, ...) count as NOT-SERVING. */
static const shoal_outcome LABELS[] = {SHOAL_NOT_SERVING,          SHOAL_NODE_BLOCKS_NEW_CONNECTIONS,
                                       SHOAL_NODE_BLOCKS_NEW_SESSIONS, SHOAL_NODE_FULL,
                                       SHOAL_CLUSTER_FULL,         SHOAL_CLAIM_FAILED,
                                       SHOAL_NO_SIGNALING_URL,     SHOAL_AUTH_REJECTED,
                                       SHOAL_AUTH_WEBHOOK_TIMEOUT, SHOAL_AUTH_WEBHOOK_UNREACHABLE,
                                       SHOAL_AUTH_WEBHOOK_ERROR};
#define NLABELS (sizeof LABELS / sizeof LABELS[0])

/* A Prometheus histogram in seconds from buckets counted in ms. */
static void histogram(FILE *f, const char *name, const uint64_t *buckets, double sum_ms, uint64_t count) {
    fprintf(f, "# TYPE %s histogram\n", name);
    for (int b = 0; b < SIG_LATENCY_BUCKETS; b++)
        fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, BUCKET_MS[b] / 1000.0, (unsigned long long)buckets[b]);
    fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name, (unsigned long long)count, name,
            sum_ms / 1000.0, name, (unsigned long long)count);
}

void signaling_metrics(const signaling *sg, FILE *f) {
    const ncore_stats *st = ncore_stats_of(sg->node->nc);
    uint64_t rejected[NLABELS] = {0};
    for (unsigned o = 0; o < SHOAL_OUTCOME_COUNT; o++) {
        size_t k = 0; /* not one of the labels: a cluster reason, NOT-SERVING */
        for (size_t j = 0; j < NLABELS; j++)
            if (LABELS[j] == (shoal_outcome)o) k = j;
        rejected[k] += st->rejected[o];
    }
    fprintf(f, "# TYPE shoal_signaling_connections gauge\nshoal_signaling_connections %u\n", sg->nconns);
    fprintf(f, "# TYPE shoal_signaling_sessions gauge\nshoal_signaling_sessions %u\n", st->sessions);
    fprintf(f, "# TYPE shoal_signaling_pending gauge\nshoal_signaling_pending %u\n", st->pending);
    fprintf(f, "# TYPE shoal_signaling_channels gauge\nshoal_signaling_channels %u\n", st->channels);
    fprintf(f, "# TYPE shoal_signaling_held gauge\nshoal_signaling_held %u\n", st->held);
    fprintf(f, "# TYPE shoal_signaling_holds_total counter\nshoal_signaling_holds_total %llu\n",
            (unsigned long long)st->holds);
    fprintf(f, "# TYPE shoal_signaling_connects_total counter\nshoal_signaling_connects_total %llu\n",
            (unsigned long long)sg->m.connects);
    fprintf(f, "# TYPE shoal_signaling_admitted_total counter\nshoal_signaling_admitted_total %llu\n",
            (unsigned long long)st->admitted);
    fprintf(f, "# TYPE shoal_signaling_redirects_total counter\nshoal_signaling_redirects_total %llu\n",
            (unsigned long long)st->redirects);
    fprintf(f, "# TYPE shoal_signaling_closed_total counter\nshoal_signaling_closed_total %llu\n",
            (unsigned long long)sg->m.closed);
    fprintf(f, "# TYPE shoal_signaling_rejections_total counter\n");
    for (size_t k = 0; k < NLABELS; k++)
        fprintf(f, "shoal_signaling_rejections_total{reason=\"%s\"} %llu\n", shoal_outcome_name(LABELS[k]),
                (unsigned long long)rejected[k]);
    histogram(f, "shoal_signaling_admission_seconds", sg->m.admit_ms_buckets, sg->m.admit_ms_sum, st->admitted);
    histogram(f, "shoal_auth_webhook_seconds", sg->m.hook_ms_buckets, sg->m.hook_ms_sum, sg->m.hooks);
}

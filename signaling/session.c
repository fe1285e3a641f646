/* session.c - one client's signaling session (see session.h). */
#include "session.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OUT 64               /* texts queued before the adapter drains them; more close the session */
#define MAX_EVENTS 4

struct sig_session {
    sig_session_config cfg;
    sig_state state;
    sig_connect connect;
    bool have_connect;
    char connection_id[64];
    int64_t deadline;            /* connect timeout, redirect grace, or next ping */
    uint32_t unanswered;         /* pings sent since the last pong */
    uint64_t ignored;
    uint64_t candidates;         /* trickled candidates: counted (ICE-lite learns addresses from checks) */
    char *answer;                /* the last answer/re-answer's SDP, until taken */
    bool answer_re;
    char *out[MAX_OUT];
    uint32_t nout;
    bool close_pending;
    uint16_t close_code;
    char close_reason[SIG_REASON_MAX + 1];
    sig_event events[MAX_EVENTS];
    uint32_t nevents;
};

void sig_session_config_default(sig_session_config *c) {
    c->connect_timeout_ms = 10000;
    c->ping_interval_ms = 30000;
    c->pong_misses = 2;
    c->ping_stats = false;
    c->redirect_grace_ms = 5000;
}

sig_session *sig_session_new(const sig_session_config *cfg, int64_t now) {
    sig_session *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    s->cfg = *cfg;
    s->state = SIG_CONNECTING;
    s->deadline = now + cfg->connect_timeout_ms;
    return s;
}

void sig_session_free(sig_session *s) {
    if (s == NULL) return;
    sig_session_out_clear(s);
    sig_connect_free(&s->connect);
    free(s->answer);
    free(s);
}

static void event(sig_session *s, sig_event e) {
    for (uint32_t i = 0; i < s->nevents; i++)
        if (s->events[i] == e) return; /* pending already: one is enough */
    if (s->nevents < MAX_EVENTS) s->events[s->nevents++] = e;
}

/* Ends the session with a close frame to send (once). */
static void close_with(sig_session *s, uint16_t code, const char *reason) {
    if (s->state == SIG_CLOSED) return;
    s->state = SIG_CLOSED;
    s->close_pending = true;
    s->close_code = code;
    snprintf(s->close_reason, sizeof s->close_reason, "%s", reason);
    event(s, SIG_EV_CLOSED);
}

static void queue(sig_session *s, char *text) {
    if (text == NULL) return;
    if (s->nout == MAX_OUT) { /* the client does not read: drop it rather than grow */
        free(text);
        close_with(s, 1008, "too many messages waiting to be sent");
        return;
    }
    s->out[s->nout++] = text;
}

static char *dump(json_t *o) {
    char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return t;
}

static void recv_open(sig_session *s, const char *text, size_t len) {
    json_error_t jerr;
    json_t *o = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    if (o == NULL || !json_is_object(o)) {
        json_decref(o);
        close_with(s, 1007, "a message must be a JSON object");
        return;
    }
    const char *type = json_string_value(json_object_get(o, "type"));
    if (type != NULL && strcmp(type, "pong") == 0) s->unanswered = 0;
    else if (type != NULL && strcmp(type, "disconnect") == 0) close_with(s, 1000, "disconnect");
    else if (type != NULL && (strcmp(type, "answer") == 0 || strcmp(type, "re-answer") == 0)) {
        const char *sdp = json_string_value(json_object_get(o, "sdp"));
        if (sdp == NULL) {
            close_with(s, 1008, "an answer needs its sdp as a string");
        } else {
            free(s->answer); /* only the latest counts */
            s->answer = strdup(sdp);
            s->answer_re = type[0] == 'r';
            if (s->answer) event(s, SIG_EV_ANSWER);
        }
    } else if (type != NULL && strcmp(type, "candidate") == 0) s->candidates++;
    else s->ignored++;
    json_decref(o);
}

void sig_session_recv(sig_session *s, int64_t now, const char *text, size_t len) {
    (void)now;
    if (s->state == SIG_CLOSED) return;
    if (len > SIG_MESSAGE_MAX) {
        close_with(s, 1009, "message too big");
        return;
    }
    if (s->state == SIG_CONNECTING) {
        sig_error err;
        if (!sig_connect_parse(text, len, &s->connect, &err)) {
            close_with(s, err.close_code, err.reason);
            return;
        }
        s->have_connect = true;
        s->state = SIG_DECIDING;
        event(s, SIG_EV_CONNECT);
        return;
    }
    if (s->state == SIG_OPEN) recv_open(s, text, len);
    else s->ignored++; /* deciding or redirected: nothing to say yet */
}

void sig_session_tick(sig_session *s, int64_t now) {
    if (s->state == SIG_CLOSED || now < s->deadline) return;
    switch (s->state) {
    case SIG_CONNECTING: close_with(s, 1008, "no connect message in time"); break;
    case SIG_REDIRECTED: close_with(s, 1000, "redirected"); break;
    case SIG_OPEN:
        if (s->unanswered >= s->cfg.pong_misses) {
            close_with(s, 1008, "no pong");
            break;
        }
        s->unanswered++;
        queue(s, dump(json_pack("{s:s, s:b}", "type", "ping", "stats", s->cfg.ping_stats)));
        s->deadline = now + s->cfg.ping_interval_ms;
        break;
    default: break; /* deciding: the node's decision ends it */
    }
}

void sig_session_peer_closed(sig_session *s) {
    if (s->state == SIG_CLOSED) return;
    s->state = SIG_CLOSED;
    s->close_pending = false; /* nothing to send on a closed socket */
    event(s, SIG_EV_CLOSED);
}

void sig_session_redirect(sig_session *s, int64_t now, const char *location) {
    if (s->state != SIG_DECIDING) return;
    queue(s, dump(json_pack("{s:s, s:s}", "type", "redirect", "location", location)));
    if (s->state == SIG_CLOSED) return;
    s->state = SIG_REDIRECTED;
    s->deadline = now + s->cfg.redirect_grace_ms;
}

void sig_session_reject(sig_session *s, uint16_t code, const char *reason) {
    if (s->state == SIG_DECIDING) close_with(s, code, reason);
}

void sig_session_admit(sig_session *s, int64_t now, const char *connection_id) {
    if (s->state != SIG_DECIDING) return;
    snprintf(s->connection_id, sizeof s->connection_id, "%s", connection_id);
    s->state = SIG_OPEN;
    s->deadline = now + s->cfg.ping_interval_ms;
}

void sig_session_send(sig_session *s, const char *json_text) {
    if (s->state == SIG_OPEN) queue(s, strdup(json_text));
}

void sig_session_close(sig_session *s, uint16_t code, const char *reason) { close_with(s, code, reason); }

sig_state sig_session_state(const sig_session *s) { return s->state; }
const sig_connect *sig_session_connect(const sig_session *s) { return s->have_connect ? &s->connect : NULL; }
const char *sig_session_connection_id(const sig_session *s) { return s->connection_id; }
uint64_t sig_session_ignored(const sig_session *s) { return s->ignored; }
uint64_t sig_session_candidates(const sig_session *s) { return s->candidates; }

char *sig_session_answer_take(sig_session *s, bool *re) {
    char *a = s->answer;
    if (re) *re = s->answer_re;
    s->answer = NULL;
    return a;
}

int64_t sig_session_next_deadline(const sig_session *s) {
    return s->state == SIG_CLOSED || s->state == SIG_DECIDING ? INT64_MAX : s->deadline;
}

char *const *sig_session_outbox(const sig_session *s, uint32_t *n) {
    *n = s->nout;
    return s->out;
}

void sig_session_out_clear(sig_session *s) {
    for (uint32_t i = 0; i < s->nout; i++) free(s->out[i]);
    s->nout = 0;
}

char *sig_session_out_take(sig_session *s) {
    if (s->nout == 0) return NULL;
    char *t = s->out[0];
    memmove(s->out, s->out + 1, (s->nout - 1) * sizeof s->out[0]);
    s->nout--;
    return t;
}

bool sig_session_close_pending(const sig_session *s, uint16_t *code, const char **reason) {
    if (!s->close_pending) return false;
    *code = s->close_code;
    *reason = s->close_reason;
    return true;
}

void sig_session_close_sent(sig_session *s) { s->close_pending = false; }

const sig_event *sig_session_events(const sig_session *s, uint32_t *n) {
    *n = s->nevents;
    return s->events;
}

void sig_session_events_clear(sig_session *s) { s->nevents = 0; }

/* session.h - one client's signaling session as a state machine without
 * I/O: text messages and the clock in, messages to send, a close and
 * events out. The node decides where the client belongs (placement,
 * admission) and tells the session; the WebSocket adapter moves bytes.
 *
 *   CONNECTING --connect ok--> DECIDING --admit--> OPEN --disconnect/timeout--> CLOSED
 *        |                         |--redirect--> REDIRECTED (the client closes; we do after a grace)
 *        |--bad/no connect--> CLOSED   |--reject--> CLOSED
 *
 * Rules (Sora's, where it has one):
 *   - the first message must be a valid connect (connect.h), within
 *     connect_timeout_ms of the socket opening, else close;
 *   - once open, the server sends {"type":"ping","stats":S} every
 *     ping_interval_ms; a client that has not answered the last pong_misses
 *     pings with {"type":"pong"} is closed (1008, "no pong");
 *   - {"type":"disconnect"} closes with 1000;
 *   - {"type":"answer"|"re-answer","sdp":S} raise SIG_EV_ANSWER (the media
 *     plane reads S); an answer without a string sdp closes with 1008;
 *     {"type":"candidate"} is counted: an ICE-lite server learns the
 *     client's address from its checks;
 *   - any other message type while open is counted and ignored (newer SDKs
 *     send types this server does not know); text that is not a JSON object
 *     closes with 1007; messages over SIG_MESSAGE_MAX close with 1009;
 *   - messages before the decision are ignored (a client has nothing to
 *     say then), so memory per session stays bounded. */
#ifndef SHOAL_SESSION_H
#define SHOAL_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "connect.h"

typedef struct sig_session_config {
    int64_t connect_timeout_ms;        /* 10 s */
    int64_t ping_interval_ms;          /* 30 s, as Sora */
    uint32_t pong_misses;              /* 2 */
    bool ping_stats;                   /* ask for getStats in pongs */
    int64_t redirect_grace_ms;         /* 5 s: then we close a redirected socket ourselves */
} sig_session_config;

typedef enum { SIG_CONNECTING, SIG_DECIDING, SIG_OPEN, SIG_REDIRECTED, SIG_CLOSED } sig_state;

typedef enum {
    SIG_EV_CONNECT,      /* a valid connect: decide (sig_session_connect() has it) */
    SIG_EV_CLOSED,       /* the session ended (code/reason in sig_session_close_*) */
    SIG_EV_ANSWER,       /* an answer or re-answer arrived: sig_session_answer_take() */
} sig_event;

typedef struct sig_session sig_session;

void sig_session_config_default(sig_session_config *c);
sig_session *sig_session_new(const sig_session_config *cfg, int64_t now);
void sig_session_free(sig_session *s);

/* Inputs. */
void sig_session_recv(sig_session *s, int64_t now, const char *text, size_t len);
void sig_session_tick(sig_session *s, int64_t now);
void sig_session_peer_closed(sig_session *s); /* the client closed or the socket broke */

/* Decisions, valid in DECIDING. */
void sig_session_redirect(sig_session *s, int64_t now, const char *location);
void sig_session_reject(sig_session *s, uint16_t code, const char *reason);
void sig_session_admit(sig_session *s, int64_t now, const char *connection_id);
/* Server messages to an open session (notify, offer): a JSON object's text. */
void sig_session_send(sig_session *s, const char *json_text);
/* The node ends the session in any state (it lost majority or the channel's
 * claim, it is shutting down): the close frame follows the queued texts. */
void sig_session_close(sig_session *s, uint16_t code, const char *reason);

/* State and outputs. */
sig_state sig_session_state(const sig_session *s);
const sig_connect *sig_session_connect(const sig_session *s); /* NULL before a valid connect */
const char *sig_session_connection_id(const sig_session *s);
int64_t sig_session_next_deadline(const sig_session *s);
uint64_t sig_session_ignored(const sig_session *s);         /* messages counted and ignored */
uint64_t sig_session_candidates(const sig_session *s);      /* trickled candidates (ICE-lite: unused) */
/* The SDP of the latest answer or re-answer (*re tells which), now the
 * caller's to free; NULL when none arrived since the last take. */
char *sig_session_answer_take(sig_session *s, bool *re);
/* Texts to send, in order; then, if closing, the close frame. */
char *const *sig_session_outbox(const sig_session *s, uint32_t *n);
void sig_session_out_clear(sig_session *s);
/* The first queued text, now the caller's (free it); NULL when none. The
 * adapter writes one text per writable socket this way. */
char *sig_session_out_take(sig_session *s);
bool sig_session_close_pending(const sig_session *s, uint16_t *code, const char **reason);
void sig_session_close_sent(sig_session *s);
/* Events since the last clear. */
const sig_event *sig_session_events(const sig_session *s, uint32_t *n);
void sig_session_events_clear(sig_session *s);

#endif

/* test_session.c - the signaling session state machine, message by message
 * and clock tick by clock tick: connect, redirect, admission, pings and
 * pongs, disconnect, timeouts, and every bad input ending in its close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "session.h"

#define CONNECT "{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"room\"}"

static sig_session *fresh(void) {
    sig_session_config c;
    sig_session_config_default(&c);
    return sig_session_new(&c, 0);
}

static void say(sig_session *s, int64_t now, const char *text) { sig_session_recv(s, now, text, strlen(text)); }

static void assert_closed(sig_session *s, uint16_t code, const char *reason_has) {
    uint16_t c;
    const char *r;
    assert_int_equal(sig_session_state(s), SIG_CLOSED);
    assert_true(sig_session_close_pending(s, &c, &r));
    assert_int_equal(c, code);
    if (strstr(r, reason_has) == NULL) fail_msg("close reason \"%s\" lacks \"%s\"", r, reason_has);
    assert_int_equal(sig_session_next_deadline(s), INT64_MAX);
}

static const char *only_out(sig_session *s) {
    uint32_t n;
    char *const *o = sig_session_outbox(s, &n);
    assert_int_equal(n, 1);
    return o[0];
}

static void connect_admit_ping_pong(void **state) {
    (void)state;
    sig_session *s = fresh();
    say(s, 100, CONNECT);
    assert_int_equal(sig_session_state(s), SIG_DECIDING);
    uint32_t n;
    const sig_event *ev = sig_session_events(s, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0], SIG_EV_CONNECT);
    assert_string_equal(sig_session_connect(s)->channel_id, "room");
    sig_session_events_clear(s);
    sig_session_tick(s, 60000); /* deciding: no timeout of ours, the node decides */
    assert_int_equal(sig_session_state(s), SIG_DECIDING);
    sig_session_admit(s, 1000, "conn-1");
    assert_int_equal(sig_session_state(s), SIG_OPEN);
    assert_string_equal(sig_session_connection_id(s), "conn-1");
    assert_int_equal(sig_session_next_deadline(s), 31000);
    sig_session_tick(s, 30999);
    sig_session_outbox(s, &n);
    assert_int_equal(n, 0);
    sig_session_tick(s, 31000);
    assert_string_equal(only_out(s), "{\"type\":\"ping\",\"stats\":false}");
    sig_session_out_clear(s);
    say(s, 31500, "{\"type\":\"pong\",\"stats\":[]}");
    /* answered pings never close; two missed ones do, at the third tick */
    for (int k = 1; k <= 10; k++) {
        sig_session_tick(s, 31000 + k * 30000);
        say(s, 31000 + k * 30000 + 10, "{\"type\":\"pong\"}");
    }
    assert_int_equal(sig_session_state(s), SIG_OPEN);
    sig_session_out_clear(s);
    sig_session_tick(s, 400000);
    sig_session_tick(s, 430000);
    assert_int_equal(sig_session_state(s), SIG_OPEN);
    sig_session_tick(s, 460000);
    assert_closed(s, 1008, "no pong");
    sig_session_free(s);
}

/* A ping asking for stats is answered by sora-js-sdk with a 10 KB pong of
 * getStats entries (captured in Chromium): it counts as the pong, so the
 * session outlives any number of such pings. */
static void real_client_pong_with_stats(void **state) {
    (void)state;
    size_t len;
    char *pong = fixture_read("sora-js-sdk/pong-sample.json", &len);
    assert_true(len > 4096);
    sig_session_config c;
    sig_session_config_default(&c);
    c.ping_stats = true;
    sig_session *s = sig_session_new(&c, 0);
    say(s, 100, CONNECT);
    sig_session_events_clear(s);
    sig_session_admit(s, 1000, "conn-1");
    int64_t t = 1000;
    for (int k = 0; k < 5; k++) {
        t = sig_session_next_deadline(s);
        sig_session_tick(s, t);
        assert_string_equal(only_out(s), "{\"type\":\"ping\",\"stats\":true}");
        sig_session_out_clear(s);
        sig_session_recv(s, t + 20, pong, len);
        assert_int_equal(sig_session_state(s), SIG_OPEN);
    }
    /* without answers the same session closes: the pongs above counted */
    for (int k = 0; k < 3; k++) sig_session_tick(s, t += 30000);
    assert_closed(s, 1008, "no pong");
    sig_session_free(s);
    free(pong);
}

static void redirect_then_client_closes_or_grace(void **state) {
    (void)state;
    sig_session *s = fresh();
    say(s, 0, CONNECT);
    sig_session_redirect(s, 10, "ws://10.0.0.2:5000/signaling");
    assert_string_equal(only_out(s), "{\"type\":\"redirect\",\"location\":\"ws://10.0.0.2:5000/signaling\"}");
    assert_int_equal(sig_session_state(s), SIG_REDIRECTED);
    say(s, 20, "{\"type\":\"pong\"}"); /* nothing to say now: ignored */
    assert_int_equal(sig_session_ignored(s), 1);
    sig_session_peer_closed(s);
    assert_int_equal(sig_session_state(s), SIG_CLOSED);
    uint16_t c;
    const char *r;
    assert_false(sig_session_close_pending(s, &c, &r)); /* nobody to send a close to */
    sig_session_free(s);

    s = fresh();
    say(s, 0, CONNECT);
    sig_session_redirect(s, 10, "ws://x/signaling");
    sig_session_tick(s, 5009);
    assert_int_equal(sig_session_state(s), SIG_REDIRECTED);
    sig_session_tick(s, 5010);
    assert_closed(s, 1000, "redirected");
    sig_session_free(s);
}

static void reject_and_disconnect(void **state) {
    (void)state;
    sig_session *s = fresh();
    say(s, 0, CONNECT);
    sig_session_reject(s, 1008, "CLUSTER-NOT-MAJORITY");
    assert_closed(s, 1008, "CLUSTER-NOT-MAJORITY");
    sig_session_free(s);
    s = fresh();
    say(s, 0, CONNECT);
    sig_session_admit(s, 0, "c");
    say(s, 5, "{\"type\":\"stats\",\"reports\":[]}"); /* a type this server does not use */
    assert_int_equal(sig_session_ignored(s), 1);
    assert_int_equal(sig_session_state(s), SIG_OPEN);
    say(s, 10, "{\"type\":\"disconnect\"}");
    assert_closed(s, 1000, "disconnect");
    sig_session_free(s);
}

/* answer and re-answer hand their SDP to the media plane, the latest one
 * only; candidates are counted; an answer without sdp closes with 1008. */
static void answers_and_candidates(void **state) {
    (void)state;
    sig_session *s = fresh();
    say(s, 0, CONNECT);
    sig_session_admit(s, 0, "c");
    sig_session_events_clear(s);
    say(s, 5, "{\"type\":\"answer\",\"sdp\":\"v=0 first\"}");
    say(s, 6, "{\"type\":\"candidate\",\"candidate\":\"candidate:1 1 udp 1 127.0.0.1 9 typ host\"}");
    say(s, 7, "{\"type\":\"re-answer\",\"sdp\":\"v=0 second\"}");
    uint32_t n;
    const sig_event *ev = sig_session_events(s, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0], SIG_EV_ANSWER);
    bool re = false;
    char *a = sig_session_answer_take(s, &re);
    assert_string_equal(a, "v=0 second");
    assert_true(re);
    free(a);
    assert_null(sig_session_answer_take(s, NULL));
    assert_int_equal(sig_session_candidates(s), 1);
    assert_int_equal(sig_session_ignored(s), 0);
    say(s, 8, "{\"type\":\"answer\",\"sdp\":5}");
    assert_closed(s, 1008, "sdp");
    sig_session_free(s);
}

/* The node ends a session in any state: queued texts go first, one at a
 * time (out_take), then the close; nothing is queued after the close. */
static void node_close_after_queued_texts(void **state) {
    (void)state;
    sig_session *s = fresh();
    say(s, 0, CONNECT);
    sig_session_admit(s, 0, "c");
    sig_session_send(s, "{\"type\":\"notify\",\"n\":1}");
    sig_session_send(s, "{\"type\":\"notify\",\"n\":2}");
    sig_session_close(s, 1013, "CLUSTER-NOT-MAJORITY: this node does not serve now");
    sig_session_send(s, "{\"type\":\"notify\",\"n\":3}"); /* closed: dropped */
    char *t = sig_session_out_take(s);
    assert_string_equal(t, "{\"type\":\"notify\",\"n\":1}");
    free(t);
    t = sig_session_out_take(s);
    assert_string_equal(t, "{\"type\":\"notify\",\"n\":2}");
    free(t);
    assert_null(sig_session_out_take(s));
    assert_closed(s, 1013, "CLUSTER-NOT-MAJORITY");
    uint32_t n;
    const sig_event *ev = sig_session_events(s, &n);
    assert_int_equal(ev[n - 1], SIG_EV_CLOSED);
    sig_session_free(s);
    /* also before any connect: a node shutting down closes everyone */
    s = fresh();
    sig_session_close(s, 1001, "NODE-LEAVING");
    assert_closed(s, 1001, "NODE-LEAVING");
    sig_session_free(s);
}

static void bad_inputs_close(void **state) {
    (void)state;
    struct {
        const char *text;
        uint16_t code;
        const char *why;
    } first[] = {
        {"hello", 1007, "not JSON"},
        {"{\"type\":\"offer\"}", 1008, "must be connect"},
        {"{\"type\":\"connect\",\"role\":\"x\",\"channel_id\":\"r\"}", 1008, "role"},
    };
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++) {
        sig_session *s = fresh();
        say(s, 0, first[i].text);
        assert_closed(s, first[i].code, first[i].why);
        assert_null(sig_session_connect(s));
        say(s, 1, CONNECT); /* nothing happens after the close */
        assert_int_equal(sig_session_state(s), SIG_CLOSED);
        sig_session_free(s);
    }
    sig_session *s = fresh();
    say(s, 0, CONNECT);
    sig_session_admit(s, 0, "c");
    say(s, 1, "[1]");
    assert_closed(s, 1007, "JSON object");
    sig_session_free(s);
    s = fresh();
    static char big[SIG_MESSAGE_MAX + 2];
    memset(big, ' ', sizeof big);
    sig_session_recv(s, 0, big, sizeof big);
    assert_closed(s, 1009, "too big");
    sig_session_free(s);
}

static void silent_socket_times_out(void **state) {
    (void)state;
    sig_session *s = fresh();
    assert_int_equal(sig_session_next_deadline(s), 10000);
    sig_session_tick(s, 9999);
    assert_int_equal(sig_session_state(s), SIG_CONNECTING);
    sig_session_tick(s, 10000);
    assert_closed(s, 1008, "no connect");
    sig_session_free(s);
}

static void a_client_that_does_not_read_is_closed(void **state) {
    (void)state;
    sig_session *s = fresh();
    say(s, 0, CONNECT);
    sig_session_admit(s, 0, "c");
    for (int i = 0; i < 100; i++) sig_session_send(s, "{\"type\":\"notify\"}");
    uint32_t n;
    sig_session_outbox(s, &n);
    assert_true(n <= 64);
    assert_closed(s, 1008, "too many");
    sig_session_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connect_admit_ping_pong),
        cmocka_unit_test(real_client_pong_with_stats),
        cmocka_unit_test(answers_and_candidates),
        cmocka_unit_test(redirect_then_client_closes_or_grace),
        cmocka_unit_test(reject_and_disconnect),
        cmocka_unit_test(node_close_after_queued_texts),
        cmocka_unit_test(bad_inputs_close),
        cmocka_unit_test(silent_socket_times_out),
        cmocka_unit_test(a_client_that_does_not_read_is_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

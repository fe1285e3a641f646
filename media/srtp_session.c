/* srtp_session.c - libsrtp2 contexts for one peer. */
#include "srtp_session.h"

#include <srtp2/srtp.h>
#include <stdlib.h>
#include <string.h>

struct srtp_session {
    srtp_t in, out;
};

bool srtp_session_library_init(void) {
    /* libsrtp2's own state is process-wide; initializing it twice fails. */
    static bool done;
    if (!done) done = srtp_init() == srtp_err_status_ok;
    return done;
}

static srtp_t make(const dtls_srtp_keys *k, const uint8_t *key, bool inbound) {
    srtp_policy_t p;
    memset(&p, 0, sizeof p);
    if (k->profile == SRTP_PROFILE_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
    }
    p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    p.key = (unsigned char *)key;
    p.window_size = 1024;
    p.allow_repeat_tx = 1; /* retransmissions for NACKs reuse a sequence number */
    srtp_t s = NULL;
    if (srtp_create(&s, &p) != srtp_err_status_ok) return NULL;
    return s;
}

srtp_session *srtp_session_new(const dtls_srtp_keys *k) {
    srtp_session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->in = make(k, k->remote, true);
    s->out = make(k, k->local, false);
    if (!s->in || !s->out) {
        srtp_session_free(s);
        return NULL;
    }
    return s;
}

void srtp_session_free(srtp_session *s) {
    if (!s) return;
    if (s->in) srtp_dealloc(s->in);
    if (s->out) srtp_dealloc(s->out);
    free(s);
}

int srtp_session_unprotect(srtp_session *s, uint8_t *pkt, size_t *len) {
    int n = (int)*len;
    int r = srtp_unprotect(s->in, pkt, &n);
    if (r == 0) *len = (size_t)n;
    return r;
}

int srtp_session_unprotect_rtcp(srtp_session *s, uint8_t *pkt, size_t *len) {
    int n = (int)*len;
    int r = srtp_unprotect_rtcp(s->in, pkt, &n);
    if (r == 0) *len = (size_t)n;
    return r;
}

int srtp_session_protect(srtp_session *s, uint8_t *pkt, size_t *len) {
    int n = (int)*len;
    int r = srtp_protect(s->out, pkt, &n);
    if (r == 0) *len = (size_t)n;
    return r;
}

int srtp_session_protect_rtcp(srtp_session *s, uint8_t *pkt, size_t *len) {
    int n = (int)*len;
    int r = srtp_protect_rtcp(s->out, pkt, &n);
    if (r == 0) *len = (size_t)n;
    return r;
}

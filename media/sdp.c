/* sdp.c - building the SFU's offer and reading a browser's answer. */
#include "sdp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *p;
    size_t cap, len;
    bool overflow;
} sbuf;

__attribute__((format(printf, 2, 3))) static void put(sbuf *b, const char *fmt, ...) {
    if (b->overflow) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len) {
        b->overflow = true;
        return;
    }
    b->len += (size_t)n;
}

static const char *dir_text(sdp_dir d) {
    switch (d) {
    case SDP_SENDONLY: return "sendonly";
    case SDP_RECVONLY: return "recvonly";
    case SDP_SENDRECV: return "sendrecv";
    default: return "inactive";
    }
}

static int video_pt(sdp_video_codec v) { return v == SDP_CODEC_H264 ? SDP_PT_H264 : SDP_PT_VP8; }

static void put_codecs(sbuf *b, sdp_kind k, sdp_video_codec v) {
    if (k == SDP_AUDIO) {
        put(b, "a=rtpmap:%d opus/48000/2\r\n", SDP_PT_OPUS);
        put(b, "a=fmtp:%d minptime=10;useinbandfec=1\r\n", SDP_PT_OPUS);
        return;
    }
    int pt = video_pt(v);
    if (v == SDP_CODEC_H264) {
        /* Constrained Baseline, packetization mode 1: what every browser encodes */
        put(b, "a=rtpmap:%d H264/90000\r\n", pt);
        put(b, "a=fmtp:%d level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n", pt);
    } else {
        put(b, "a=rtpmap:%d VP8/90000\r\n", pt);
    }
    put(b, "a=rtcp-fb:%d nack\r\n", pt);
    put(b, "a=rtcp-fb:%d nack pli\r\n", pt);
    put(b, "a=rtcp-fb:%d ccm fir\r\n", pt);
    put(b, "a=rtcp-fb:%d goog-remb\r\n", pt);
}

size_t sdp_offer_build(char *out, size_t cap, const sdp_offer *o) {
    sbuf b = {out, cap, 0, cap == 0};
    put(&b, "v=0\r\no=- %llu %llu IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", (unsigned long long)o->session_id,
        (unsigned long long)o->version);
    put(&b, "%sa=group:BUNDLE", o->answer ? "" : "a=ice-lite\r\n");
    for (int i = 0; i < o->n; i++) put(&b, " %d", i);
    put(&b, "\r\na=msid-semantic: WMS *\r\n");
    for (int i = 0; i < o->n; i++) {
        const sdp_offer_section *s = &o->s[i];
        int pt = s->kind == SDP_AUDIO ? SDP_PT_OPUS : video_pt(o->video);
        put(&b, "m=%s 9 UDP/TLS/RTP/SAVPF %d\r\n", s->kind == SDP_AUDIO ? "audio" : "video", pt);
        put(&b, "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n");
        put(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", o->ufrag, o->pwd);
        put(&b, "a=fingerprint:sha-256 %s\r\na=setup:%s\r\n", o->fingerprint, o->answer ? "active" : "actpass");
        put(&b, "a=mid:%d\r\n", i);
        put(&b, "a=%s\r\n", dir_text(s->dir));
        bool sends = s->dir == SDP_SENDONLY || s->dir == SDP_SENDRECV;
        if (sends) put(&b, "a=msid:%s %s\r\n", s->stream_id, s->track_id);
        put(&b, "a=rtcp-mux\r\n");
        if (s->kind == SDP_VIDEO) put(&b, "a=rtcp-rsize\r\n");
        put_codecs(&b, s->kind, o->video);
        if (sends) {
            put(&b, "a=ssrc:%u cname:%s\r\n", s->ssrc, o->cname);
            put(&b, "a=ssrc:%u msid:%s %s\r\n", s->ssrc, s->stream_id, s->track_id);
        }
        put(&b, "a=candidate:1 1 udp 2130706431 %s %u typ host\r\n", o->cand_ip, (unsigned)o->cand_port);
        put(&b, "a=end-of-candidates\r\n");
    }
    return b.overflow ? 0 : b.len;
}

/* ---- answer ------------------------------------------------------------- */

static int fail(const char **why, const char *w) {
    if (why) *why = w;
    return -1;
}

/* Copies a token of at most cap-1 bytes; false if it does not fit. */
static bool copy_tok(char *dst, size_t cap, const char *src, size_t n) {
    if (n == 0 || n >= cap) return false;
    memcpy(dst, src, n);
    dst[n] = 0;
    return true;
}

static bool starts(const char *line, size_t n, const char *prefix, size_t *plen) {
    size_t k = strlen(prefix);
    if (n < k || memcmp(line, prefix, k) != 0) return false;
    *plen = k;
    return true;
}

static size_t tok_len(const char *p, size_t n) {
    size_t i = 0;
    while (i < n && p[i] != ' ' && p[i] != '\t') i++;
    return i;
}

static bool parse_u32(const char *p, size_t n, uint32_t *v) {
    if (n == 0 || n > 10) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        x = x * 10 + (uint64_t)(p[i] - '0');
    }
    if (x > 0xFFFFFFFFu) return false;
    *v = (uint32_t)x;
    return true;
}

static int line_into(sdp_answer *a, sdp_answer_section *s, const char *l, size_t n, const char **why) {
    size_t k;
    if (starts(l, n, "m=", &k)) {
        if (a->n >= SDP_MAX_SECTIONS) return fail(why, "too many m= sections");
        s = &a->s[a->n++];
        memset(s, 0, sizeof *s);
        const char *p = l + k;
        size_t rest = n - k, t = tok_len(p, rest);
        if (t == 5 && memcmp(p, "audio", 5) == 0) s->kind = SDP_AUDIO;
        else if (t == 5 && memcmp(p, "video", 5) == 0) s->kind = SDP_VIDEO;
        else {
            s->rejected = true; /* application or other media: not ours */
            s->kind = SDP_AUDIO;
        }
        p += t, rest -= t;
        if (rest > 0) p++, rest--;
        t = tok_len(p, rest);
        uint32_t port = 0;
        if (!parse_u32(p, t, &port)) return fail(why, "bad m= port");
        if (port == 0) s->rejected = true;
        for (int field = 0; field < 2 && rest > t; field++) { /* skip port, proto */
            p += t + 1, rest -= t + 1;
            t = tok_len(p, rest);
        }
        uint32_t pt = 0;
        s->pt = parse_u32(p, t, &pt) && pt < 128 ? (int)pt : -1;
        s->dir = SDP_SENDRECV;
        return 0;
    }
    /* ICE and DTLS values are the same in every section under BUNDLE:
     * read from the session level or any section, the last one wins. */
    if (starts(l, n, "a=ice-ufrag:", &k)) {
        if (!copy_tok(a->ufrag, sizeof a->ufrag, l + k, n - k)) return fail(why, "bad ice-ufrag");
    } else if (starts(l, n, "a=ice-pwd:", &k)) {
        if (!copy_tok(a->pwd, sizeof a->pwd, l + k, n - k)) return fail(why, "bad ice-pwd");
    } else if (starts(l, n, "a=fingerprint:sha-256 ", &k)) {
        if (!copy_tok(a->fingerprint, sizeof a->fingerprint, l + k, n - k)) return fail(why, "bad fingerprint");
    } else if (starts(l, n, "a=setup:", &k)) {
        if (!copy_tok(a->setup, sizeof a->setup, l + k, n - k)) return fail(why, "bad setup");
    } else if (starts(l, n, "a=candidate:", &k)) {
        if (a->cand_ip[0]) return 0;
        /* foundation component transport priority address port typ ... */
        const char *p = l + k;
        size_t rest = n - k, t = 0;
        for (int field = 0; field < 4; field++) {
            t = tok_len(p, rest);
            if (t + 1 >= rest) return 0;
            p += t + 1, rest -= t + 1;
        }
        t = tok_len(p, rest);
        if (t >= sizeof a->cand_ip || t + 1 >= rest) return 0;
        memcpy(a->cand_ip, p, t);
        a->cand_ip[t] = 0;
        uint32_t port;
        if (parse_u32(p + t + 1, tok_len(p + t + 1, rest - t - 1), &port) && port > 0 && port < 65536)
            a->cand_port = (uint16_t)port;
        else
            a->cand_ip[0] = 0;
    } else if (s == NULL) {
        return 0;
    } else if (starts(l, n, "a=mid:", &k)) {
        if (!copy_tok(s->mid, sizeof s->mid, l + k, n - k)) return fail(why, "bad mid");
    } else if (n == 10 && memcmp(l, "a=sendonly", 10) == 0) {
        s->dir = SDP_SENDONLY;
    } else if (n == 10 && memcmp(l, "a=recvonly", 10) == 0) {
        s->dir = SDP_RECVONLY;
    } else if (n == 10 && memcmp(l, "a=inactive", 10) == 0) {
        s->dir = SDP_INACTIVE;
    } else if (n == 10 && memcmp(l, "a=sendrecv", 10) == 0) {
        s->dir = SDP_SENDRECV;
    } else if (starts(l, n, "a=msid:", &k)) {
        const char *p = l + k;
        size_t t = tok_len(p, n - k);
        if (!copy_tok(s->msid_stream, sizeof s->msid_stream, p, t)) return fail(why, "bad msid");
        if (t + 1 < n - k && !copy_tok(s->msid_track, sizeof s->msid_track, p + t + 1, n - k - t - 1))
            return fail(why, "bad msid track");
    } else if (starts(l, n, "a=rtpmap:", &k) && s->codec[0] == 0) {
        const char *p = l + k;
        size_t t = tok_len(p, n - k);
        uint32_t pt;
        if (parse_u32(p, t, &pt) && (int)pt == s->pt && t + 1 < n - k) {
            const char *name = p + t + 1;
            size_t nl = 0;
            while (nl < n - k - t - 1 && name[nl] != '/') nl++;
            copy_tok(s->codec, sizeof s->codec, name, nl);
        }
    } else if (starts(l, n, "a=ssrc:", &k) && s->ssrc == 0) {
        uint32_t v;
        if (!parse_u32(l + k, tok_len(l + k, n - k), &v)) return fail(why, "bad ssrc");
        s->ssrc = v;
    }
    return 0;
}

int sdp_parse(const char *text, size_t len, sdp_answer *a, const char **why) {
    memset(a, 0, sizeof *a);
    if (len < 5 || memcmp(text, "v=0", 3) != 0) return fail(why, "not an SDP (no v=0)");
    size_t at = 0;
    while (at < len) {
        size_t end = at;
        while (end < len && text[end] != '\n') end++;
        size_t n = end - at;
        if (n > 0 && text[at + n - 1] == '\r') n--;
        for (size_t i = 0; i < n; i++)
            if (text[at + i] == 0) return fail(why, "NUL in SDP");
        sdp_answer_section *cur = a->n > 0 ? &a->s[a->n - 1] : NULL;
        if (line_into(a, cur, text + at, n, why) != 0) return -1;
        at = end + 1;
    }
    return 0;
}

int sdp_answer_parse(const char *text, size_t len, sdp_answer *a, const char **why) {
    if (sdp_parse(text, len, a, why) != 0) return -1;
    if (a->ufrag[0] == 0 || a->pwd[0] == 0) return fail(why, "no ICE ufrag/pwd in the answer");
    if (strlen(a->ufrag) < 4 || strlen(a->pwd) < 22) return fail(why, "ICE ufrag/pwd too short");
    if (a->fingerprint[0] == 0) return fail(why, "no sha-256 fingerprint in the answer");
    if (strcmp(a->setup, "active") != 0) return fail(why, "setup must be active (the node is the DTLS server)");
    if (a->n == 0) return fail(why, "no m= section in the answer");
    return 0;
}

/* sfu.c - peers, rooms and forwarding (see sfu.h). */
#include "sfu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "srtp_session.h"
#include "vec.h"

#define ADDR_BUCKETS 4096
#define NAME_BUCKETS 16384 /* channels by id, peers by ICE ufrag */
#define NACK_SLOTS 128
#define NACK_PKT_MAX 1300
#define OUTBOX_MAX 8192
#define KEYFRAME_GAP_MS 300
#define RTCP_INTERVAL_MS 1000 /* receiver reports and REMB to each sender */
#define REMB_FRESH_MS 5000    /* a receiver's REMB counts this long */

typedef struct {
    uint16_t seq, len;
    bool used;
    uint8_t data[NACK_PKT_MAX];
} nack_slot;

typedef struct {
    bool present;
    uint32_t ssrc;
    char track_id[SDP_ID_MAX];
    int64_t last_pli_ms;
    nack_slot *nack; /* video only, made on its first packet */
    /* what the node received, for its receiver reports (RFC 3550 A.1, A.3) */
    bool seq_init;
    uint16_t max_seq;
    uint32_t cycles, base_seq, received, expected_prior, received_prior;
    uint32_t lsr;   /* middle 32 bits of the last SR's NTP time */
    int64_t lsr_ms; /* when it arrived */
} pub_track;

typedef struct {
    sfu_peer *src; /* NULL once the sender left (section inactive) */
    sdp_kind kind;
    uint32_t out_ssrc;
    bool need_key; /* video: no keyframe forwarded to this receiver yet */
    uint64_t remb; /* the receiver's last REMB for this stream, bits/s */
    int64_t remb_ms;
} fwd;

typedef struct room {
    char id[256];
    sdp_video_codec codec;
    sfu_peer *peers;
    struct room *next;
} room;

struct sfu_peer {
    sfu *s;
    void *user;
    room *room;
    sfu_peer *room_next, *all_next, *all_prev, *addr_next, *ufrag_next;
    char conn_id[SDP_ID_MAX];
    int role;
    bool want[2]; /* audio, video */
    char ufrag[9], pwd[25];
    char remote_fp[160]; /* as the answer wrote it */
    stun_addr addr;
    bool has_addr, answered, offer_outstanding, offer_dirty, ended;
    bool active; /* on s->active (it answered or passed a check): timers run for it */
    int64_t created_ms, answered_ms, last_check_ms, next_rtcp_ms;
    media_dtls *dtls;
    srtp_session *srtp;
    bool connected;
    sdp_offer_section *sec; /* grown as tracks come, up to SDP_MAX_SECTIONS */
    fwd *fw;                /* by section index; sections 0/1 are its own */
    int nsec;
    uint32_t capsec, capfw; /* of sec and fw */
    uint64_t version;
    char *offer;
    pub_track pub[2];
    uint32_t local_ssrc;
    uint64_t rng;
};

struct sfu {
    sfu_config cfg;
    media_dtls_ctx *dtls;
    sfu_peer *all;    /* peers that have not answered: nothing to time */
    sfu_peer *active; /* peers with ICE, DTLS or RTCP timers: sfu_tick walks only these */
    sfu_peer *by_addr[ADDR_BUCKETS];
    sfu_peer *by_ufrag[NAME_BUCKETS];
    room *rooms[NAME_BUCKETS];
    uint32_t npeers;
    sfu_dgram *out;
    uint32_t nout, capout;
    sfu_event *ev;
    uint32_t nev, capev;
    sfu_stats st;
    uint64_t session_id;
    int64_t now;
    int64_t deadline; /* the earliest timer of an active peer, or earlier (sfu_next_deadline) */
};

/* ---- small helpers ------------------------------------------------------ */


static uint32_t addr_hash(const stun_addr *a) { return stun_addr_hash(a) % ADDR_BUCKETS; }

static uint32_t name_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h % NAME_BUCKETS;
}


static void list_unlink(sfu *s, sfu_peer *p) {
    sfu_peer **head = p->active ? &s->active : &s->all;
    if (p->all_prev) p->all_prev->all_next = p->all_next;
    else *head = p->all_next;
    if (p->all_next) p->all_next->all_prev = p->all_prev;
    p->all_prev = p->all_next = NULL;
}

static void list_push(sfu *s, sfu_peer *p) {
    sfu_peer **head = p->active ? &s->active : &s->all;
    p->all_prev = NULL;
    p->all_next = *head;
    if (*head) (*head)->all_prev = p;
    *head = p;
}

/* The peer has timers from now on (a signaling-only session never does). */
static void make_active(sfu *s, sfu_peer *p) {
    if (p->active) return;
    list_unlink(s, p);
    p->active = true;
    list_push(s, p);
}

static void addr_unlink(sfu *s, sfu_peer *p) {
    if (!p->has_addr) return;
    sfu_peer **pp = &s->by_addr[addr_hash(&p->addr)];
    while (*pp && *pp != p) pp = &(*pp)->addr_next;
    if (*pp) *pp = p->addr_next;
    p->addr_next = NULL;
}

static void addr_set(sfu *s, sfu_peer *p, const stun_addr *a) {
    if (p->has_addr && stun_addr_eq(&p->addr, a)) return;
    addr_unlink(s, p);
    p->addr = *a;
    p->has_addr = true;
    make_active(s, p);
    uint32_t h = addr_hash(a);
    p->addr_next = s->by_addr[h];
    s->by_addr[h] = p;
}

static sfu_peer *peer_by_addr(sfu *s, const stun_addr *a) {
    for (sfu_peer *p = s->by_addr[addr_hash(a)]; p; p = p->addr_next)
        if (stun_addr_eq(&p->addr, a)) return p;
    return NULL;
}

/* When p's next timer is due: a DTLS retransmission, its RTCP, ICE consent
 * running out, the connect timeout. */
static int64_t peer_deadline(const sfu *s, sfu_peer *p) {
    int64_t d = INT64_MAX;
    if (p->ended) return d;
    if (p->dtls && p->has_addr && media_dtls_state(p->dtls) == DTLS_HANDSHAKING) {
        int64_t t = media_dtls_timeout_ms(p->dtls);
        if (t >= 0 && s->now + t < d) d = s->now + t;
    }
    if (p->connected && p->next_rtcp_ms < d) d = p->next_rtcp_ms;
    if (p->has_addr && p->last_check_ms + s->cfg.ice_timeout_ms + 1 < d) d = p->last_check_ms + s->cfg.ice_timeout_ms + 1;
    if (!p->connected && p->answered && p->answered_ms + s->cfg.connect_timeout_ms + 1 < d)
        d = p->answered_ms + s->cfg.connect_timeout_ms + 1;
    return d;
}

/* p's timers changed: the SFU's deadline may come sooner (sfu_tick
 * computes it again from every active peer). */
static void deadline_note(sfu *s, sfu_peer *p) {
    int64_t d = peer_deadline(s, p);
    if (d < s->deadline) s->deadline = d;
}

static void event(sfu *s, sfu_event_type t, sfu_peer *p, bool reoffer, const char *reason) {
    if (!array_grow(&s->ev, &s->capev, (size_t)s->nev + 1, sizeof *s->ev)) return;
    s->ev[s->nev++] = (sfu_event){.type = t, .peer = p, .user = p->user, .reoffer = reoffer, .reason = reason};
}

/* A slot in the outbox, NULL when it is full (the datagram is dropped, as
 * a full socket buffer would). */
static sfu_dgram *out_slot(sfu *s, const stun_addr *to) {
    if (s->nout >= OUTBOX_MAX || !array_grow(&s->out, &s->capout, (size_t)s->nout + 1, sizeof *s->out))
        return NULL;
    sfu_dgram *d = &s->out[s->nout++];
    d->to = *to;
    d->len = 0;
    return d;
}

static void flush_dtls(sfu *s, sfu_peer *p) {
    for (;;) {
        sfu_dgram *d = out_slot(s, &p->addr);
        if (!d) return;
        d->len = media_dtls_take(p->dtls, d->data, sizeof d->data);
        if (d->len == 0) {
            s->nout--;
            return;
        }
    }
}

/* ---- offers -------------------------------------------------------------- */

static void build_offer(sfu *s, sfu_peer *p) {
    sdp_offer o = {.session_id = s->session_id,
                   .version = ++p->version,
                   .ufrag = p->ufrag,
                   .pwd = p->pwd,
                   .fingerprint = media_dtls_ctx_fingerprint(s->dtls),
                   .cand_ip = s->cfg.cand_ip,
                   .cand_port = s->cfg.cand_port,
                   .cname = p->conn_id,
                   .s = p->sec,
                   .n = p->nsec,
                   .video = p->room->codec};
    size_t cap = 2048 + (size_t)p->nsec * 1024;
    char *text = malloc(cap);
    if (!text) return;
    if (sdp_offer_build(text, cap, &o) == 0) {
        free(text);
        return;
    }
    free(p->offer);
    p->offer = text;
}

/* Sends an offer now if none is waiting for its answer, else later. */
static void want_offer(sfu *s, sfu_peer *p) {
    if (p->ended) return;
    if (p->offer_outstanding || !p->answered) {
        p->offer_dirty = true;
        return;
    }
    build_offer(s, p);
    p->offer_outstanding = true;
    p->offer_dirty = false;
    event(s, SFU_EV_OFFER, p, true, NULL);
}

/* Memory per peer follows its sections: a signaling-only session costs ~1 KB. */
static bool grow_sections(sfu_peer *p, int need) {
    return array_grow(&p->sec, &p->capsec, (size_t)need, sizeof *p->sec) &&
           array_grow(&p->fw, &p->capfw, (size_t)need, sizeof *p->fw);
}

static void add_fwd(sfu_peer *to, sfu_peer *src, sdp_kind k) {
    if (!to->want[k]) return;                 /* it connected without this kind */
    if (to->nsec >= SDP_MAX_SECTIONS) return; /* the receiver's SDP is full: it does not get this track */
    if (!grow_sections(to, to->nsec + 1)) return;
    int i = to->nsec++;
    sdp_offer_section *sec = &to->sec[i];
    memset(sec, 0, sizeof *sec);
    sec->kind = k;
    sec->dir = SDP_SENDONLY;
    snprintf(sec->stream_id, sizeof sec->stream_id, "%s", src->conn_id);
    snprintf(sec->track_id, sizeof sec->track_id, "%s", src->pub[k].track_id);
    uint32_t ssrc;
    do ssrc = (uint32_t)xorshift64s(&to->rng);
    while (ssrc == 0);
    sec->ssrc = ssrc;
    to->fw[i] = (fwd){.src = src, .kind = k, .out_ssrc = ssrc, .need_key = k == SDP_VIDEO};
}

/* ---- peers --------------------------------------------------------------- */

static room *room_get(sfu *s, const char *id, int codec) {
    uint32_t h = name_hash(id, strlen(id));
    for (room *r = s->rooms[h]; r; r = r->next)
        if (strcmp(r->id, id) == 0) return r;
    room *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    snprintf(r->id, sizeof r->id, "%s", id);
    r->codec = codec == SDP_CODEC_H264 ? SDP_CODEC_H264 : SDP_CODEC_VP8;
    r->next = s->rooms[h];
    s->rooms[h] = r;
    return r;
}

static void room_drop_if_empty(sfu *s, room *r) {
    if (r->peers) return;
    room **pp = &s->rooms[name_hash(r->id, strlen(r->id))];
    while (*pp && *pp != r) pp = &(*pp)->next;
    if (*pp) *pp = r->next;
    free(r);
}

sfu *sfu_new(const sfu_config *cfg, media_dtls_ctx *dtls) {
    sfu *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cfg = *cfg;
    if (s->cfg.ice_timeout_ms <= 0) s->cfg.ice_timeout_ms = 30000;
    if (s->cfg.connect_timeout_ms <= 0) s->cfg.connect_timeout_ms = 30000;
    s->dtls = dtls;
    s->session_id = 1;
    s->deadline = INT64_MAX;
    return s;
}

static void peer_free(sfu_peer *p) {
    media_dtls_free(p->dtls);
    srtp_session_free(p->srtp);
    for (int k = 0; k < 2; k++) free(p->pub[k].nack);
    free(p->offer);
    free(p->sec);
    free(p->fw);
    free(p);
}

void sfu_free(sfu *s) {
    if (!s) return;
    while (s->all) sfu_peer_remove(s, s->all);
    while (s->active) sfu_peer_remove(s, s->active);
    free(s->out);
    free(s->ev);
    free(s);
}

sfu_peer *sfu_peer_add(sfu *s, int64_t now, const char *channel_id, const char *connection_id,
                       const sfu_peer_opts *opts, const uint8_t rnd[32], void *user, const char **why) {
    sfu_peer *p = calloc(1, sizeof *p);
    room *r = p ? room_get(s, channel_id, opts->video_codec) : NULL;
    if (!r) {
        free(p);
        *why = "MEDIA-NO-MEMORY";
        return NULL;
    }
    if (r->codec == SDP_CODEC_H264 && opts->video && !opts->h264_ok) {
        free(p);
        room_drop_if_empty(s, r);
        *why = "MEDIA-CODEC: this channel's video is H264, which the client's SDP does not offer";
        return NULL;
    }
    if (!grow_sections(p, 2)) {
        free(p->sec);
        free(p);
        room_drop_if_empty(s, r);
        *why = "MEDIA-NO-MEMORY";
        return NULL;
    }
    int role = opts->role;
    p->s = s;
    p->user = user;
    p->room = r;
    p->role = role;
    p->want[SDP_AUDIO] = opts->audio;
    p->want[SDP_VIDEO] = opts->video;
    p->created_ms = now;
    snprintf(p->conn_id, sizeof p->conn_id, "%s", connection_id);
    stun_ice_credentials(rnd, p->ufrag, p->pwd);
    memcpy(&p->rng, rnd, 8);
    p->rng ^= 0x9E3779B97F4A7C15ULL;
    if (p->rng == 0) p->rng = 1;
    p->local_ssrc = (uint32_t)xorshift64s(&p->rng) | 1;
    bool sends = role != 2;
    for (int k = 0; k < 2; k++) {
        p->sec[k] = (sdp_offer_section){.kind = (sdp_kind)k, .dir = sends && p->want[k] ? SDP_RECVONLY : SDP_INACTIVE};
        p->fw[k] = (fwd){0};
        snprintf(p->pub[k].track_id, sizeof p->pub[k].track_id, "%s-%s", connection_id, k ? "video" : "audio");
    }
    p->nsec = 2;
    for (sfu_peer *q = r->peers; q; q = q->room_next)
        for (int k = 0; k < 2; k++)
            if (q->pub[k].present) add_fwd(p, q, (sdp_kind)k);
    p->room_next = r->peers;
    r->peers = p;
    list_push(s, p);
    uint32_t uh = name_hash(p->ufrag, strlen(p->ufrag));
    p->ufrag_next = s->by_ufrag[uh];
    s->by_ufrag[uh] = p;
    s->npeers++;
    build_offer(s, p);
    p->offer_outstanding = true;
    event(s, SFU_EV_OFFER, p, false, NULL);
    return p;
}

int sfu_peer_answer(sfu *s, sfu_peer *p, int64_t now, const char *text, size_t len, const char **why) {
    sdp_answer *a = malloc(sizeof *a);
    if (!a) {
        *why = "out of memory";
        return -1;
    }
    if (sdp_answer_parse(text, len, a, why) != 0) {
        free(a);
        return -1;
    }
    if (!p->answered) {
        snprintf(p->remote_fp, sizeof p->remote_fp, "%s", a->fingerprint);
        p->dtls = media_dtls_new(s->dtls, true, p->remote_fp);
        if (!p->dtls) {
            free(a);
            *why = "out of memory";
            return -1;
        }
        /* What it sends: its sections 0 (audio) and 1 (video). */
        for (int k = 0; k < 2 && k < a->n && p->role != 2; k++) {
            if (!p->want[k]) continue;
            const sdp_answer_section *as = &a->s[k];
            if (as->rejected || as->ssrc == 0 || (int)as->kind != k) continue;
            if (as->dir != SDP_SENDONLY && as->dir != SDP_SENDRECV) continue;
            p->pub[k].present = true;
            p->pub[k].ssrc = as->ssrc;
            if (as->msid_track[0])
                snprintf(p->pub[k].track_id, sizeof p->pub[k].track_id, "%s", as->msid_track);
        }
        p->answered = true;
        p->answered_ms = now;
        make_active(s, p);
        s->now = now;
        deadline_note(s, p);
        for (sfu_peer *q = p->room->peers; q; q = q->room_next) {
            if (q == p) continue;
            bool added = false;
            for (int k = 0; k < 2; k++)
                if (p->pub[k].present) add_fwd(q, p, (sdp_kind)k), added = true;
            if (added) want_offer(s, q);
        }
    }
    free(a);
    p->offer_outstanding = false;
    if (p->offer_dirty) want_offer(s, p);
    /* New sections answered: their receivers need a keyframe. */
    for (int i = 2; i < p->nsec; i++)
        if (p->fw[i].src && p->fw[i].need_key) p->fw[i].src->pub[SDP_VIDEO].last_pli_ms = 0;
    return 0;
}

void sfu_peer_remove(sfu *s, sfu_peer *p) {
    room *r = p->room;
    for (sfu_peer **pp = &r->peers; *pp; pp = &(*pp)->room_next)
        if (*pp == p) {
            *pp = p->room_next;
            break;
        }
    list_unlink(s, p);
    for (sfu_peer **pp = &s->by_ufrag[name_hash(p->ufrag, strlen(p->ufrag))]; *pp; pp = &(*pp)->ufrag_next)
        if (*pp == p) {
            *pp = p->ufrag_next;
            break;
        }
    addr_unlink(s, p);
    /* Its tracks go inactive in every other peer's SDP. */
    for (sfu_peer *q = r->peers; q; q = q->room_next) {
        bool changed = false;
        for (int i = 2; i < q->nsec; i++)
            if (q->fw[i].src == p) {
                q->fw[i].src = NULL;
                q->sec[i].dir = SDP_INACTIVE;
                changed = true;
            }
        if (changed) want_offer(s, q);
    }
    /* Events already queued for it must not reach the adapter dangling. */
    uint32_t keep = 0;
    for (uint32_t i = 0; i < s->nev; i++)
        if (s->ev[i].peer != p) s->ev[keep++] = s->ev[i];
    s->nev = keep;
    s->npeers--;
    room_drop_if_empty(s, r);
    peer_free(p);
}

const char *sfu_peer_offer(const sfu_peer *p) { return p->offer ? p->offer : ""; }
void sfu_peer_offer_release(sfu_peer *p) {
    free(p->offer);
    p->offer = NULL;
}
const char *sfu_peer_connection_id(const sfu_peer *p) { return p->conn_id; }
bool sfu_peer_connected(const sfu_peer *p) { return p->connected; }

static void end_peer(sfu *s, sfu_peer *p, const char *reason) {
    if (p->ended) return;
    p->ended = true;
    event(s, SFU_EV_ENDED, p, false, reason);
}

/* ---- media --------------------------------------------------------------- */

/* Copies a packet into p's outbox slot and protects it with p's keys; RTP
 * gets the SSRC p knows the stream by. */
static bool queue_protected(sfu *s, sfu_peer *p, const uint8_t *pkt, size_t n, bool rtcp, uint32_t ssrc) {
    if (!p->srtp || !p->has_addr) return false;
    sfu_dgram *d = out_slot(s, &p->addr);
    if (!d) return false;
    if (n + SRTP_TRAILER_MAX + 4 > sizeof d->data) {
        s->nout--;
        return false;
    }
    memcpy(d->data, pkt, n);
    d->len = n;
    if (!rtcp) be32_put(d->data + 8, ssrc);
    if ((rtcp ? srtp_session_protect_rtcp(p->srtp, d->data, &d->len) : srtp_session_protect(p->srtp, d->data, &d->len)) != 0) {
        s->nout--;
        s->st.srtp_fail++;
        return false;
    }
    return true;
}

static void send_rtcp(sfu *s, sfu_peer *p, const uint8_t *pkt, size_t n) {
    if (queue_protected(s, p, pkt, n, true, 0)) s->st.rtcp_out++;
}

static void request_keyframe(sfu *s, sfu_peer *src) {
    pub_track *t = &src->pub[SDP_VIDEO];
    if (!t->present || !src->srtp || !src->has_addr) return;
    if (t->last_pli_ms && s->now - t->last_pli_ms < KEYFRAME_GAP_MS) return;
    t->last_pli_ms = s->now ? s->now : 1;
    uint8_t pkt[12];
    send_rtcp(s, src, pkt, rtcp_build_pli(pkt, src->local_ssrc, t->ssrc));
    s->st.plis++;
}

/* H.264 (RFC 6184): an IDR slice or an SPS, alone, in a STAP-A, or at the
 * start of an FU-A. Browsers send SPS and PPS right before each IDR. */
static bool h264_keyframe(const uint8_t *pl, size_t n) {
    if (n < 1) return false;
    uint8_t type = pl[0] & 0x1f;
    if (type == 5 || type == 7) return true;
    if (type == 28) return n >= 2 && (pl[1] & 0x80) && ((pl[1] & 0x1f) == 5 || (pl[1] & 0x1f) == 7);
    if (type == 24) {
        for (size_t at = 1; at + 3 <= n;) {
            size_t sz = be16_get(pl + at);
            uint8_t t = pl[at + 2] & 0x1f;
            if (t == 5 || t == 7) return true;
            at += 2 + sz;
        }
    }
    return false;
}

/* VP8 keyframe: start of a partition 0 with the P bit clear (RFC 7741 §4). */
static bool vp8_keyframe(const uint8_t *pl, size_t n) {
    if (n < 1) return false;
    size_t at = 1;
    bool start = (pl[0] & 0x10) != 0, part0 = (pl[0] & 0x07) == 0;
    if (pl[0] & 0x80) {
        if (n < 2) return false;
        uint8_t x = pl[1];
        at = 2;
        if (x & 0x80) at += (at < n && (pl[at] & 0x80)) ? 2 : 1;
        if (x & 0x40) at += 1;
        if (x & 0x30) at += 1;
    }
    return start && part0 && at < n && (pl[at] & 0x01) == 0;
}

static void send_to(sfu *s, sfu_peer *r, const uint8_t *pkt, size_t n, uint32_t ssrc) {
    if (!queue_protected(s, r, pkt, n, false, ssrc)) return;
    s->st.rtp_out++;
    s->st.bytes_out += s->out[s->nout - 1].len;
}

/* RFC 3550 A.1, without probation: the node forwards whatever arrives. */
static void count_seq(pub_track *t, uint16_t seq) {
    if (!t->seq_init) {
        t->seq_init = true;
        t->base_seq = seq;
        t->max_seq = seq;
        t->received = 1;
        return;
    }
    uint16_t delta = (uint16_t)(seq - t->max_seq);
    if (delta != 0 && delta < 0x8000) { /* ahead, maybe across a wrap */
        if (seq < t->max_seq) t->cycles += 65536;
        t->max_seq = seq;
    }
    t->received++;
}

static void report_block(const pub_track *t, int64_t now, rtcp_report_block *b, uint32_t *exp_prior,
                         uint32_t *rcv_prior) {
    uint32_t ext_max = t->cycles + t->max_seq;
    uint32_t expected = ext_max - t->base_seq + 1;
    uint32_t exp_int = expected - *exp_prior, rcv_int = t->received - *rcv_prior;
    *exp_prior = expected;
    *rcv_prior = t->received;
    int64_t lost_int = (int64_t)exp_int - (int64_t)rcv_int;
    *b = (rtcp_report_block){.ssrc = t->ssrc,
                             .fraction_lost = exp_int == 0 || lost_int <= 0 ? 0 : (uint8_t)((lost_int << 8) / exp_int),
                             .cumulative_lost = (int32_t)((int64_t)expected - (int64_t)t->received),
                             .highest_seq = ext_max,
                             .lsr = t->lsr,
                             .dlsr = t->lsr_ms ? (uint32_t)((now - t->lsr_ms) * 65536 / 1000) : 0};
}

/* Every second to each sender: a receiver report of what reached the node
 * (its senders' loss-based control reads it) and, for video, a REMB with
 * the lowest estimate its receivers reported (REMB_FRESH_MS old at most). */
static void sender_reports(sfu *s, sfu_peer *p) {
    uint8_t pkt[256];
    rtcp_report_block blocks[2];
    int nb = 0;
    for (int k = 0; k < 2; k++) {
        pub_track *t = &p->pub[k];
        if (t->present && t->seq_init) report_block(t, s->now, &blocks[nb++], &t->expected_prior, &t->received_prior);
    }
    if (nb == 0) return;
    size_t n = rtcp_build_rr(pkt, p->local_ssrc, blocks, nb);
    uint64_t low = 0;
    for (sfu_peer *r = p->room->peers; r; r = r->room_next)
        for (int i = 2; i < r->nsec; i++) {
            const fwd *f = &r->fw[i];
            if (f->src == p && f->kind == SDP_VIDEO && f->remb_ms && s->now - f->remb_ms <= REMB_FRESH_MS &&
                (low == 0 || f->remb < low))
                low = f->remb;
        }
    if (low > 0 && p->pub[SDP_VIDEO].present) n += rtcp_build_remb(pkt + n, p->local_ssrc, low, &p->pub[SDP_VIDEO].ssrc, 1);
    send_rtcp(s, p, pkt, n);
}

static void on_rtp(sfu *s, sfu_peer *p, uint8_t *b, size_t n) {
    if (!p->srtp || srtp_session_unprotect(p->srtp, b, &n) != 0) {
        s->st.srtp_fail++;
        return;
    }
    rtp_header h;
    if (!rtp_parse(b, n, &h)) return;
    int k = -1;
    for (int i = 0; i < 2; i++)
        if (p->pub[i].present && p->pub[i].ssrc == h.ssrc) k = i;
    if (k < 0) return; /* RTX or probing on an SSRC it did not announce */
    pub_track *t = &p->pub[k];
    count_seq(t, h.seq);
    if (k == SDP_VIDEO && n <= NACK_PKT_MAX) {
        if (!t->nack) t->nack = calloc(NACK_SLOTS, sizeof *t->nack);
        if (t->nack) {
            nack_slot *sl = &t->nack[h.seq % NACK_SLOTS];
            sl->seq = h.seq;
            sl->len = (uint16_t)n;
            sl->used = true;
            memcpy(sl->data, b, n);
        }
    }
    bool key = k == SDP_VIDEO && (p->room->codec == SDP_CODEC_H264 ? h264_keyframe(b + h.header_len, h.payload_len)
                                                                  : vp8_keyframe(b + h.header_len, h.payload_len));
    bool want_key = false;
    for (sfu_peer *r = p->room->peers; r; r = r->room_next) {
        if (r == p || !r->srtp || !r->has_addr) continue;
        for (int i = 2; i < r->nsec; i++) {
            fwd *f = &r->fw[i];
            if (f->src != p || f->kind != (sdp_kind)k) continue;
            if (f->need_key) {
                if (key) f->need_key = false;
                else want_key = true;
            }
            send_to(s, r, b, n, f->out_ssrc);
            break;
        }
    }
    if (want_key) request_keyframe(s, p);
}

typedef struct {
    sfu *s;
    sfu_peer *r;
} fb_ctx;

/* A sender's SR goes to each of its receivers under the SSRC that receiver
 * knows (they sync audio and video with it). */
static void forward_sr(sfu *s, sfu_peer *p, const rtcp_fb *sr) {
    int k = -1;
    for (int i = 0; i < 2; i++)
        if (p->pub[i].present && p->pub[i].ssrc == sr->media_ssrc) k = i;
    if (k < 0) return;
    p->pub[k].lsr = sr->ntp_hi << 16 | sr->ntp_lo >> 16;
    p->pub[k].lsr_ms = s->now ? s->now : 1;
    uint8_t pkt[28];
    for (sfu_peer *r = p->room->peers; r; r = r->room_next) {
        if (r == p) continue;
        for (int i = 2; i < r->nsec; i++)
            if (r->fw[i].src == p && r->fw[i].kind == (sdp_kind)k) {
                send_rtcp(s, r, pkt, rtcp_build_sr(pkt, r->fw[i].out_ssrc, sr));
                break;
            }
    }
}

static void on_feedback(void *ctx, const rtcp_fb *fb) {
    fb_ctx *c = ctx;
    sfu_peer *r = c->r;
    if (fb->kind == RTCP_SR) {
        forward_sr(c->s, r, fb);
        return;
    }
    if (fb->kind == RTCP_FB_REMB) {
        for (int j = 0; j < fb->nssrcs; j++)
            for (int i = 2; i < r->nsec; i++)
                if (r->fw[i].out_ssrc == fb->ssrcs[j] && r->fw[i].src) {
                    r->fw[i].remb = fb->bitrate;
                    r->fw[i].remb_ms = c->s->now ? c->s->now : 1;
                }
        return;
    }
    for (int i = 2; i < r->nsec; i++) {
        fwd *f = &r->fw[i];
        if (f->out_ssrc != fb->media_ssrc || !f->src) continue;
        if (fb->kind == RTCP_FB_NACK) {
            pub_track *t = &f->src->pub[f->kind];
            uint16_t seqs[17];
            int n = rtcp_nack_seqs(fb, seqs);
            c->s->st.nacks++;
            bool missing = false;
            for (int j = 0; j < n; j++) {
                nack_slot *sl = t->nack ? &t->nack[seqs[j] % NACK_SLOTS] : NULL;
                if (!sl || !sl->used || sl->seq != seqs[j]) {
                    missing = true; /* lost before the node: the sender must resend */
                    continue;
                }
                send_to(c->s, r, sl->data, sl->len, f->out_ssrc);
                c->s->st.retransmits++;
            }
            if (missing) { /* the same NACK, about the sender's own SSRC */
                uint8_t pkt[16] = {0x81, 205, 0, 3};
                be32_put(pkt + 4, f->src->local_ssrc);
                be32_put(pkt + 8, t->ssrc);
                be16_put(pkt + 12, fb->pid);
                be16_put(pkt + 14, fb->blp);
                send_rtcp(c->s, f->src, pkt, sizeof pkt);
            }
        } else if (f->kind == SDP_VIDEO) {
            request_keyframe(c->s, f->src);
        }
        return;
    }
}

static void on_rtcp(sfu *s, sfu_peer *p, uint8_t *b, size_t n) {
    if (!p->srtp || srtp_session_unprotect_rtcp(p->srtp, b, &n) != 0) {
        s->st.srtp_fail++;
        return;
    }
    s->st.rtcp_in++;
    fb_ctx c = {s, p};
    rtcp_each_feedback(b, n, on_feedback, &c);
}

static void on_stun(sfu *s, const stun_addr *from, const uint8_t *b, size_t n) {
    stun_msg m;
    s->st.stun_in++;
    if (stun_decode(b, n, &m, NULL) != 0 || m.type != STUN_BINDING_REQUEST || !m.username) {
        s->st.stun_bad++;
        return; /* responses and indications: an ICE-lite agent sends no requests */
    }
    size_t ul = 0;
    while (ul < m.username_len && m.username[ul] != ':') ul++;
    sfu_peer *p = NULL;
    for (sfu_peer *q = s->by_ufrag[name_hash((const char *)m.username, ul)]; q; q = q->ufrag_next)
        if (ul == strlen(q->ufrag) && memcmp(q->ufrag, m.username, ul) == 0) {
            p = q;
            break;
        }
    sfu_dgram *d = out_slot(s, from);
    if (!d) return;
    if (!p || p->ended || !stun_integrity_ok(b, n, &m, p->pwd, strlen(p->pwd))) {
        s->st.stun_bad++;
        d->len = stun_binding_error(d->data, sizeof d->data, m.txid, 401, "Unauthorized");
        if (d->len == 0) s->nout--;
        return;
    }
    d->len = stun_binding_success(d->data, sizeof d->data, m.txid, from, p->pwd, strlen(p->pwd));
    if (d->len == 0) s->nout--;
    p->last_check_ms = s->now;
    /* ICE-lite: the controlling agent's nomination picks the address; until
     * one comes, the first address that passed a check is used. */
    if (m.use_candidate || !p->has_addr) addr_set(s, p, from);
    deadline_note(s, p);
}

static void on_dtls(sfu *s, sfu_peer *p, const uint8_t *b, size_t n) {
    if (!p->dtls) return; /* before the answer: the client retransmits */
    media_dtls_recv(p->dtls, b, n);
    flush_dtls(s, p);
    dtls_state st = media_dtls_state(p->dtls);
    if (st == DTLS_CONNECTED && !p->srtp) {
        dtls_srtp_keys k;
        if (!media_dtls_keys(p->dtls, &k) || !(p->srtp = srtp_session_new(&k))) {
            s->st.dtls_fail++;
            end_peer(s, p, "MEDIA-DTLS-FAILED");
            return;
        }
        p->connected = true;
        event(s, SFU_EV_CONNECTED, p, false, NULL);
        for (int i = 2; i < p->nsec; i++)
            if (p->fw[i].src && p->fw[i].kind == SDP_VIDEO) request_keyframe(s, p->fw[i].src);
    } else if (st == DTLS_FAILED) {
        s->st.dtls_fail++;
        end_peer(s, p, "MEDIA-DTLS-FAILED");
    } else if (st == DTLS_CLOSED) {
        end_peer(s, p, "MEDIA-DTLS-CLOSED");
    }
    deadline_note(s, p); /* a retransmission timer, or its first RTCP */
}

void sfu_recv(sfu *s, int64_t now, const stun_addr *from, uint8_t *b, size_t n) {
    s->now = now;
    s->st.bytes_in += n;
    pkt_kind k = pkt_classify(b, n);
    if (k == PKT_STUN) {
        on_stun(s, from, b, n);
        return;
    }
    sfu_peer *p = peer_by_addr(s, from);
    if (!p || p->ended) {
        s->st.dropped_unknown++;
        return;
    }
    if (k == PKT_DTLS) on_dtls(s, p, b, n);
    else if (k == PKT_RTP) s->st.rtp_in++, on_rtp(s, p, b, n);
    else if (k == PKT_RTCP) on_rtcp(s, p, b, n);
}

void sfu_tick(sfu *s, int64_t now) {
    s->now = now;
    s->deadline = INT64_MAX;
    for (sfu_peer *p = s->active; p; p = p->all_next) {
        if (p->ended) continue;
        if (p->dtls && p->has_addr && media_dtls_state(p->dtls) == DTLS_HANDSHAKING &&
            media_dtls_timeout_ms(p->dtls) == 0) {
            media_dtls_kick(p->dtls);
            flush_dtls(s, p);
        }
        if (p->connected && now >= p->next_rtcp_ms) {
            p->next_rtcp_ms = now + RTCP_INTERVAL_MS;
            sender_reports(s, p);
        }
        if (p->has_addr && now - p->last_check_ms > s->cfg.ice_timeout_ms) end_peer(s, p, "MEDIA-ICE-TIMEOUT");
        else if (!p->connected && p->answered && now - p->answered_ms > s->cfg.connect_timeout_ms)
            end_peer(s, p, "MEDIA-CONNECT-TIMEOUT");
        deadline_note(s, p);
    }
}

int64_t sfu_next_deadline(const sfu *s) { return s->deadline; }

sfu_dgram *sfu_outbox(sfu *s, uint32_t *n) {
    *n = s->nout;
    return s->out;
}
void sfu_outbox_clear(sfu *s) { s->nout = 0; }
const sfu_event *sfu_events(const sfu *s, uint32_t *n) {
    *n = s->nev;
    return s->ev;
}
void sfu_events_clear(sfu *s) { s->nev = 0; }
const sfu_stats *sfu_get_stats(const sfu *s) { return &s->st; }
uint32_t sfu_peer_count(const sfu *s) { return s->npeers; }

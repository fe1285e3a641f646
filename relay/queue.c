/* queue.c - a relay connection's send queues and drop policy (see .h). */
#include "queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

typedef struct relay_q_stream {
    char key[9];                /* key_id in hex: the index's key */
    bool skipping;              /* video: dropped until the next keyframe */
    uint32_t skip_ts;           /* skipping: the RTP timestamp of the frame being skipped */
    bool discontinuity;         /* the stream's next written packet says so */
} relay_q_stream;

#define FLAGS_AT (RELAY_LEN_BYTES + 1) /* the flags byte of an encoded frame */

static uint32_t key_id(relay_q_key k) { return ((uint32_t)k.channel << 16 | k.sender) * 2u + (uint32_t)k.track; }

static relay_q_class class_of(const relay_frame *f) {
    if (f->kind != RELAY_RTP) return RELAY_Q_CONTROL; /* control, keepalive, RTCP */
    return f->track == RELAY_VIDEO ? RELAY_Q_VIDEO : RELAY_Q_AUDIO;
}

static const char *stream_key(const void *item) { return ((const relay_q_stream *)item)->key; }

/* The state of k's stream; added when add (NULL past RELAY_Q_STREAMS_MAX or
 * out of memory). Valid until the next add. */
static relay_q_stream *stream_find(relay_queue *q, relay_q_key k, bool add) {
    relay_q_stream s = {0};
    snprintf(s.key, sizeof s.key, "%08x", key_id(k));
    int64_t i = keyed_find(&q->streams, s.key);
    if (i < 0 && add && q->streams.n < RELAY_Q_STREAMS_MAX) i = keyed_add(&q->streams, &s);
    return i < 0 ? NULL : keyed_at(&q->streams, (uint32_t)i);
}

/* ---- the class FIFOs ---- */

static relay_q_entry *head_of(relay_queue *q, int c) { return q->cls[c].n ? &q->cls[c].items[q->cls[c].head] : NULL; }

static void pop(relay_queue *q, int c) {
    relay_q_entry *e = head_of(q, c);
    q->cls[c].bytes -= e->len;
    q->cls[c].head++;
    if (--q->cls[c].n == 0) q->cls[c].head = 0;
}

static void drop_head(relay_queue *q, int c) {
    free(head_of(q, c)->bytes);
    q->st.dropped[c]++;
    pop(q, c);
}

static bool append(relay_queue *q, int c, const relay_q_entry *e) {
    relay_q_fifo *k = &q->cls[c];
    if (k->head + k->n == k->cap) {
        if (k->head > 0) { /* slide the live part to the front before growing */
            memmove(k->items, k->items + k->head, k->n * sizeof *k->items);
            k->head = 0;
        } else if (!array_grow(&k->items, &k->cap, (size_t)k->n + 1, sizeof *k->items)) {
            return false;
        }
    }
    k->items[k->head + k->n++] = *e;
    k->bytes += e->len;
    return true;
}

static bool empty(const relay_queue *q) {
    return q->writing.bytes == NULL && q->cls[0].n == 0 && q->cls[1].n == 0 && q->cls[2].n == 0;
}

static void want_keyframe(relay_queue *q, relay_q_key k) {
    for (uint32_t i = 0; i < q->nkf; i++)
        if (key_id(q->kf[i]) == key_id(k)) return;
    if (!array_grow(&q->kf, &q->capkf, (size_t)q->nkf + 1, sizeof *q->kf)) return;
    q->kf[q->nkf++] = k;
    q->st.keyframe_requests++;
}

/* The video class is over its bound: every queued video packet goes, each
 * of its streams waits for a keyframe. */
static void drop_video(relay_queue *q) {
    relay_q_key last = {0};
    uint32_t last_ts = 0;
    bool any = false;
    while (q->cls[RELAY_Q_VIDEO].n) {
        relay_q_entry *e = head_of(q, RELAY_Q_VIDEO);
        relay_q_stream *s = stream_find(q, e->key, false);
        if (s && !s->skipping) {
            s->skipping = true;
            s->skip_ts = e->ts;
            want_keyframe(q, e->key);
        }
        if (!any || key_id(e->key) != key_id(last) || e->ts != last_ts) q->st.frames_dropped++;
        any = true, last = e->key, last_ts = e->ts;
        drop_head(q, RELAY_Q_VIDEO);
    }
}

void relay_queue_init(relay_queue *q, int64_t now) {
    memset(q, 0, sizeof *q);
    keyed_init(&q->streams, sizeof(relay_q_stream), stream_key);
    q->moved_ms = now;
}

void relay_queue_free(relay_queue *q) {
    for (int c = 0; c < RELAY_Q_CLASSES; c++) {
        while (q->cls[c].n) {
            free(head_of(q, c)->bytes);
            pop(q, c);
        }
        free(q->cls[c].items);
    }
    free(q->writing.bytes);
    keyed_free(&q->streams);
    free(q->kf);
    memset(q, 0, sizeof *q);
}

relay_q_result relay_queue_push(relay_queue *q, int64_t now, const relay_frame *f) {
    int c = class_of(f);
    size_t len = RELAY_LEN_BYTES + RELAY_HDR_LEN + (size_t)f->body_len;
    if (c == RELAY_Q_CONTROL && q->cls[c].bytes + len > RELAY_Q_CONTROL_BYTES) return RELAY_Q_RESET;
    relay_q_entry e = {.key = {f->channel, f->sender, f->track}, .enq_ms = now, .len = (uint32_t)len};
    relay_q_stream *s = NULL;
    if (c != RELAY_Q_CONTROL) {
        s = stream_find(q, e.key, true);
        if (!s) return RELAY_Q_RESET; /* more streams than a connection keeps: a peer gone wrong */
        e.ts = (uint32_t)f->body[4] << 24 | (uint32_t)f->body[5] << 16 | (uint32_t)f->body[6] << 8 | f->body[7];
    }
    if (c == RELAY_Q_VIDEO) {
        relay_q_entry *old = head_of(q, c);
        if (old && (now - old->enq_ms >= RELAY_Q_VIDEO_MS || q->cls[c].bytes + len > RELAY_Q_VIDEO_BYTES))
            drop_video(q);
        if (s->skipping) {
            if (!(f->flags & RELAY_F_KEYFRAME)) {
                if (e.ts != s->skip_ts) q->st.frames_dropped++; /* another frame skipped whole */
                s->skip_ts = e.ts;
                q->st.dropped[c]++;
                return RELAY_Q_DROPPED;
            }
            s->skipping = false;
            s->discontinuity = true; /* the keyframe says what was skipped */
        }
    } else if (c == RELAY_Q_AUDIO) {
        while (q->cls[c].n && q->cls[c].bytes + len > RELAY_Q_AUDIO_BYTES) {
            relay_q_stream *o = stream_find(q, head_of(q, c)->key, false);
            if (o) o->discontinuity = true;
            drop_head(q, c);
        }
    }
    e.bytes = malloc(len);
    if (!e.bytes || relay_frame_encode(f, e.bytes, len) != len) {
        free(e.bytes);
        return RELAY_Q_RESET;
    }
    bool was_empty = empty(q);
    if (!append(q, c, &e)) {
        free(e.bytes);
        return RELAY_Q_RESET;
    }
    if (was_empty) q->moved_ms = now; /* blocked is counted from here */
    q->st.queued[c]++;
    return RELAY_Q_QUEUED;
}

const uint8_t *relay_queue_next(relay_queue *q, int64_t now, size_t *len) {
    if (!q->writing.bytes) {
        /* audio that waited too long is worth less than silence */
        relay_q_entry *a;
        while ((a = head_of(q, RELAY_Q_AUDIO)) && now - a->enq_ms >= RELAY_Q_AUDIO_MS) {
            relay_q_stream *s = stream_find(q, a->key, false);
            if (s) s->discontinuity = true;
            drop_head(q, RELAY_Q_AUDIO);
        }
        int c = 0;
        while (c < RELAY_Q_CLASSES && q->cls[c].n == 0) c++;
        if (c == RELAY_Q_CLASSES) {
            *len = 0;
            return NULL;
        }
        q->writing = *head_of(q, c);
        pop(q, c);
        q->written = 0;
        if (c != RELAY_Q_CONTROL) {
            relay_q_stream *s = stream_find(q, q->writing.key, false);
            if (s && s->discontinuity) {
                q->writing.bytes[FLAGS_AT] |= RELAY_F_DISCONTINUITY;
                s->discontinuity = false;
            }
        }
    }
    *len = q->writing.len - q->written;
    return q->writing.bytes + q->written;
}

void relay_queue_wrote(relay_queue *q, int64_t now, size_t n) {
    if (!q->writing.bytes || n == 0) return;
    if (n > q->writing.len - q->written) n = q->writing.len - q->written;
    q->written += (uint32_t)n;
    q->st.bytes_written += n;
    q->moved_ms = now;
    if (q->written == q->writing.len) {
        free(q->writing.bytes);
        q->writing.bytes = NULL;
    }
}

relay_q_result relay_queue_check(const relay_queue *q, int64_t now) {
    return !empty(q) && now - q->moved_ms >= RELAY_Q_BLOCKED_MS ? RELAY_Q_RESET : RELAY_Q_QUEUED;
}

uint32_t relay_queue_take_keyframe_requests(relay_queue *q, relay_q_key *out, uint32_t max) {
    uint32_t n = q->nkf < max ? q->nkf : max;
    memcpy(out, q->kf, n * sizeof *out);
    memmove(q->kf, q->kf + n, (q->nkf - n) * sizeof *q->kf);
    q->nkf -= n;
    return n;
}

size_t relay_queue_bytes(const relay_queue *q) {
    size_t b = q->writing.bytes ? q->writing.len - q->written : 0;
    for (int c = 0; c < RELAY_Q_CLASSES; c++) b += q->cls[c].bytes;
    return b;
}

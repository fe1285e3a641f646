/* signaling_media.c - the WebSocket side of a client's media (see
 * signaling.h): its peer joined after admission, the offer and re-offers
 * sent on its session, answers handed to the media plane, and the session
 * closed when its media ends (ICE timeout, DTLS failure). The media plane
 * (media_io) knows peers only; its events reach this file through
 * shoald.c's dispatch. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "media_io.h"
#include "node_ctx.h"
#include "signaling.h"

static char *offer_message(const sig_conn *c, sfu_peer *p, bool reoffer) {
    json_t *o;
    if (reoffer) {
        o = json_pack("{s:s, s:s}", "type", "re-offer", "sdp", sfu_peer_offer(p));
    } else {
        const sig_connect *cn = sig_session_connect(c->s);
        const char *client_id = cn->client_id[0] ? cn->client_id : c->connection_id;
        o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b}", "type", "offer", "sdp", sfu_peer_offer(p),
                      "client_id", client_id, "connection_id", c->connection_id, "channel_id", cn->channel_id,
                      "simulcast", 0, "spotlight", 0);
        /* The SDK puts its camera and microphone on these transceivers. */
        if (o && cn->role != SIG_RECVONLY) json_object_set_new(o, "mid", json_pack("{s:s, s:s}", "audio", "0", "video", "1"));
    }
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return t;
}

void sig_media_join(signaling *sg, sig_conn *c) {
    const sig_connect *cn = sig_session_connect(c->s);
    sfu_peer_opts o = {.role = (int)cn->role,
                       .audio = cn->audio,
                       .video = cn->video,
                       .video_codec = strcmp(cn->video_codec, "H264") == 0  ? SDP_CODEC_H264
                                      : strcmp(cn->video_codec, "VP8") == 0 ? SDP_CODEC_VP8
                                                                            : -1,
                       /* sora-js-sdk's connect carries the browser's own offer: its codecs */
                       .h264_ok = cn->sdp != NULL && strstr(cn->sdp, "H264/90000") != NULL};
    uint16_t code = 1011;
    const char *why = "MEDIA-FAILED";
    if (media_io_join(sg->media, cn->channel_id, c->connection_id, &o, c, &c->peer, &code, &why) != 0)
        sig_session_close(c->s, code, why);
}

void sig_media_answer(signaling *sg, sig_conn *c) {
    bool re = false;
    char *sdp = sig_session_answer_take(c->s, &re);
    if (!sdp) return;
    const char *why = NULL;
    /* not admitted (or its media ended): nothing to answer */
    if (c->peer && media_io_answer(sg->media, c->peer, sdp, &why) != 0) {
        char reason[120];
        snprintf(reason, sizeof reason, "MEDIA-BAD-ANSWER %s", why);
        sig_session_close(c->s, 1008, reason);
    }
    free(sdp);
}

void sig_media_leave(signaling *sg, sig_conn *c) {
    if (!c->peer) return;
    sfu_peer *p = c->peer;
    c->peer = NULL;
    media_io_leave(sg->media, p);
}

void signaling_on_media(signaling *sg, const sfu_event *e) {
    sig_conn *c = e->user;
    if (e->peer != c->peer) return; /* it left while these were handled */
    if (e->type == SFU_EV_OFFER) {
        char *t = offer_message(c, e->peer, e->reoffer);
        if (t) sig_session_send(c->s, t);
        free(t);
        sfu_peer_offer_release(e->peer);
        sig_conn_kick(c);
    } else if (e->type == SFU_EV_CONNECTED) {
        shoal_log_event(&sg->node->log, "media_connected", json_pack("{s:s}", "connection_id", c->connection_id));
    } else if (e->type == SFU_EV_ENDED) {
        shoal_log_event(&sg->node->log, "media_ended",
                        json_pack("{s:s, s:s}", "connection_id", c->connection_id, "reason", e->reason));
        /* 1011: the server cannot go on with this client's media */
        sig_session_close(c->s, 1011, e->reason);
        sig_conn_pump(c);
    }
}

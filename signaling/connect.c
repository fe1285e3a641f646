/* connect.c - decoding and validating `connect` (see connect.h). */
#include "connect.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fail(sig_error *err, uint16_t code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    err->close_code = code;
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
    return false;
}

const char *sig_role_name(sig_role r) {
    return r == SIG_SENDRECV ? "sendrecv" : r == SIG_SENDONLY ? "sendonly" : "recvonly";
}

static bool valid_channel_id(const char *s, size_t n) {
    if (n == 0 || n > SIG_CHANNEL_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) return false;
    return true;
}

/* An optional string field: absent is fine; present must be a string of at
 * most max bytes (cut when cut is true, refused otherwise). */
static bool opt_string(json_t *o, const char *key, char *dst, size_t cap, bool cut, sig_error *err) {
    json_t *v = json_object_get(o, key);
    dst[0] = '\0';
    if (v == NULL || json_is_null(v)) return true;
    if (!json_is_string(v)) return fail(err, 1008, "connect: %s must be a string", key);
    size_t n = json_string_length(v);
    if (n >= cap && !cut) return fail(err, 1008, "connect: %s is longer than %zu bytes", key, cap - 1);
    snprintf(dst, cap, "%s", json_string_value(v));
    return true;
}

/* An optional flag: absent gives def; a boolean; an object (options) is true. */
static bool opt_flag(json_t *o, const char *key, bool def, bool allow_object, bool *dst, sig_error *err) {
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v)) *dst = def;
    else if (json_is_boolean(v)) *dst = json_is_true(v);
    else if (allow_object && json_is_object(v)) *dst = true;
    else return fail(err, 1008, "connect: %s must be true or false%s", key, allow_object ? " or an object" : "");
    return true;
}

static bool fields(json_t *o, sig_connect *c, sig_error *err) {
    json_t *type = json_object_get(o, "type");
    if (!json_is_string(type)) return fail(err, 1008, "connect: type is missing");
    if (strcmp(json_string_value(type), "connect") != 0)
        return fail(err, 1008, "the first message must be connect, not %.64s", json_string_value(type));
    json_t *role = json_object_get(o, "role");
    const char *r = json_is_string(role) ? json_string_value(role) : "";
    if (strcmp(r, "sendrecv") == 0) c->role = SIG_SENDRECV;
    else if (strcmp(r, "sendonly") == 0) c->role = SIG_SENDONLY;
    else if (strcmp(r, "recvonly") == 0) c->role = SIG_RECVONLY;
    else return fail(err, 1008, "connect: role must be sendrecv, sendonly or recvonly");
    json_t *ch = json_object_get(o, "channel_id");
    if (!json_is_string(ch)) return fail(err, 1008, "connect: channel_id (a string) is required");
    if (!valid_channel_id(json_string_value(ch), json_string_length(ch)))
        return fail(err, 1008, "connect: channel_id must be 1 to 255 printable ASCII characters without space");
    memcpy(c->channel_id, json_string_value(ch), json_string_length(ch) + 1);
    if (!opt_string(o, "client_id", c->client_id, sizeof c->client_id, false, err) ||
        !opt_string(o, "sora_client", c->sora_client, sizeof c->sora_client, true, err) ||
        !opt_string(o, "environment", c->environment, sizeof c->environment, true, err) ||
        !opt_flag(o, "redirect", false, false, &c->redirect, err) ||
        !opt_flag(o, "audio", true, true, &c->audio, err) || !opt_flag(o, "video", true, true, &c->video, err) ||
        !opt_flag(o, "multistream", true, false, &c->multistream, err))
        return false;
    json_t *video = json_object_get(o, "video");
    if (json_is_object(video) && !opt_string(video, "codec_type", c->video_codec, sizeof c->video_codec, false, err))
        return fail(err, 1008, "connect: video.codec_type must be VP8 or H264");
    if (c->video_codec[0] && strcmp(c->video_codec, "VP8") != 0 && strcmp(c->video_codec, "H264") != 0)
        return fail(err, 1008, "connect: video.codec_type %s is not served here (VP8, H264)", c->video_codec);
    json_t *sdp = json_object_get(o, "sdp");
    if (sdp != NULL && !json_is_null(sdp)) {
        if (!json_is_string(sdp)) return fail(err, 1008, "connect: sdp must be a string");
        if ((c->sdp = strdup(json_string_value(sdp))) == NULL) return fail(err, 1011, "out of memory");
    }
    json_t *md = json_object_get(o, "metadata");
    if (md != NULL && !json_is_null(md)) {
        c->metadata = json_dumps(md, JSON_COMPACT | JSON_ENCODE_ANY);
        if (c->metadata == NULL) return fail(err, 1011, "out of memory");
        if (strlen(c->metadata) > SIG_METADATA_MAX)
            return fail(err, 1008, "connect: metadata is larger than %d bytes", SIG_METADATA_MAX);
    }
    return true;
}

bool sig_connect_parse(const char *text, size_t len, sig_connect *c, sig_error *err) {
    memset(c, 0, sizeof *c);
    memset(err, 0, sizeof *err);
    if (len > SIG_MESSAGE_MAX) return fail(err, 1009, "message larger than %d bytes", SIG_MESSAGE_MAX);
    json_error_t jerr;
    /* duplicate keys are refused: two channel_ids must not mean whichever came last */
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (o == NULL) return fail(err, 1007, "not JSON: %.90s", jerr.text);
    bool ok = json_is_object(o) ? fields(o, c, err) : fail(err, 1007, "a message must be a JSON object");
    json_decref(o);
    if (!ok) sig_connect_free(c);
    return ok;
}

void sig_connect_free(sig_connect *c) {
    free(c->metadata);
    free(c->sdp);
    c->metadata = NULL;
    c->sdp = NULL;
}

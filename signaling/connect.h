/* connect.h - the signaling `connect` message, as Sora's SDKs send it,
 * decoded and validated. A core without I/O: text in, a struct or an error
 * (a WebSocket close code and reason) out.
 *
 * Limits, chosen so that real clients fit with room to spare (sora-js-sdk's
 * connect with a full Chromium offer is about 7 KiB) and a node's memory per
 * client stays bounded:
 *   - the whole message: SIG_MESSAGE_MAX bytes;
 *   - channel_id: 1 to 255 bytes of printable ASCII without space (safe in
 *     logs, JSON and the channel table; the claims' own limit);
 *   - metadata: any JSON value, at most SIG_METADATA_MAX bytes serialized;
 *   - client_id, sora_client, environment: at most 255 bytes.
 * Close codes: 1009 for a message over the limit, 1007 for text that is not
 * a JSON object, 1008 for a connect that breaks a rule (the reason says
 * which); reasons fit the 123 bytes a close frame allows. Unknown fields
 * are ignored, as Sora does, so that newer SDKs keep working. */
#ifndef SHOAL_CONNECT_H
#define SHOAL_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIG_MESSAGE_MAX (64 * 1024)
#define SIG_METADATA_MAX (16 * 1024)
#define SIG_CHANNEL_MAX 255
#define SIG_ID_MAX 255
#define SIG_REASON_MAX 123

typedef enum { SIG_SENDRECV, SIG_SENDONLY, SIG_RECVONLY } sig_role;

typedef struct sig_connect {
    sig_role role;
    char channel_id[SIG_CHANNEL_MAX + 1];
    char client_id[SIG_ID_MAX + 1];        /* "" when the client sent none */
    char sora_client[SIG_ID_MAX + 1];      /* for logs, cut at 255 bytes */
    char environment[SIG_ID_MAX + 1];
    bool redirect;                         /* the client followed a redirect to get here */
    bool audio, video;                     /* default true; an object (codec options) counts as true */
    char video_codec[8];                   /* video.codec_type: "VP8" or "H264"; "" when not asked */
    bool multistream;                      /* default true, as sora-js-sdk sends */
    char *metadata;                        /* compact JSON, NULL when absent or null */
    char *sdp;                             /* the client's offer-shaped SDP, NULL when absent */
} sig_connect;

typedef struct sig_error {
    uint16_t close_code;
    char reason[SIG_REASON_MAX + 1];
} sig_error;

/* true: *out filled (free it with sig_connect_free); false: *err says why. */
bool sig_connect_parse(const char *text, size_t len, sig_connect *out, sig_error *err);
void sig_connect_free(sig_connect *c);
const char *sig_role_name(sig_role r);

#endif

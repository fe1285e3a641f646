/* sdp.h - the SDP this SFU offers and the parts of a browser's answer it
 * needs (RFC 8829 JSEP, RFC 8843 BUNDLE, RFC 5245 ICE-lite). No I/O.
 *
 * The offer: ICE-lite, one BUNDLE over every section, rtcp-mux, the node's
 * host candidate in every section (Sora's SDKs ignore candidates sent after
 * the offer), DTLS actpass. Sections 0 (audio) and 1 (video) carry what the
 * client sends (recvonly here; inactive for a recvonly client), then one
 * sendonly section per forwarded track with a=msid:<sender connection_id>
 * <track id> and its a=ssrc. A forwarded track that left keeps its section,
 * inactive: m-lines are never removed (JSEP §5.2.2). */
#ifndef SHOAL_SDP_H
#define SHOAL_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDP_MAX_SECTIONS 64
#define SDP_ID_MAX 64

/* Payload types the offer fixes; every client answers with them, so
 * forwarding never rewrites a payload type. */
#define SDP_PT_OPUS 111
#define SDP_PT_VP8 96
#define SDP_PT_H264 102

/* A channel's video codec: every video section of its offers carries it. */
typedef enum { SDP_CODEC_VP8 = 0, SDP_CODEC_H264 = 1 } sdp_video_codec;

typedef enum { SDP_AUDIO = 0, SDP_VIDEO = 1 } sdp_kind;
typedef enum { SDP_INACTIVE = 0, SDP_SENDONLY = 1, SDP_RECVONLY = 2, SDP_SENDRECV = 3 } sdp_dir;

typedef struct {
    sdp_kind kind;
    sdp_dir dir;      /* the node's direction: RECVONLY for the client's own, SENDONLY forwarded */
    char stream_id[SDP_ID_MAX]; /* forwarded: the sender's connection_id */
    char track_id[SDP_ID_MAX];
    uint32_t ssrc;    /* forwarded: the SSRC this receiver sees */
} sdp_offer_section;

typedef struct {
    uint64_t session_id, version;
    const char *ufrag, *pwd, *fingerprint; /* fingerprint: "AB:CD:..." of SHA-256 */
    const char *cand_ip;                   /* dotted IPv4 or IPv6 text */
    uint16_t cand_port;
    const char *cname;
    const sdp_offer_section *s; /* mid i is the text of i */
    int n;
    bool answer; /* an answerer's SDP (the load client's): setup active, no ice-lite */
    sdp_video_codec video;
} sdp_offer;

/* Writes the offer; returns its length, 0 if cap is too small. */
size_t sdp_offer_build(char *out, size_t cap, const sdp_offer *o);

typedef struct {
    sdp_kind kind;
    bool rejected;   /* port 0 */
    char mid[SDP_ID_MAX];
    sdp_dir dir;     /* the client's direction */
    uint32_t ssrc;   /* the first a=ssrc, 0 if none */
    char msid_stream[SDP_ID_MAX], msid_track[SDP_ID_MAX];
    int pt;          /* the first payload type on the m= line */
    char codec[16];  /* its encoding name (a=rtpmap), "" if none */
} sdp_answer_section;

typedef struct {
    char ufrag[257], pwd[257];
    char cand_ip[64];      /* the first a=candidate's address and port */
    uint16_t cand_port;
    char fingerprint[160]; /* sha-256 hex with colons, as written */
    char setup[10];        /* active | passive | actpass */
    int n;
    sdp_answer_section s[SDP_MAX_SECTIONS];
} sdp_answer;

/* Parses an answer; 0, or -1 with *why. Refuses what this SFU cannot use:
 * no ICE credentials, no SHA-256 fingerprint, setup other than active
 * (the node is the DTLS server), more than SDP_MAX_SECTIONS sections. */
int sdp_answer_parse(const char *text, size_t len, sdp_answer *a, const char **why);
/* The same reading without the answer's checks (the load client reads offers). */
int sdp_parse(const char *text, size_t len, sdp_answer *a, const char **why);

#endif

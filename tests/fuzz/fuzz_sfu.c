/* fuzz_sfu.c - libFuzzer target: arbitrary datagrams into the SFU, as the
 * node's media socket hands them over. Two peers of one channel have
 * answered (so DTLS and the demultiplexer are live); the first byte picks
 * the source (a known peer's address after its ICE check, or an unknown
 * one); the rest is the datagram. Nothing may crash, leak or answer an
 * unknown address with anything but a STUN error. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "client.h"
#include "sfu.h"
#include "srtp_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static media_dtls_ctx *ctx;

static sfu_peer *join(sfu *s, media_client *c, const char *id, uint8_t seed) {
    uint8_t rnd[32];
    for (int i = 0; i < 32; i++) rnd[i] = (uint8_t)(seed * 31 + i);
    sfu_peer_opts o = {.role = 0, .audio = true, .video = true, .video_codec = -1};
    const char *why;
    sfu_peer *p = sfu_peer_add(s, 1, "room", id, &o, rnd, NULL, &why);
    static char answer[16384];
    const char *offer = sfu_peer_offer(p);
    if (media_client_offer(c, offer, strlen(offer), answer, sizeof answer, &why) != 0) __builtin_trap();
    if (sfu_peer_answer(s, p, 1, answer, strlen(answer), &why) != 0) __builtin_trap();
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 1500) return 0;
    if (!ctx) {
        char err[200];
        srtp_session_library_init();
        ctx = media_dtls_ctx_new(&(media_dtls_identity){.serial = 1}, err, sizeof err);
        if (!ctx) __builtin_trap();
    }
    sfu_config cfg = {.cand_ip = "127.0.0.1", .cand_port = 5004};
    sfu *s = sfu_new(&cfg, ctx);
    media_client *a = media_client_new(ctx, 1, true), *b = media_client_new(ctx, 2, true);
    join(s, a, "A", 1);
    join(s, b, "B", 2);
    /* a's ICE check, so that its address is known */
    stun_addr from_a = {.family = 4, .port = 40000, .ip = {10, 0, 0, 1}};
    media_client_tick(a, 0);
    uint32_t n;
    media_client_dgram *d = media_client_outbox(a, &n);
    for (uint32_t i = 0; i < n; i++) sfu_recv(s, 2, &from_a, d[i].data, d[i].len);
    media_client_outbox_clear(a);
    sfu_outbox_clear(s);
    stun_addr other = {.family = 4, .port = 1, .ip = {10, 9, 9, 9}};
    static uint8_t buf[1500];
    memcpy(buf, data + 1, size - 1);
    bool known = data[0] & 1;
    sfu_recv(s, 3, known ? &from_a : &other, buf, size - 1);
    sfu_tick(s, 4);
    sfu_dgram *out = sfu_outbox(s, &n);
    for (uint32_t i = 0; i < n && !known; i++)
        if (out[i].data[0] > 3) __builtin_trap(); /* to a stranger: STUN answers only */
    media_client_free(a);
    media_client_free(b);
    sfu_free(s);
    return 0;
}

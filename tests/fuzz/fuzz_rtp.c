/* fuzz_rtp.c - libFuzzer target: arbitrary bytes as an RTP packet and as a
 * compound RTCP packet: headers stay inside the packet, feedback items are
 * read only from whole packets. */
#include <stddef.h>
#include <stdint.h>

#include "rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(void *ctx, const rtcp_fb *fb) {
    uint16_t seqs[17];
    int n = rtcp_nack_seqs(fb, seqs);
    if (n < 1 || n > 17) __builtin_trap();
    (*(int *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)pkt_classify(data, size);
    rtp_header h;
    if (rtp_parse(data, size, &h) && h.header_len + h.payload_len > size) __builtin_trap();
    int items = 0;
    int packets = rtcp_each_feedback(data, size, count, &items);
    if (packets >= 0 && (size_t)items > size) __builtin_trap();
    return 0;
}

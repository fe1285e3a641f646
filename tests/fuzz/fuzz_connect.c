/* fuzz_connect.c - libFuzzer target: arbitrary bytes as a client's first
 * signaling message. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "connect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sig_connect c;
    sig_error e;
    if (sig_connect_parse((const char *)data, size, &c, &e)) {
        if (c.channel_id[0] == '\0' || strlen(c.channel_id) > SIG_CHANNEL_MAX) __builtin_trap();
        sig_connect_free(&c);
    } else if (strlen(e.reason) > SIG_REASON_MAX || e.close_code < 1000) {
        __builtin_trap();
    }
    return 0;
}

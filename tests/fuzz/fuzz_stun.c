/* fuzz_stun.c - libFuzzer target: arbitrary bytes as a STUN datagram. A
 * message that decodes keeps every pointer inside the input; integrity is
 * checked without reading past it; a success built back decodes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    stun_msg m;
    const char *why = NULL;
    if (stun_decode(data, size, &m, &why) != 0) {
        if (why == NULL) __builtin_trap();
        return 0;
    }
    if (m.username && (m.username < data || m.username + m.username_len > data + size)) __builtin_trap();
    (void)stun_integrity_ok(data, size, &m, "0123456789abcdefghijkl", 22);
    uint8_t out[STUN_MAX];
    stun_addr a = m.has_mapped ? m.mapped : (stun_addr){.family = 4, .port = 1};
    size_t n = stun_binding_success(out, sizeof out, m.txid, &a, "pw", 2);
    stun_msg back;
    if (n == 0 || stun_decode(out, n, &back, NULL) != 0 || !stun_integrity_ok(out, n, &back, "pw", 2))
        __builtin_trap();
    return 0;
}

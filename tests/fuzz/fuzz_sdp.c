/* fuzz_sdp.c - libFuzzer target: arbitrary bytes as a client's SDP answer.
 * Every string read stays terminated and within its field; at most
 * SDP_MAX_SECTIONS sections. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static sdp_answer a;
    const char *why = NULL;
    int r = sdp_answer_parse((const char *)data, size, &a, &why);
    if (r != 0 && why == NULL) __builtin_trap();
    if (a.n < 0 || a.n > SDP_MAX_SECTIONS) __builtin_trap();
    if (strnlen(a.ufrag, sizeof a.ufrag) == sizeof a.ufrag || strnlen(a.fingerprint, sizeof a.fingerprint) == sizeof a.fingerprint)
        __builtin_trap();
    for (int i = 0; i < a.n; i++)
        if (strnlen(a.s[i].mid, sizeof a.s[i].mid) == sizeof a.s[i].mid) __builtin_trap();
    return 0;
}

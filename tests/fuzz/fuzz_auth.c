/* fuzz_auth.c - libFuzzer target: arbitrary bytes as the auth webhook's
 * answer body (first byte picks the HTTP status). Only a 200 with a
 * boolean "allowed": true may admit; a rejection's words fit a close frame. */
#define _GNU_SOURCE /* memmem */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    int status = data[0] < 128 ? 200 : 100 + data[0];
    sig_auth_answer a;
    sig_auth_decode(status, (const char *)data + 1, size - 1, &a);
    if (a.allowed && (status != 200 || memmem(data + 1, size - 1, "allowed", 7) == NULL)) __builtin_trap();
    if (!a.allowed && (a.code == SHOAL_OK || strlen(a.words) > SIG_REASON_MAX)) __builtin_trap();
    return 0;
}

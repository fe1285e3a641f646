/* fuzz_connect.c - libFuzzer target: arbitrary bytes as a client's first
 * signaling message, and as a message to an open session. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "connect.h"
#include "session.h"

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
    sig_session_config cfg;
    sig_session_config_default(&cfg);
    sig_session *s = sig_session_new(&cfg, 0);
    if (s == NULL) return 0;
    static const char connect[] = "{\"type\":\"connect\",\"role\":\"recvonly\",\"channel_id\":\"r\"}";
    sig_session_recv(s, 0, connect, sizeof connect - 1);
    sig_session_admit(s, 0, "c");
    sig_session_recv(s, 1, (const char *)data, size);
    sig_session_tick(s, 40000);
    sig_session_free(s);
    return 0;
}

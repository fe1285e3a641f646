/* auth.c - the auth webhook's answer (see auth.h). */
#include "auth.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void no(sig_auth_answer *out, shoal_outcome code, const char *words) {
    out->allowed = false;
    out->code = code;
    snprintf(out->words, sizeof out->words, "%s", words);
}

void sig_auth_decode(int status, const char *body, size_t len, sig_auth_answer *out) {
    memset(out, 0, sizeof *out);
    if (status != 200) {
        char w[32];
        snprintf(w, sizeof w, "HTTP status %d", status);
        no(out, SHOAL_AUTH_WEBHOOK_ERROR, w);
        return;
    }
    json_t *o = json_loadb(body, len, 0, NULL); /* an object or array only: a bare value is an error */
    json_t *allowed = json_object_get(o, "allowed");
    if (!json_is_boolean(allowed)) {
        no(out, SHOAL_AUTH_WEBHOOK_ERROR, "the answer has no boolean \"allowed\"");
    } else if (json_is_true(allowed)) {
        out->allowed = true;
    } else {
        const char *why = json_string_value(json_object_get(o, "reason"));
        /* the reason ends up in a close frame and logs: printable ASCII only, cut to fit */
        char clean[SIG_REASON_MAX + 1];
        size_t k = 0;
        for (const char *p = why ? why : "not allowed"; *p && k + 1 < sizeof clean; p++)
            clean[k++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
        clean[k] = '\0';
        no(out, SHOAL_AUTH_REJECTED, clean);
    }
    json_decref(o);
}

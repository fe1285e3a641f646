/* auth.h - the auth webhook's answer, decoded (no I/O): HTTP status and
 * body in, allowed or a rejection (code and words for the close reason)
 * out. The body comes from the network: anything that is not HTTP 200 with
 * a JSON object holding a boolean "allowed" is an error, never an
 * admission. */
#ifndef SHOAL_AUTH_H
#define SHOAL_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "connect.h"
#include "outcome.h"

typedef struct sig_auth_answer {
    bool allowed;
    shoal_outcome code;                  /* when not allowed: SHOAL_AUTH_REJECTED or SHOAL_AUTH_WEBHOOK_ERROR */
    char words[SIG_REASON_MAX + 1];      /* the webhook's "reason", or what was wrong with the answer */
} sig_auth_answer;

void sig_auth_decode(int status, const char *body, size_t len, sig_auth_answer *out);

#endif

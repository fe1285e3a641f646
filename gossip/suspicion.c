/* suspicion.c - Lifeguard suspicion timer (see suspicion.h). */
#include "suspicion.h"

#include <math.h>

int64_t suspicion_timeout_ms(uint32_t n, uint32_t k, int64_t min_ms, int64_t max_ms) {
    if (k == 0 || n >= k) return min_ms;
    double frac = log((double)n + 1.0) / log((double)k + 1.0);
    int64_t t = max_ms - (int64_t)floor((double)(max_ms - min_ms) * frac);
    return t < min_ms ? min_ms : t;
}

void suspicion_start(suspicion *s, int64_t now_ms, uint64_t from_hash, uint32_t k,
                     int64_t min_ms, int64_t max_ms) {
    s->start_ms = now_ms;
    s->min_ms = min_ms;
    s->max_ms = max_ms;
    s->k = k;
    s->n = 0;
    s->confirmers[0] = from_hash;
    s->nconfirmers = 1;
}

bool suspicion_confirm(suspicion *s, uint64_t from_hash) {
    if (s->n >= s->k) return false;
    for (uint32_t i = 0; i < s->nconfirmers; i++)
        if (s->confirmers[i] == from_hash) return false;
    if (s->nconfirmers < SUSPICION_MAX_CONFIRMERS) s->confirmers[s->nconfirmers++] = from_hash;
    s->n++;
    return true;
}

int64_t suspicion_deadline(const suspicion *s) {
    return s->start_ms + suspicion_timeout_ms(s->n, s->k, s->min_ms, s->max_ms);
}

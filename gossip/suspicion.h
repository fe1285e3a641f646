/* suspicion.h - Lifeguard's dynamic suspicion timeout.
 *
 * A suspicion starts at max_ms and shrinks towards min_ms as independent
 * members confirm it (each confirmer counted once), on a log scale so that
 * the first confirmations matter most: with k expected confirmations,
 *   timeout(n) = max(min, max - (max - min) * log(n + 1) / log(k + 1)).
 * k = 0 means none are expected: the timeout is min_ms from the start. */
#ifndef SHOAL_SUSPICION_H
#define SHOAL_SUSPICION_H

#include <stdbool.h>
#include <stdint.h>

#define SUSPICION_MAX_CONFIRMERS 8

typedef struct suspicion {
    int64_t start_ms;   /* when this node began to suspect */
    int64_t min_ms, max_ms;
    uint32_t k;         /* confirmations that bring the timeout to min_ms */
    uint32_t n;         /* confirmations so far */
    uint64_t confirmers[SUSPICION_MAX_CONFIRMERS]; /* name hashes, incl. the first accuser */
    uint32_t nconfirmers;
} suspicion;

/* The timeout after n of k expected confirmations (pure; see above). */
int64_t suspicion_timeout_ms(uint32_t n, uint32_t k, int64_t min_ms, int64_t max_ms);

/* Starts a suspicion raised by the member whose name hashes to from_hash. */
void suspicion_start(suspicion *s, int64_t now_ms, uint64_t from_hash, uint32_t k,
                     int64_t min_ms, int64_t max_ms);

/* Counts a confirmation; returns true only the first time a given member
 * confirms (callers re-gossip only then) and only while n < k. */
bool suspicion_confirm(suspicion *s, uint64_t from_hash);

/* The instant at which the suspected member is to be declared dead. */
int64_t suspicion_deadline(const suspicion *s);

#endif

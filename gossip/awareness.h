/* awareness.h - Lifeguard's local health multiplier (LHM).
 *
 * A node that misses acks or nacks, or has to refute suspicions of itself, is
 * probably the slow one: it raises its score and stretches its own probe
 * interval and timeouts by (score + 1) so that it accuses others less. A
 * successful probe lowers the score. 0 is healthy. */
#ifndef SHOAL_AWARENESS_H
#define SHOAL_AWARENESS_H

#include <stdint.h>

typedef struct awareness {
    int score; /* 0 .. max - 1 */
    int max;   /* SWIM config awareness_max */
} awareness;

static inline void awareness_init(awareness *a, int max) {
    a->score = 0;
    a->max = max;
}

/* Adds delta (negative: healthier), clamped to [0, max - 1]. */
void awareness_apply(awareness *a, int delta);

/* Scales a timeout or interval by the current health. */
static inline int64_t awareness_scale(const awareness *a, int64_t ms) {
    return ms * (a->score + 1);
}

#endif

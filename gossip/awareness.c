/* awareness.c - Lifeguard local health multiplier (see awareness.h). */
#include "awareness.h"

void awareness_apply(awareness *a, int delta) {
    int s = a->score + delta;
    if (s < 0) s = 0;
    if (s > a->max - 1) s = a->max - 1;
    a->score = s;
}

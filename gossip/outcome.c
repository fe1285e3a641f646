/* outcome.c - the one table of outcomes (see .h). */
#include "outcome.h"

#include <string.h>

static const struct {
    const char *name, *message;
    int http;
    uint16_t close;
} TABLE[] = {
#define SHOAL_OUTCOME_ROW(e, n, h, c, m) {n, m, h, c},
    SHOAL_OUTCOME_MAP(SHOAL_OUTCOME_ROW)
#undef SHOAL_OUTCOME_ROW
};

_Static_assert(sizeof TABLE / sizeof TABLE[0] == SHOAL_OUTCOME_COUNT, "one row per outcome");

static unsigned idx(shoal_outcome o) { return (unsigned)o < SHOAL_OUTCOME_COUNT ? (unsigned)o : 0; }

const char *shoal_outcome_name(shoal_outcome o) { return TABLE[idx(o)].name; }
const char *shoal_outcome_message(shoal_outcome o) { return TABLE[idx(o)].message; }
int shoal_outcome_http(shoal_outcome o) { return TABLE[idx(o)].http; }
uint16_t shoal_outcome_close(shoal_outcome o) { return TABLE[idx(o)].close; }

bool shoal_outcome_parse(const char *name, shoal_outcome *out) {
    for (unsigned i = 0; i < SHOAL_OUTCOME_COUNT; i++)
        if (strcmp(TABLE[i].name, name) == 0) {
            *out = (shoal_outcome)i;
            return true;
        }
    return false;
}

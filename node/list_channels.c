/* list_channels.c - ListChannels (see .h). */
#include "list_channels.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- ListChannels ---------------------------------------------------------- */

typedef struct row {
    const char *channel, *owner;
    uint32_t connections;
    uint64_t created_ms;
} row;

static bool collect(void *ctx, const chtable_entry *e) {
    row **cursor = ctx;
    **cursor = (row){e->channel, e->holder, e->connections, e->created_ms};
    (*cursor)++;
    return true;
}

static int by_channel(const void *a, const void *b) {
    const row *x = a, *y = b;
    int d = strcmp(x->channel, y->channel);
    return d ? d : strcmp(x->owner, y->owner);
}

json_t *list_channels_json(const chtable *t) {
    uint32_t n = chtable_size(t);
    row *rows = calloc(n ? n : 1, sizeof *rows), *end = rows;
    json_t *list = json_array();
    if (rows == NULL) return json_pack("{s:o, s:I}", "channels", list, "total", (json_int_t)0);
    chtable_each(t, collect, &end);
    qsort(rows, (size_t)(end - rows), sizeof *rows, by_channel);
    for (row *r = rows; r < end; r++) {
        char when[40];
        time_t secs = (time_t)(r->created_ms / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        size_t k = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(when + k, sizeof when - k, ".%03uZ", (unsigned)(r->created_ms % 1000));
        json_array_append_new(list, json_pack("{s:s, s:s, s:I, s:s}", "channel_id", r->channel, "owner", r->owner,
                                              "connections", (json_int_t)r->connections, "created_at", when));
    }
    json_int_t total = (json_int_t)(end - rows);
    free(rows);
    return json_pack("{s:o, s:I}", "channels", list, "total", total);
}

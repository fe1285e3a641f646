/* log.h - JSON Lines event log (log_dir/cluster.jsonl).
 *
 * One JSON object a line: {"time": ISO-8601 UTC with ms, "node": ...,
 * "event": ..., fields...}. Writes are single write(2) calls on an O_APPEND
 * descriptor, so lines never interleave. A failed write is remembered
 * (shoal_log_ok) so that the node can stop admitting clients. */
#ifndef SHOAL_LOG_H
#define SHOAL_LOG_H

#include <jansson.h>
#include <stdbool.h>

typedef struct shoal_log {
    int fd;            /* -1: not open */
    char node[128];
    bool ok;           /* false after a failed open or write */
    bool echo;         /* also print each line on stderr */
} shoal_log;

/* Opens (creating log_dir if needed) dir/cluster.jsonl. Returns false and
 * leaves log->ok false if it cannot. */
bool shoal_log_open(shoal_log *log, const char *dir, const char *node_name);
void shoal_log_close(shoal_log *log);

/* Writes one event. Steals the reference to fields (may be NULL). */
void shoal_log_event(shoal_log *log, const char *event, json_t *fields);

#endif

/* log.c - JSON Lines event log (see log.h). */
#include "log.h"

#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool shoal_log_open(shoal_log *log, const char *dir, const char *node_name) {
    char path[2048];
    snprintf(log->node, sizeof log->node, "%s", node_name);
    log->fd = -1;
    log->ok = false;
    if (fs_mkdir_p(dir) != 0) return false;
    snprintf(path, sizeof path, "%s/cluster.jsonl", dir);
    log->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    log->ok = log->fd >= 0;
    return log->ok;
}

void shoal_log_close(shoal_log *log) {
    if (log->fd >= 0) close(log->fd);
    log->fd = -1;
}

void shoal_log_event(shoal_log *log, const char *event, json_t *fields) {
    json_t *o = json_object();
    struct timespec ts;
    struct tm tm;
    char when[64];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "node", json_string(log->node));
    json_object_set_new(o, "event", json_string(event));
    if (fields != NULL) {
        json_object_update(o, fields);
        json_decref(fields);
    }
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (line == NULL) return;
    size_t len = strlen(line);
    line[len] = '\n'; /* replaces the NUL: json_dumps allocated len + 1 */
    if (log->echo) fwrite(line, 1, len + 1, stderr);
    if (log->fd >= 0) {
        ssize_t w = write(log->fd, line, len + 1);
        if (w != (ssize_t)(len + 1)) log->ok = false;
    }
    free(line);
}

/* file_probe.h - checks that data_dir and log_dir take a durable write
 * (temp file, fsync, rename, fsync of the directory), off the event loop:
 * its four fsyncs every 2 s took 1-1.5 ms here (strace), more on a busy
 * disk, time in which the loop forwarded no media and answered no lease
 * ping. One helper thread does the blocking work; the result comes back
 * to the loop by an ev_async, where the callback runs. Nothing else runs
 * on that thread. */
#ifndef SHOAL_FILE_PROBE_H
#define SHOAL_FILE_PROBE_H

#include <ev.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define FILE_PROBE_ERR_MAX 640

typedef void (*file_probe_done_fn)(void *ctx, bool ok, const char *err);

typedef struct file_probe {
    struct ev_loop *loop;
    const char *data_dir, *log_dir; /* the config's: they outlive the prober */
    file_probe_done_fn done;
    void *ctx;
    ev_async async_w;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* guards the fields below */
    pthread_cond_t cv;
    bool want, busy, stop, has_result;
    bool ok;
    char err[FILE_PROBE_ERR_MAX];
} file_probe;

/* Checks both directories once, here and now (blocking): the answer at start. */
bool file_probe_now(const char *data_dir, const char *log_dir, char *err, size_t errlen);

int file_probe_start(file_probe *fp, struct ev_loop *loop, const char *data_dir, const char *log_dir,
                     file_probe_done_fn done, void *ctx);
/* Asks for a check; one already asked for or running covers it. */
void file_probe_request(file_probe *fp);
/* Waits for a running check to end; no callback after this. */
void file_probe_stop(file_probe *fp);

#endif

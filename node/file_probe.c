/* file_probe.c - durable-write checks of data_dir and log_dir on a helper thread. */
#include "file_probe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fsutil.h"

bool file_probe_now(const char *data_dir, const char *log_dir, char *err, size_t errlen) {
    if (fs_probe_writable(data_dir) != 0) {
        snprintf(err, errlen, "data_dir %s: %s", data_dir, strerror(errno));
        return false;
    }
    if (fs_probe_writable(log_dir) != 0) {
        snprintf(err, errlen, "log_dir %s: %s", log_dir, strerror(errno));
        return false;
    }
    err[0] = '\0';
    return true;
}

static void *worker(void *arg) {
    file_probe *fp = arg;
    pthread_mutex_lock(&fp->mu);
    for (;;) {
        while (!fp->want && !fp->stop) pthread_cond_wait(&fp->cv, &fp->mu);
        if (fp->stop) break;
        fp->want = false;
        fp->busy = true;
        pthread_mutex_unlock(&fp->mu);
        char err[FILE_PROBE_ERR_MAX];
        bool ok = file_probe_now(fp->data_dir, fp->log_dir, err, sizeof err);
        pthread_mutex_lock(&fp->mu);
        fp->busy = false;
        fp->ok = ok;
        snprintf(fp->err, sizeof fp->err, "%s", err);
        fp->has_result = true;
        ev_async_send(fp->loop, &fp->async_w);
    }
    pthread_mutex_unlock(&fp->mu);
    return NULL;
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents) {
    file_probe *fp = w->data;
    (void)loop, (void)revents;
    pthread_mutex_lock(&fp->mu);
    bool has = fp->has_result, ok = fp->ok;
    char err[FILE_PROBE_ERR_MAX];
    snprintf(err, sizeof err, "%s", fp->err);
    fp->has_result = false;
    pthread_mutex_unlock(&fp->mu);
    if (has) fp->done(fp->ctx, ok, err);
}

int file_probe_start(file_probe *fp, struct ev_loop *loop, const char *data_dir, const char *log_dir,
                     file_probe_done_fn done, void *ctx) {
    memset(fp, 0, sizeof *fp);
    fp->loop = loop;
    fp->data_dir = data_dir;
    fp->log_dir = log_dir;
    fp->done = done;
    fp->ctx = ctx;
    pthread_mutex_init(&fp->mu, NULL);
    pthread_cond_init(&fp->cv, NULL);
    ev_async_init(&fp->async_w, async_cb);
    fp->async_w.data = fp;
    ev_async_start(loop, &fp->async_w);
    if (pthread_create(&fp->thread, NULL, worker, fp) != 0) {
        ev_async_stop(loop, &fp->async_w);
        return -1;
    }
    fp->started = true;
    return 0;
}

void file_probe_request(file_probe *fp) {
    if (!fp->started) return;
    pthread_mutex_lock(&fp->mu);
    if (!fp->busy) fp->want = true;
    pthread_cond_signal(&fp->cv);
    pthread_mutex_unlock(&fp->mu);
}

void file_probe_stop(file_probe *fp) {
    if (!fp->started) return;
    pthread_mutex_lock(&fp->mu);
    fp->stop = true;
    pthread_cond_signal(&fp->cv);
    pthread_mutex_unlock(&fp->mu);
    pthread_join(fp->thread, NULL);
    ev_async_stop(fp->loop, &fp->async_w);
    pthread_mutex_destroy(&fp->mu);
    pthread_cond_destroy(&fp->cv);
    fp->started = false;
}

/* channels_io.c - the channel table of a running node (see .h). */
#include "channels_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "chtable_route.h"
#include "node.h"

#define TICK_S 0.25              /* digests every 2 s and counts every 1 s need no finer clock */

static void send_one(void *ctx, const swim_member *to, const uint8_t *data, uint32_t len) {
    channels_io *c = ctx;
    gossip_io_send(&c->node->gio, to->addr, data, len);
}

static void flush(channels_io *c) {
    uint32_t n;
    const chtable_out *o = chtable_outbox(c->table, &n);
    for (uint32_t i = 0; i < n; i++) chtable_route(c->node->core, &c->cursor, &o[i], send_one, c);
    chtable_outbox_clear(c->table);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    channels_io *c = w->data;
    (void)loop;
    (void)revents;
    chtable_tick(c->table, gossip_now_ms());
    flush(c);
}

int channels_start(channels_io *c, shoal_node *node, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->node = node;
    uint32_t r[2];
    if (getrandom(r, sizeof r, 0) != sizeof r) {
        r[0] = (uint32_t)gossip_now_ms();
        r[1] = r[0] * 2654435761u;
    }
    /* a fresh boot id each start: what others knew of this node's channels
     * before a restart is replaced, not merged */
    c->table = chtable_new(node->cfg.node_name, node->cfg.cluster_name, r[0] | 1);
    if (c->table == NULL) {
        snprintf(err, errlen, "cannot create the channel table: out of memory");
        return -1;
    }
    c->cursor = r[1]; /* digests start at a different member on each node */
    ev_timer_init(&c->timer, timer_cb, TICK_S, TICK_S);
    c->timer.data = c;
    ev_timer_start(node->loop, &c->timer);
    return 0;
}

void channels_stop(channels_io *c) {
    if (c->node) ev_timer_stop(c->node->loop, &c->timer);
    chtable_free(c->table);
    c->table = NULL;
}

void channels_on_datagram(channels_io *c, const uint8_t *buf, size_t len) {
    if (!chtable_from_member(c->node->core, buf, len)) {
        c->dropped++;
        return;
    }
    chtable_recv(c->table, buf, len);
    flush(c);
}

void channels_on_swim_event(channels_io *c, const swim_event *ev) {
    if (ev->type == SWIM_EV_DEAD || ev->type == SWIM_EV_LEFT) chtable_forget(c->table, ev->name);
    else if (ev->type == SWIM_EV_JOIN || ev->type == SWIM_EV_ALIVE) chtable_member_up(c->table, ev->name);
    flush(c);
}

void channels_set_local(channels_io *c, const char *channel, uint32_t count, uint64_t created_ms) {
    chtable_set_local(c->table, channel, count, created_ms);
    flush(c);
}

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

json_t *channels_list_json(const channels_io *c) {
    uint32_t n = chtable_size(c->table);
    row *rows = calloc(n ? n : 1, sizeof *rows), *end = rows;
    json_t *list = json_array();
    if (rows == NULL) return json_pack("{s:o, s:I}", "channels", list, "total", (json_int_t)0);
    chtable_each(c->table, collect, &end);
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

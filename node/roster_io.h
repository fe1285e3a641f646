/* roster_io.h - the node core's roster and its files: the roster state in
 * data_dir (read at start, written atomically when the cluster core asks),
 * the periodic check that data_dir and log_dir are writable (on a helper
 * thread, file_probe.h), and the cluster core's events in cluster.jsonl. */
#ifndef SHOAL_ROSTER_IO_H
#define SHOAL_ROSTER_IO_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "file_probe.h"
#include "node_core.h"

struct node_ctx;

typedef struct roster_io {
    struct node_ctx *node;
    ev_timer timer;              /* file checks */
    int64_t next_file_probe;
    file_probe fprobe;           /* data_dir and log_dir checks, off the loop */
} roster_io;

/* data_dir/raft.state into *state (malloc'd; NULL and 0 when there is none
 * yet). -1 with the reason in err when it cannot be read. */
int roster_io_read_state(const shoal_config *cfg, uint8_t **state, size_t *len, char *err, size_t errlen);
/* ncore_env.persist: ctx is the node_ctx. */
int roster_io_persist(void *ctx, const uint8_t *data, size_t len, char *err, size_t errlen);
/* The first file check, here and now (the node starts knowing), then the
 * periodic ones. Call after the node core exists. */
int roster_io_start(roster_io *r, struct node_ctx *node, char *err, size_t errlen);
void roster_io_stop(roster_io *r);
/* One cluster core event: cluster.jsonl, and a finished proposal to the API. */
void roster_io_on_event(roster_io *r, const ccore_event *e);

#endif

/* claims_io.h - the channel claims core (placement/claims.h) of a running
 * node: datagrams of kind CLAIMS_WIRE_KIND in and out on the cluster
 * socket, a libev timer at the core's deadline, and the outcomes (held,
 * refused, failed) handed to signaling, which admits, redirects or rejects
 * the clients waiting for them. */
#ifndef SHOAL_CLAIMS_IO_H
#define SHOAL_CLAIMS_IO_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "claims.h"

struct shoal_node;

typedef void (*claims_outcome_fn)(void *ctx, const claims_event *ev);

typedef struct claims_io {
    struct shoal_node *node;
    claims *core;
    ev_timer timer;
    claims_outcome_fn on_outcome;
    void *outcome_ctx;
    bool flushing;
} claims_io;

int claims_io_start(claims_io *c, struct shoal_node *node, char *err, size_t errlen);
void claims_io_stop(claims_io *c);
void claims_io_on_datagram(claims_io *c, const uint8_t *buf, size_t len);

/* The node's current lease and committed roster, as every claims call wants them. */
void claims_io_acquire(claims_io *c, const char *channel);
void claims_io_release(claims_io *c, const char *channel);
bool claims_io_valid(claims_io *c, const char *channel);
bool claims_io_pending(claims_io *c, const char *channel);
/* This node stopped serving: its claims are void (its clients are closed). */
void claims_io_drop_all(claims_io *c);

#endif

/* channels_io.h - the node's replicated channel table (placement/chtable.h)
 * bound to the cluster socket, the gossip view and a timer; answers
 * ListChannels and the channel counts of GET /debug/ring.
 *
 * Signaling (signaling_admit.c) opens, counts and closes this node's own
 * channels; the table follows every other member's list. */
#ifndef SHOAL_CHANNELS_IO_H
#define SHOAL_CHANNELS_IO_H

#include <ev.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "chtable.h"
#include "swim.h"

struct shoal_node;

typedef struct channels_io {
    struct shoal_node *node;
    chtable *table;
    uint32_t cursor;             /* the member the last digest went to */
    ev_timer timer;
    uint64_t dropped;            /* table datagrams from non-members */
} channels_io;

int channels_start(channels_io *c, struct shoal_node *node, char *err, size_t errlen);
void channels_stop(channels_io *c);
void channels_on_datagram(channels_io *c, const uint8_t *buf, size_t len);
void channels_on_swim_event(channels_io *c, const swim_event *ev);
/* This node's own channel: count clients (0: closed), sent to the others at once. */
void channels_set_local(channels_io *c, const char *channel, uint32_t count, uint64_t created_ms);
/* ListChannels: {"channels": [{channel_id, owner, connections, created_at}], "total": N}, by channel id. */
json_t *channels_list_json(const channels_io *c);

#endif

/* list_channels.h - the API's ListChannels: every channel of the node's
 * replicated table (placement/chtable.h), with holder, client count and
 * creation time. */
#ifndef SHOAL_LIST_CHANNELS_H
#define SHOAL_LIST_CHANNELS_H

#include <jansson.h>

#include "chtable.h"

/* {"channels": [{channel_id, owner, connections, created_at}], "total": N}, by channel id. */
json_t *list_channels_json(const chtable *t);

#endif

/* bindings.c - a relay connection's channel and sender handles (see .h). */
#include "bindings.h"

#include <stdio.h>
#include <string.h>

SHOAL_NAMED_ENUM_DEFINE(relay_bind_error, RELAY_BIND_, RELAY_BIND_ERROR_MAP)

static const char *channel_key(const void *item) { return ((const relay_bound_channel *)item)->key; }
static const char *name_key(const void *item) { return ((const relay_channel_name *)item)->id; }
static const char *sender_key(const void *item) { return ((const relay_bound_sender *)item)->key; }

static void channel_key_of(uint16_t ch, char out[6]) { snprintf(out, 6, "%04x", ch); }
static void sender_key_of(uint16_t ch, uint16_t s, char out[10]) { snprintf(out, 10, "%04x:%04x", ch, s); }

void relay_bindings_init(relay_bindings *b) {
    keyed_init(&b->channels, sizeof(relay_bound_channel), channel_key);
    keyed_init(&b->names, sizeof(relay_channel_name), name_key);
    keyed_init(&b->senders, sizeof(relay_bound_sender), sender_key);
}

void relay_bindings_free(relay_bindings *b) {
    keyed_free(&b->channels);
    keyed_free(&b->names);
    keyed_free(&b->senders);
}

static relay_bound_channel *channel_at(const relay_bindings *b, uint16_t ch) {
    char k[6];
    channel_key_of(ch, k);
    int64_t i = keyed_find(&b->channels, k);
    return i < 0 ? NULL : keyed_at(&b->channels, (uint32_t)i);
}

const relay_bound_channel *relay_bindings_channel(const relay_bindings *b, uint16_t channel) {
    return channel_at(b, channel);
}

const relay_bound_sender *relay_bindings_sender(const relay_bindings *b, uint16_t channel, uint16_t sender) {
    char k[10];
    sender_key_of(channel, sender, k);
    int64_t i = keyed_find(&b->senders, k);
    return i < 0 ? NULL : keyed_at(&b->senders, (uint32_t)i);
}

uint16_t relay_bindings_find_channel(const relay_bindings *b, const char *channel_id) {
    int64_t i = keyed_find(&b->names, channel_id);
    return i < 0 ? 0 : ((const relay_channel_name *)keyed_at(&b->names, (uint32_t)i))->handle;
}

static bool sender_id_bound(const relay_bindings *b, uint16_t ch, const char *connection_id) {
    for (uint32_t i = 0; i < b->senders.n; i++) {
        const relay_bound_sender *s = keyed_at(&b->senders, i);
        if (s->channel == ch && strcmp(s->connection_id, connection_id) == 0) return true;
    }
    return false;
}

static relay_bind_error bind_channel(relay_bindings *b, uint16_t ch, const char *id) {
    if (channel_at(b, ch)) return RELAY_BIND_HANDLE_IN_USE;
    if (keyed_find(&b->names, id) >= 0) return RELAY_BIND_ID_IN_USE;
    if (b->channels.n >= RELAY_BIND_CHANNELS_MAX) return RELAY_BIND_FULL;
    relay_bound_channel c = {.handle = ch};
    channel_key_of(ch, c.key);
    snprintf(c.id, sizeof c.id, "%s", id);
    relay_channel_name n = {.handle = ch};
    snprintf(n.id, sizeof n.id, "%s", id);
    if (keyed_add(&b->channels, &c) < 0) return RELAY_BIND_NO_MEMORY;
    if (keyed_add(&b->names, &n) < 0) {
        keyed_remove(&b->channels, (uint32_t)keyed_find(&b->channels, c.key));
        return RELAY_BIND_NO_MEMORY;
    }
    return RELAY_BIND_OK;
}

static relay_bind_error bind_sender(relay_bindings *b, const relay_control *m) {
    relay_bound_channel *c = channel_at(b, m->channel);
    if (!c) return RELAY_BIND_NO_SUCH_CHANNEL;
    if (relay_bindings_sender(b, m->channel, m->sender)) return RELAY_BIND_HANDLE_IN_USE;
    if (sender_id_bound(b, m->channel, m->connection_id)) return RELAY_BIND_ID_IN_USE;
    if (b->senders.n >= RELAY_BIND_SENDERS_MAX) return RELAY_BIND_FULL;
    relay_bound_sender s = {.channel = m->channel, .sender = m->sender, .ssrc = {m->ssrc[0], m->ssrc[1]}};
    sender_key_of(m->channel, m->sender, s.key);
    snprintf(s.connection_id, sizeof s.connection_id, "%s", m->connection_id);
    if (keyed_add(&b->senders, &s) < 0) return RELAY_BIND_NO_MEMORY;
    c->senders++;
    return RELAY_BIND_OK;
}

static relay_bind_error unbind_sender(relay_bindings *b, uint16_t ch, uint16_t sender) {
    char k[10];
    sender_key_of(ch, sender, k);
    int64_t i = keyed_find(&b->senders, k);
    if (i < 0) return channel_at(b, ch) ? RELAY_BIND_NO_SUCH_SENDER : RELAY_BIND_NO_SUCH_CHANNEL;
    keyed_remove(&b->senders, (uint32_t)i);
    channel_at(b, ch)->senders--;
    return RELAY_BIND_OK;
}

static relay_bind_error unbind_channel(relay_bindings *b, uint16_t ch) {
    relay_bound_channel *c = channel_at(b, ch);
    if (!c) return RELAY_BIND_NO_SUCH_CHANNEL;
    for (uint32_t i = b->senders.n; i-- > 0;) /* backwards: swap-remove moves only what was seen */
        if (((relay_bound_sender *)keyed_at(&b->senders, i))->channel == ch) keyed_remove(&b->senders, i);
    keyed_remove(&b->names, (uint32_t)keyed_find(&b->names, c->id));
    keyed_remove(&b->channels, (uint32_t)keyed_find(&b->channels, c->key));
    return RELAY_BIND_OK;
}

relay_bind_error relay_bindings_apply(relay_bindings *b, const relay_control *c) {
    switch (c->type) {
    case RELAY_CTL_BIND_CHANNEL: return bind_channel(b, c->channel, c->channel_id);
    case RELAY_CTL_BIND_SENDER: return bind_sender(b, c);
    case RELAY_CTL_UNBIND_SENDER: return unbind_sender(b, c->channel, c->sender);
    case RELAY_CTL_UNBIND_CHANNEL: return unbind_channel(b, c->channel);
    default: return RELAY_BIND_NOT_A_BINDING;
    }
}

uint16_t relay_bindings_bind_channel(relay_bindings *b, const char *channel_id, relay_control *msg) {
    memset(msg, 0, sizeof *msg);
    uint16_t h = relay_bindings_find_channel(b, channel_id);
    if (h) return h;
    if (channel_id[0] == '\0' || strlen(channel_id) > RELAY_CHANNEL_MAX) return 0;
    for (uint32_t ch = 1; ch <= UINT16_MAX; ch++) {
        if (channel_at(b, (uint16_t)ch)) continue;
        if (bind_channel(b, (uint16_t)ch, channel_id) != RELAY_BIND_OK) return 0;
        msg->type = RELAY_CTL_BIND_CHANNEL;
        msg->channel = (uint16_t)ch;
        snprintf(msg->channel_id, sizeof msg->channel_id, "%s", channel_id);
        return (uint16_t)ch;
    }
    return 0;
}

uint16_t relay_bindings_bind_sender(relay_bindings *b, uint16_t ch, const char *connection_id, const uint32_t ssrc[2],
                                    relay_control *msg) {
    memset(msg, 0, sizeof *msg);
    if (!channel_at(b, ch) || connection_id[0] == '\0' || strlen(connection_id) > RELAY_CONNECTION_ID_MAX) return 0;
    relay_control m = {.type = RELAY_CTL_BIND_SENDER, .channel = ch, .ssrc = {ssrc[0], ssrc[1]}};
    snprintf(m.connection_id, sizeof m.connection_id, "%s", connection_id);
    for (uint32_t s = 1; s <= UINT16_MAX; s++) {
        if (relay_bindings_sender(b, ch, (uint16_t)s)) continue;
        m.sender = (uint16_t)s;
        if (bind_sender(b, &m) != RELAY_BIND_OK) return 0;
        *msg = m;
        return (uint16_t)s;
    }
    return 0;
}

relay_bind_error relay_bindings_unbind_sender(relay_bindings *b, uint16_t ch, uint16_t sender, relay_control *msg) {
    *msg = (relay_control){.type = RELAY_CTL_UNBIND_SENDER, .channel = ch, .sender = sender};
    relay_bind_error e = unbind_sender(b, ch, sender);
    if (e != RELAY_BIND_OK) msg->type = 0;
    return e;
}

relay_bind_error relay_bindings_unbind_channel(relay_bindings *b, uint16_t ch, relay_control *msg) {
    *msg = (relay_control){.type = RELAY_CTL_UNBIND_CHANNEL, .channel = ch};
    relay_bind_error e = unbind_channel(b, ch);
    if (e != RELAY_BIND_OK) msg->type = 0;
    return e;
}

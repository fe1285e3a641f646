/* actions.c - the API's actions over the node's state (see actions.h).
 *
 * Built so far: ListClusterNodes, /.ok, /metrics. /.ok answers 200 once the
 * node is part of a cluster: it sees another live member, or its contact
 * list names only itself. Majority and the roster (issue 4) will tighten it
 * to DESIGN.md's "initialized cluster with majority and serving". */
#include "actions.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static api_reply reply_json(int status, json_t *doc) {
    api_reply r = {.status = status, .content_type = "application/json"};
    r.body = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return r;
}

static api_reply error_reply(int status, const char *code, const char *message) {
    return reply_json(status, json_pack("{s:s, s:s}", "error", code, "message", message));
}

static json_t *member_json(const shoal_node *node, const swim_member *m, int64_t now) {
    char addr[32];
    shoal_addr_format(m->addr, addr, sizeof addr);
    return json_pack("{s:s, s:s, s:I, s:b, s:s, s:I, s:I, s:s, s:s, s:I, s:b}",
                     "node_name", m->name, "state", swim_state_name(m->state),
                     "incarnation", (json_int_t)m->incarnation,
                     "temporary_node", m->meta.node_type == WIRE_NODE_TEMPORARY,
                     "version", m->meta.version, "weight", (json_int_t)m->meta.weight,
                     "load", (json_int_t)m->meta.load, "address", addr,
                     "public_signaling_url", m->meta.url,
                     "state_age_ms", (json_int_t)(now - m->state_change_ms),
                     "self", strcmp(m->name, node->cfg.node_name) == 0);
}

static api_reply list_cluster_nodes(shoal_node *node, json_t *req) {
    json_t *opt = json_object_get(req, "include_all_known_nodes");
    if (opt != NULL && !json_is_boolean(opt))
        return error_reply(400, "INVALID-PARAMETER", "include_all_known_nodes must be a boolean");
    bool all = opt == NULL || json_is_true(opt);
    json_t *arr = json_array();
    int64_t now = gossip_now_ms();
    for (uint32_t i = 0; i < swim_member_count(node->core); i++) {
        const swim_member *m = swim_member_at(node->core, i);
        if (!all && m->state >= SWIM_DEAD) continue;
        json_array_append_new(arr, member_json(node, m, now));
    }
    return reply_json(200, arr);
}

api_reply actions_post(shoal_node *node, const char *target, const char *body, size_t len) {
    json_error_t jerr;
    json_t *req = len == 0 ? json_object() : json_loadb(body, len, 0, &jerr);
    if (req == NULL || !json_is_object(req)) {
        char msg[256];
        snprintf(msg, sizeof msg, "the body must be a JSON object: %s", req ? "not an object" : jerr.text);
        json_decref(req);
        return error_reply(400, "INVALID-JSON", msg);
    }
    api_reply r;
    if (target == NULL || target[0] == '\0')
        r = error_reply(400, "MISSING-TARGET", "set the header x-shoal-target to an action");
    else if (strcmp(target, "ListClusterNodes") == 0)
        r = list_cluster_nodes(node, req);
    else {
        char msg[256];
        snprintf(msg, sizeof msg, "unknown action '%.64s'; this build knows ListClusterNodes", target);
        r = error_reply(400, "UNKNOWN-ACTION", msg);
    }
    json_decref(req);
    return r;
}

/* Part of a cluster: another live member, or a one-node cluster by config. */
static const char *not_ok_reason(const shoal_node *node) {
    if (node->leaving) return "NODE-LEAVING: the node is shutting down";
    bool alone_by_config = true;
    for (uint32_t i = 0; i < node->cfg.ncontacts; i++)
        if (strcmp(node->cfg.contacts[i], node->cfg.node_name) != 0) alone_by_config = false;
    if (!alone_by_config && swim_live_count(node->core) < 2)
        return "CLUSTER-NOT-JOINED: no other member reached yet";
    return NULL;
}

static api_reply metrics(shoal_node *node) {
    const swim_stats *st = swim_get_stats(node->core);
    uint32_t by_state[4] = {0};
    for (uint32_t i = 0; i < swim_member_count(node->core); i++)
        by_state[swim_member_at(node->core, i)->state]++;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fprintf(f, "# TYPE shoal_gossip_members gauge\n");
    for (int s = 0; s < 4; s++)
        fprintf(f, "shoal_gossip_members{state=\"%s\"} %u\n", swim_state_name((swim_state)s), by_state[s]);
#define COUNTER(name, v) fprintf(f, "# TYPE shoal_gossip_" name " counter\nshoal_gossip_" name " %llu\n", (unsigned long long)(v))
    COUNTER("packets_in_total", st->packets_in);
    COUNTER("packets_out_total", st->packets_out);
    COUNTER("bytes_in_total", st->bytes_in);
    COUNTER("bytes_out_total", st->bytes_out);
    COUNTER("streams_in_total", st->streams_in);
    COUNTER("streams_out_total", st->streams_out);
    COUNTER("bad_packets_total", st->bad_packets);
    COUNTER("foreign_packets_total", st->foreign_packets);
    COUNTER("probes_total", st->probes);
    COUNTER("probe_failures_total", st->probe_failures);
    COUNTER("refutes_total", st->refutes);
    COUNTER("send_errors_total", node->gio.send_errors);
    COUNTER("bad_frames_total", node->gio.bad_frames);
    COUNTER("refused_connections_total", node->gio.refused_conns);
#undef COUNTER
    fprintf(f, "# TYPE shoal_gossip_health_score gauge\nshoal_gossip_health_score %d\n",
            swim_health_score(node->core));
    fclose(f);
    return (api_reply){.status = 200, .body = buf, .content_type = "text/plain; version=0.0.4"};
}

api_reply actions_get(shoal_node *node, const char *path) {
    if (strcmp(path, "/.ok") == 0) {
        const char *why = not_ok_reason(node);
        if (why == NULL) return reply_json(200, json_pack("{s:s}", "status", "ok"));
        char code[64];
        snprintf(code, sizeof code, "%.*s", (int)(strchr(why, ':') - why), why);
        return error_reply(503, code, strchr(why, ':') + 2);
    }
    if (strcmp(path, "/metrics") == 0) return metrics(node);
    return error_reply(404, "NOT-FOUND", "GET /.ok, GET /metrics, or POST / with x-shoal-target");
}

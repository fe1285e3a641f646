/* actions.c - the API's actions over the node's state (see actions.h).
 *
 * POST / (x-shoal-target): ListClusterNodes, GetClusterStatus,
 * RegisterClusterNode, PurgeClusterNode, InitCluster, ChangeMode, GetMode,
 * ListChannels (the replicated channel table as this node knows it).
 * GET: /.ok (200 while this node serves: initialized cluster, in the roster
 * or temporary, majority lease, files writable, not leaving; otherwise 503
 * with the reason), /metrics. Roster changes answer once the change is
 * committed by a majority, or fail with the reason. */
#include "actions.h"
#include "list_channels.h"
#include "placement_io.h"

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

/* ---- error codes: gossip/outcome.h's one table ------------------------------- */

static api_reply outcome_reply(shoal_outcome o) {
    return error_reply(shoal_outcome_http(o), shoal_outcome_name(o), shoal_outcome_message(o));
}

/* A roster change's error, named by the cluster or Raft core. */
static api_reply code_reply(const char *code) {
    shoal_outcome o;
    if (shoal_outcome_parse(code, &o)) return outcome_reply(o);
    return error_reply(500, code, "roster change failed");
}

static json_t *roster_names(const raft_roster *ro) {
    json_t *a = json_array();
    for (uint32_t i = 0; i < ro->n; i++) json_array_append_new(a, json_string(ro->names[i]));
    return a;
}

api_reply actions_proposal_reply(shoal_node *node, const char *error) {
    if (error[0] != '\0') return code_reply(error);
    const raft_roster *ro = raft_committed_roster(ccore_raft(ncore_cluster(node->ctx.nc)));
    return reply_json(200, json_pack("{s:b, s:o}", "ok", 1, "roster", roster_names(ro)));
}

/* ---- actions ------------------------------------------------------------ */

static json_t *member_json(const shoal_node *node, const swim_member *m, int64_t now) {
    char addr[32];
    shoal_addr_format(m->addr, addr, sizeof addr);
    return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:I, s:s, s:I, s:I, s:s, s:s, s:I, s:b}",
                     "node_name", m->name, "state", swim_state_name(m->state),
                     "mode", wire_mode_name(m->meta.mode),
                     "connected", m->state == SWIM_ALIVE,
                     "temporary_node", m->meta.node_type == WIRE_NODE_TEMPORARY,
                     "roster_member", ccore_is_member(ncore_cluster(node->ctx.nc), m->name),
                     "incarnation", (json_int_t)m->incarnation, "version", m->meta.version,
                     "weight", (json_int_t)m->meta.weight, "load", (json_int_t)m->meta.load,
                     "address", addr, "public_signaling_url", m->meta.url,
                     "state_age_ms", (json_int_t)(now - m->state_change_ms),
                     "self", strcmp(m->name, node->ctx.cfg.node_name) == 0);
}

static api_reply list_cluster_nodes(shoal_node *node, json_t *req) {
    json_t *opt = json_object_get(req, "include_all_known_nodes");
    if (opt != NULL && !json_is_boolean(opt))
        return error_reply(400, "INVALID-PARAMETER", "include_all_known_nodes must be a boolean");
    bool all = opt == NULL || json_is_true(opt);
    json_t *arr = json_array();
    int64_t now = node_now_ms();
    for (uint32_t i = 0; i < swim_member_count(ncore_swim(node->ctx.nc)); i++) {
        const swim_member *m = swim_member_at(ncore_swim(node->ctx.nc), i);
        /* false: leave out regular nodes that are down */
        if (!all && m->state >= SWIM_DEAD && m->meta.node_type == WIRE_NODE_REGULAR) continue;
        json_array_append_new(arr, member_json(node, m, now));
    }
    return reply_json(200, arr);
}

static const char *ROLE_NAMES[] = {"follower", "precandidate", "candidate", "leader"};

static api_reply get_cluster_status(shoal_node *node) {
    const cluster_core *c = ncore_cluster(node->ctx.nc);
    const raft *r = ccore_raft(c);
    const raft_roster *ro = raft_committed_roster(r);
    int64_t now = node_now_ms();
    int64_t exp = lease_expires(ccore_lease(c), now);
    char id[32];
    snprintf(id, sizeof id, "%016llx", (unsigned long long)ro->cluster_id);
    const char *leader = raft_leader(r);
    const char *reason = ccore_serving(c) ? NULL : shoal_outcome_name(ccore_reason(c));
    json_t *lease_doc = json_pack("{s:b, s:I}", "valid", exp > now,
                              "expires_in_ms", (json_int_t)(exp == INT64_MAX ? -1 : (exp > now ? exp - now : 0)));
    return reply_json(200, json_pack(
        "{s:s, s:s?, s:b, s:b, s:b, s:s?, s:o, s:s?, s:s, s:s, s:o, s:b, s:b, s:I, s:I, s:s, s:b, s:b, s:s?}",
        "cluster_name", node->ctx.cfg.cluster_name, "cluster_id", ro->cluster_id ? id : NULL,
        "initialized", ro->cluster_id != 0, "majority", ccore_majority(c), "serving", ccore_serving(c),
        "reason", reason, "roster", roster_names(ro), "leader", leader[0] ? leader : NULL,
        "mode", wire_mode_name(ccore_mode(c)), "effective_mode", wire_mode_name(ccore_effective_mode(c)),
        "lease", lease_doc, "member", ccore_is_member(c, node->ctx.cfg.node_name),
        "temporary_node", node->ctx.cfg.temporary, "term", (json_int_t)raft_term(r),
        "commit_index", (json_int_t)raft_commit_index(r), "raft_role", ROLE_NAMES[raft_get_role(r)],
        "leader_alive", raft_leader_alive(r),
        "files_ok", ccore_files_ok(c),
        "files_error", ccore_files_ok(c) ? NULL : ccore_files_error(c)));
}

static api_reply pending_or(shoal_node *node, const char *err, uint64_t id) {
    if (err != NULL) return code_reply(err);
    if (id == 0) return actions_proposal_reply(node, ""); /* nothing to wait for */
    return (api_reply){.status = 0, .pending_id = id};
}

static const char *string_field(json_t *req, const char *key) {
    json_t *v = json_object_get(req, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static api_reply register_node(shoal_node *node, json_t *req) {
    const char *contact = string_field(req, "contact_node_name");
    if (json_object_get(req, "contact_node_name") && contact == NULL)
        return error_reply(400, "INVALID-PARAMETER", "contact_node_name must be a string");
    uint64_t id = 0;
    const char *err = ncore_register(node->ctx.nc, node_now_ms(), contact, &id);
    return pending_or(node, err, id);
}

static api_reply purge_node(shoal_node *node, json_t *req) {
    const char *target = string_field(req, "target_node_name");
    if (target == NULL)
        return error_reply(400, "INVALID-PARAMETER", "target_node_name (a node name) is required");
    uint64_t id = 0;
    const char *err = ncore_purge(node->ctx.nc, node_now_ms(), target, &id);
    return pending_or(node, err, id);
}

static api_reply init_cluster(shoal_node *node, json_t *req) {
    json_t *list = json_object_get(req, "node_name_list");
    size_t n = json_is_array(list) ? json_array_size(list) : 0;
    if (n == 0 || n > RAFT_MAX_MEMBERS)
        return error_reply(400, "INVALID-PARAMETER", "node_name_list: an array of 1 to 32 node names");
    char (*names)[WIRE_NAME_MAX + 1] = calloc(n, sizeof *names);
    if (names == NULL) return error_reply(500, "OUT-OF-MEMORY", "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(list, i));
        if (s == NULL || strlen(s) > WIRE_NAME_MAX) {
            free(names);
            return error_reply(400, "INVALID-PARAMETER", "node_name_list must hold node names");
        }
        snprintf(names[i], WIRE_NAME_MAX + 1, "%s", s);
    }
    uint64_t id = 0;
    const char *err = ncore_init(node->ctx.nc, node_now_ms(), (const char(*)[WIRE_NAME_MAX + 1])names, (uint32_t)n, &id);
    free(names);
    return pending_or(node, err, id);
}

static api_reply mode_reply(shoal_node *node) {
    return reply_json(200, json_pack("{s:s, s:s}", "mode", wire_mode_name(ccore_mode(ncore_cluster(node->ctx.nc))), "effective_mode",
                                     wire_mode_name(ccore_effective_mode(ncore_cluster(node->ctx.nc)))));
}

static api_reply change_mode(shoal_node *node, json_t *req) {
    const char *mode = string_field(req, "mode");
    int m = mode ? wire_mode_parse(mode) : -1;
    if (m < 0)
        return error_reply(400, "INVALID-PARAMETER",
                           "mode must be normal, block_new_session or block_new_connection");
    if ((uint8_t)m != ccore_mode(ncore_cluster(node->ctx.nc)))
        shoal_log_event(&node->ctx.log, "mode_changed", json_pack("{s:s}", "mode", wire_mode_name((uint8_t)m)));
    ncore_set_mode(node->ctx.nc, node_now_ms(), (uint8_t)m);
    return mode_reply(node);
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
    else if (strcmp(target, "ListClusterNodes") == 0) r = list_cluster_nodes(node, req);
    else if (strcmp(target, "GetClusterStatus") == 0) r = get_cluster_status(node);
    else if (strcmp(target, "RegisterClusterNode") == 0) r = register_node(node, req);
    else if (strcmp(target, "PurgeClusterNode") == 0) r = purge_node(node, req);
    else if (strcmp(target, "InitCluster") == 0) r = init_cluster(node, req);
    else if (strcmp(target, "ChangeMode") == 0) r = change_mode(node, req);
    else if (strcmp(target, "GetMode") == 0) r = mode_reply(node);
    else if (strcmp(target, "ListChannels") == 0) r = reply_json(200, list_channels_json(ncore_table(node->ctx.nc)));
    else {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "unknown action '%.64s'; known: ListClusterNodes, GetClusterStatus, RegisterClusterNode, "
                 "PurgeClusterNode, InitCluster, ChangeMode, GetMode, ListChannels",
                 target);
        r = error_reply(400, "UNKNOWN-ACTION", msg);
    }
    json_decref(req);
    return r;
}

/* ---- GET ---------------------------------------------------------------- */

static api_reply metrics(shoal_node *node) {
    const swim_stats *st = swim_get_stats(ncore_swim(node->ctx.nc));
    uint32_t by_state[4] = {0};
    for (uint32_t i = 0; i < swim_member_count(ncore_swim(node->ctx.nc)); i++)
        by_state[swim_member_at(ncore_swim(node->ctx.nc), i)->state]++;
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
    COUNTER("send_errors_total", node->cio.send_errors);
    COUNTER("bad_frames_total", node->cio.bad_frames);
    COUNTER("refused_connections_total", node->cio.refused_conns);
#undef COUNTER
    const cluster_core *c = ncore_cluster(node->ctx.nc);
    fprintf(f, "# TYPE shoal_gossip_health_score gauge\nshoal_gossip_health_score %d\n",
            swim_health_score(ncore_swim(node->ctx.nc)));
    fprintf(f, "# TYPE shoal_gossip_queued_updates gauge\nshoal_gossip_queued_updates %u\n",
            swim_queued_updates(ncore_swim(node->ctx.nc)));
    fprintf(f, "# TYPE shoal_cluster_serving gauge\nshoal_cluster_serving %d\n", ccore_serving(c));
    fprintf(f, "# TYPE shoal_cluster_majority gauge\nshoal_cluster_majority %d\n", ccore_majority(c));
    fprintf(f, "# TYPE shoal_cluster_roster_size gauge\nshoal_cluster_roster_size %u\n",
            raft_committed_roster(ccore_raft(c))->n);
    fprintf(f, "# TYPE shoal_cluster_raft_term gauge\nshoal_cluster_raft_term %llu\n",
            (unsigned long long)raft_term(ccore_raft(c)));
    fprintf(f, "# TYPE shoal_channel_table_channels gauge\nshoal_channel_table_channels %u\n",
            chtable_size(ncore_table(node->ctx.nc)));
    fprintf(f, "# TYPE shoal_channel_table_holders gauge\nshoal_channel_table_holders %u\n",
            chtable_holders_known(ncore_table(node->ctx.nc)));
    fprintf(f, "# TYPE shoal_channel_table_dropped_total counter\nshoal_channel_table_dropped_total %llu\n",
            (unsigned long long)ncore_stats_of(node->ctx.nc)->table_from_strangers);
    fprintf(f, "# TYPE shoal_claims_held gauge\nshoal_claims_held %u\n", claims_held_count(ncore_claims(node->ctx.nc)));
    fprintf(f, "# TYPE shoal_claims_records gauge\nshoal_claims_records %u\n", claims_record_count(ncore_claims(node->ctx.nc)));
    fprintf(f, "# TYPE shoal_fd_limit gauge\nshoal_fd_limit %llu\n", (unsigned long long)node->ctx.fdl.limit);
    fprintf(f, "# TYPE shoal_accept_refused_total counter\nshoal_accept_refused_total %llu\n",
            (unsigned long long)node->ctx.accept_refused);
    signaling_metrics(&node->sig, f);
    media_io_metrics(&node->media, f);
    fclose(f);
    return (api_reply){.status = 200, .body = buf, .content_type = "text/plain; version=0.0.4"};
}

api_reply actions_get(shoal_node *node, const char *path) {
    if (strcmp(path, "/.ok") == 0) {
        shoal_outcome why = ccore_reason_now(ncore_cluster(node->ctx.nc), node_now_ms());
        if (why == SHOAL_OK)
            return reply_json(200, json_pack("{s:s, s:s}", "status", "ok", "mode",
                                             wire_mode_name(ccore_effective_mode(ncore_cluster(node->ctx.nc)))));
        return outcome_reply(why);
    }
    if (strcmp(path, "/metrics") == 0) return metrics(node);
    if (strcmp(path, "/debug/ring") == 0) return reply_json(200, placement_ring_json(&node->ctx));
    return error_reply(404, "NOT-FOUND", "GET /.ok, GET /metrics, GET /debug/ring, or POST / with x-shoal-target");
}

/* placement_io.c - the placement ring of a running node (see .h). */
#include "placement_io.h"

#include <stdio.h>

#include "node_ctx.h"

void placement_log_ring(node_ctx *node) {
    const view_ring *v = ncore_ring(node->nc);
    const ring *r = &v->r;
    json_t *names = json_array();
    for (uint32_t i = 0; i < r->nnodes; i++) json_array_append_new(names, json_string(r->nodes[i].name));
    char sum[32];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)r->checksum);
    shoal_log_event(&node->log, "ring_changed",
                    json_pack("{s:I, s:s, s:o}", "version", (json_int_t)v->version, "checksum", sum,
                              "nodes", names));
}

json_t *placement_ring_json(node_ctx *node) {
    const view_ring *v = ncore_ring(node->nc); /* the loads read now */
    const ring *r = &v->r;
    double eps = node->cfg.bounded_load_epsilon;
    json_t *nodes = json_array();
    for (uint32_t i = 0; i < swim_member_count(ncore_swim(node->nc)); i++) {
        const swim_member *m = swim_member_at(ncore_swim(node->nc), i);
        if (m->state == SWIM_DEAD || m->state == SWIM_LEFT) continue;
        int k = ring_find(r, m->name);
        json_t *o = json_pack("{s:s, s:I, s:I, s:f, s:I, s:b, s:s, s:I}", "node_name", m->name, "weight",
                              (json_int_t)m->meta.weight, "vnodes", (json_int_t)(k >= 0 ? r->nodes[k].vnodes : 0),
                              "share", k >= 0 ? (double)r->nodes[k].arc / 18446744073709551616.0 : 0.0, "load",
                              (json_int_t)m->meta.load, "serving", k >= 0, "mode", wire_mode_name(m->meta.mode),
                              "channels", (json_int_t)chtable_count_of(ncore_table(node->nc), m->name));
        json_object_set_new(o, "cap", k >= 0 ? json_integer(ring_cap(r, (uint32_t)k, v->total_load, eps)) : json_null());
        json_array_append_new(nodes, o);
    }
    char sum[32];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)r->checksum);
    return json_pack("{s:I, s:s, s:I, s:I, s:f, s:I, s:o}", "version", (json_int_t)v->version, "checksum", sum,
                     "points", (json_int_t)r->npoints, "total_load", (json_int_t)v->total_load, "epsilon", eps,
                     "channel_table_size", (json_int_t)chtable_size(ncore_table(node->nc)), "nodes", nodes);
}

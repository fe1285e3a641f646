/* vnet.c - virtual network for driving swim cores in tests (see vnet.h). */
#include "vnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

void vnet_init(vnet *v, uint64_t seed) {
    memset(v, 0, sizeof *v);
    shoal_rng_seed(&v->rng, seed);
    v->delay_ms = 1;
    v->now = 1000;
    swim_config_default(&v->base);
    snprintf(v->base.cluster_name, sizeof v->base.cluster_name, "test");
}

void vnet_free(vnet *v) {
    for (int i = 0; i < v->n; i++) swim_free(v->nodes[i].s);
    for (uint32_t i = 0; i < v->qlen; i++) free(v->q[i].data);
    free(v->q);
    free(v->log);
}

static swim *make_core(vnet *v, int i) {
    swim_config c = v->base;
    snprintf(c.node_name, sizeof c.node_name, "%s", v->nodes[i].name);
    c.addr = v->nodes[i].addr;
    swim_contact contact;
    if (i != 0) {
        snprintf(contact.name, sizeof contact.name, "%s", v->nodes[0].name);
        contact.addr = v->nodes[0].addr;
        c.contacts = &contact;
        c.ncontacts = 1;
    }
    return swim_new(&c, shoal_rng_next(&v->rng), v->now);
}

int vnet_add(vnet *v) {
    int i = v->n++;
    vnet_node *nd = &v->nodes[i];
    snprintf(nd->name, sizeof nd->name, "node%d@10.0.0.%d", i, i + 1);
    nd->addr.ip = (10u << 24) | (uint32_t)(i + 1);
    nd->addr.port = 49010;
    nd->up = true;
    nd->s = make_core(v, i);
    return i;
}

static int node_by_addr(vnet *v, shoal_addr a) {
    for (int i = 0; i < v->n; i++)
        if (shoal_addr_eq(v->nodes[i].addr, a)) return i;
    return -1;
}

static void enqueue(vnet *v, int src, int dst, const core_out *o, bool stream, uint64_t conn) {
    if (!array_grow(&v->q, &v->qcap, (size_t)v->qlen + 1, sizeof *v->q)) abort();
    vnet_pkt *p = &v->q[v->qlen++];
    p->at = v->now + v->delay_ms;
    p->seq = v->seq++;
    p->src = src;
    p->dst = dst;
    p->stream = stream;
    p->conn_id = conn;
    p->len = o->len;
    p->data = malloc(o->len);
    memcpy(p->data, o->data, o->len);
}

static void drain(vnet *v, int i) {
    swim *s = v->nodes[i].s;
    uint32_t n;
    const swim_event *ev = swim_events(s, &n);
    for (uint32_t k = 0; k < n; k++) {
        if (!array_grow(&v->log, &v->logcap, (size_t)v->loglen + 1, sizeof *v->log)) abort();
        v->log[v->loglen].node = i;
        v->log[v->loglen].ev = ev[k];
        v->loglen++;
    }
    swim_events_clear(s);
    const core_out *o = outbox_items(swim_outbox(s), &n);
    for (uint32_t k = 0; k < n; k++) {
        int dst = node_by_addr(v, o[k].addr);
        if (dst < 0) continue;
        if (o[k].kind == SWIM_OUT_PACKET) {
            enqueue(v, i, dst, &o[k], false, 0);
        } else if (o[k].conn_id == 0) {
            /* A new stream: the request carries a connection id, strip the
             * length prefix on delivery. */
            enqueue(v, i, dst, &o[k], true, v->seq + 1);
        } else {
            enqueue(v, i, dst, &o[k], true, 0); /* reply to the opener */
        }
    }
    outbox_clear(swim_outbox(s));
}

static bool dropped(vnet *v, const vnet_pkt *p) {
    if (!v->nodes[p->dst].up || !v->nodes[p->src].up) return true;
    if (v->cut[p->src][p->dst]) return true;
    if (p->stream) return false; /* TCP retransmits: loss only delays it */
    return v->loss > 0 && (double)(shoal_rng_next(&v->rng) >> 11) / 9007199254740992.0 < v->loss;
}

static void deliver(vnet *v, vnet_pkt *p) {
    vnet_node *d = &v->nodes[p->dst];
    if (p->stream) {
        const uint8_t *payload = p->data + 4;
        uint32_t plen = p->len - 4;
        swim_recv_stream(d->s, v->now, v->nodes[p->src].addr, p->conn_id, payload, plen);
        /* The reply, if any, goes back on the same "connection". */
    } else {
        swim_recv_packet(d->s, v->now, v->nodes[p->src].addr, p->data, p->len);
    }
    drain(v, p->dst);
}

/* Index of the earliest deliverable packet (paused destinations wait). */
static int earliest(vnet *v) {
    int best = -1;
    for (uint32_t i = 0; i < v->qlen; i++) {
        vnet_pkt *p = &v->q[i];
        if (v->nodes[p->dst].paused && v->nodes[p->dst].up) continue;
        if (best < 0 || p->at < v->q[best].at || (p->at == v->q[best].at && p->seq < v->q[best].seq))
            best = (int)i;
    }
    return best;
}

void vnet_run(vnet *v, int64_t duration) {
    int64_t end = v->now + duration;
    for (;;) {
        int64_t next = end;
        int pi = earliest(v);
        if (pi >= 0 && v->q[pi].at < next) next = v->q[pi].at;
        for (int i = 0; i < v->n; i++) {
            if (!v->nodes[i].up || v->nodes[i].paused) continue;
            int64_t d = swim_next_deadline(v->nodes[i].s);
            if (d < next) next = d;
        }
        if (next < v->now) next = v->now;
        if (next >= end) {
            v->now = end;
            return;
        }
        v->now = next;
        if (pi >= 0 && v->q[pi].at <= v->now) {
            vnet_pkt p = v->q[pi];
            v->q[pi] = v->q[--v->qlen];
            if (!dropped(v, &p)) deliver(v, &p);
            free(p.data);
            continue;
        }
        for (int i = 0; i < v->n; i++) {
            vnet_node *nd = &v->nodes[i];
            if (!nd->up || nd->paused || swim_next_deadline(nd->s) > v->now) continue;
            swim_tick(nd->s, v->now);
            nd->ticks++;
            drain(v, i);
        }
    }
}

void vnet_kill(vnet *v, int i) { v->nodes[i].up = false; }

void vnet_restart(vnet *v, int i) {
    swim_free(v->nodes[i].s);
    v->nodes[i].s = make_core(v, i);
    v->nodes[i].up = true;
    v->nodes[i].paused = false;
    drain(v, i);
}

void vnet_pause(vnet *v, int i, bool paused) { v->nodes[i].paused = paused; }

int vnet_state(vnet *v, int viewer, int of) {
    const swim_member *m = swim_find(v->nodes[viewer].s, v->nodes[of].name);
    return m ? (int)m->state : -1;
}

int vnet_count_state(vnet *v, int of, swim_state st) {
    int c = 0;
    for (int i = 0; i < v->n; i++)
        if (i != of && v->nodes[i].up && vnet_state(v, i, of) == (int)st) c++;
    return c;
}

int vnet_count_events(vnet *v, swim_event_type t, int of) {
    int c = 0;
    for (uint32_t i = 0; i < v->loglen; i++)
        if (v->log[i].ev.type == t && strcmp(v->log[i].ev.name, v->nodes[of].name) == 0) c++;
    return c;
}

/* sim.c - one run: the world, the scenario's actions, the event loop. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define BASE_DELAY_US 150
#define BASE_JITTER_US 600

uint32_t sim_rand(sim *s, uint32_t n) { return n ? shoal_rng_below(&s->rng, n) : 0; }

int sim_node_of(const sim *s, const char *name) {
    if (name[0] != 'n') return -1;
    int i = atoi(name + 1) - 1;
    return i >= 0 && i < s->n && strcmp(s->nodes[i].name, name) == 0 ? i : -1;
}

void sim_trace(sim *s, const char *fmt, ...) {
    if (s->trace == NULL) return;
    fprintf(s->trace, "%10.3f ", (double)s->now / 1000.0);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(s->trace, fmt, ap);
    va_end(ap);
    fputc('\n', s->trace);
}

static const char *const ACT_NAMES[] = {"partition", "one-way cut", "heal", "loss", "net", "crash", "restart",
                                        "restart with an empty disk", "pause", "clock", "disk", "leave", "purge",
                                        "register", "init", "mode", "stable"};

/* Cuts and loss above the false-death bound excuse a death for a window. */
static void touch(int64_t *until, bool on, int64_t now) {
    if (on) *until = INT64_MAX;
    else if (*until == INT64_MAX) *until = now;
}

static bool any_cut(const sim *s, int i) {
    for (int j = 0; j < s->n; j++)
        if (s->cut[i * s->n + j] || s->cut[j * s->n + i]) return true;
    return false;
}

static void cuts_changed(sim *s) {
    for (int i = 0; i < s->n; i++) touch(&s->nodes[i].cut_until, any_cut(s, i), s->now);
}

static void set_loss(sim *s, int a, int permille) {
    for (int i = 0; i < s->n; i++)
        for (int j = 0; j < s->n; j++)
            if (a < 0 || i == a || j == a) s->loss[i * s->n + j] = (uint16_t)permille;
    for (int i = 0; i < s->n; i++) {
        int worst = 0;
        for (int j = 0; j < s->n; j++) {
            if (s->loss[i * s->n + j] > worst) worst = s->loss[i * s->n + j];
            if (s->loss[j * s->n + i] > worst) worst = s->loss[j * s->n + i];
        }
        touch(&s->nodes[i].loss_until, worst > s->sc->fp_loss_permille, s->now);
    }
}

/* After a fault that may cut nodes off (partition, one-way cut, crash,
 * leave): the serving nodes that can no longer exchange datagrams both ways
 * with a majority of their roster must stop serving; time how long until
 * the last of them has. */
static bool cut_off(const sim *s, int i) {
    const sim_node *nd = &s->nodes[i];
    const raft_roster *ro = raft_committed_roster(ccore_raft(nd->core));
    uint32_t reach = 0;
    for (uint32_t k = 0; k < ro->n; k++) {
        int j = sim_node_of(s, ro->names[k]);
        if (j < 0) continue;
        if (j == i || (s->nodes[j].up && !s->cut[i * s->n + j] && !s->cut[j * s->n + i])) reach++;
    }
    return reach < ro->n / 2 + 1;
}

static void start_block_measure(sim *s) {
    bool any = false;
    for (int i = 0; i < s->n; i++) {
        const sim_node *nd = &s->nodes[i];
        s->minority[i] = nd->up && !nd->paused && nd->serving && cut_off(s, i);
        any |= s->minority[i];
    }
    if (!any) return;
    s->measuring_block = true;
    s->partition_at = s->now;
}

static void apply(sim *s, const sim_action *a) {
    sim_node *na = a->a >= 0 && a->a < s->n ? &s->nodes[a->a] : NULL;
    sim_node *nb = a->b >= 0 && a->b < s->n ? &s->nodes[a->b] : NULL;
    if (s->trace && a->type == ACT_PARTITION) {
        char g[SIM_MAX_NODES * 8];
        size_t o = 0;
        for (int grp = 0; grp < 256 && o < sizeof g - 16; grp++) {
            bool first = true;
            for (int i = 0; i < s->n && o < sizeof g - 16; i++)
                if (a->groups[i] == grp) {
                    o += (size_t)snprintf(g + o, sizeof g - o, "%s%sn%d", first && o ? " | " : "", first ? "" : ",", i + 1);
                    first = false;
                }
        }
        sim_trace(s, "ACTION partition %s", g);
    } else if (a->type == ACT_HEAL || a->type == ACT_STABLE) {
        sim_trace(s, "ACTION %s", ACT_NAMES[a->type]);
    } else if (a->type == ACT_LOSS) {
        if (a->a < 0) sim_trace(s, "ACTION loss %lld per mille on every link", (long long)a->value);
        else sim_trace(s, "ACTION loss %lld per mille on the links of n%d", (long long)a->value, a->a + 1);
    } else if (a->type == ACT_CUT_ONEWAY || a->type == ACT_PURGE || a->type == ACT_REGISTER) {
        sim_trace(s, "ACTION %s n%d n%d", ACT_NAMES[a->type], a->a + 1, a->b + 1);
    } else if (a->type == ACT_PAUSE || a->type == ACT_MODE) {
        sim_trace(s, "ACTION %s n%d %lld", ACT_NAMES[a->type], a->a + 1, (long long)a->value);
    } else if (a->type != ACT_CLOCK && a->type != ACT_NET && a->type != ACT_DISK && a->type != ACT_RESTART) {
        sim_trace(s, "ACTION %s n%d", ACT_NAMES[a->type], a->a + 1);
    }
    int64_t local = na && na->up ? node_local_ms(na, s->now) : 0;
    bool operable = na && na->up && !na->paused; /* the operator's API call needs a running node */
    uint64_t id = 0;
    const char *err = NULL;
    switch (a->type) {
    case ACT_PARTITION:
        for (int i = 0; i < s->n; i++)
            for (int j = 0; j < s->n; j++) s->cut[i * s->n + j] = a->groups[i] != a->groups[j];
        cuts_changed(s);
        break;
    case ACT_CUT_ONEWAY:
        if (na && nb) s->cut[a->a * s->n + a->b] = 1;
        cuts_changed(s);
        break;
    case ACT_HEAL:
        memset(s->cut, 0, (size_t)s->n * (size_t)s->n);
        cuts_changed(s);
        s->measuring_block = false;
        s->measuring_heal = true;
        s->heal_at = s->now;
        break;
    case ACT_LOSS:
        set_loss(s, a->a, (int)a->value);
        break;
    case ACT_NET:
        s->dup_permille = a->a;
        s->reorder_permille = a->b;
        s->jitter_us = a->value > 0 ? a->value : BASE_JITTER_US;
        if (a->a || a->b || a->value) sim_trace(s, "ACTION net dup %d reorder %d jitter %lld us", a->a, a->b, (long long)s->jitter_us);
        break;
    case ACT_CRASH:
        if (na) node_crash(s, na);
        break;
    case ACT_RESTART:
        if (na && !na->up) node_start(s, na, false);
        break;
    case ACT_WIPE_RESTART:
        if (na == NULL) break;
        node_crash(s, na);
        if (a->a < s->sc->regular) s->wiped_members++;
        node_start(s, na, true);
        break;
    case ACT_PAUSE:
        if (!operable) break;
        na->paused = true;
        na->pause_until = s->now + a->value * 1000;
        check_serving_changed(s, na->id);
        heap_push(&s->heap, (sim_event){.at = na->pause_until, .type = EV_RESUME, .node = (int16_t)na->id,
                                        .gen = na->gen});
        break;
    case ACT_CLOCK:
        if (na == NULL) break;
        { /* the clock keeps reading continuously; only its rate changes */
            int64_t before = s->now + s->now * na->rate_ppm / 1000000 + na->offset_us;
            na->rate_ppm = a->value;
            na->offset_us = before - (s->now + s->now * na->rate_ppm / 1000000);
        }
        if (s->now > 0) sim_trace(s, "ACTION clock n%d rate %+lld ppm", a->a + 1, (long long)a->value);
        break;
    case ACT_DISK:
        if (na && na->disk_fails != (a->value != 0)) {
            na->disk_fails = a->value != 0;
            sim_trace(s, "ACTION disk n%d %s", a->a + 1, na->disk_fails ? "fails writes" : "works");
        }
        break;
    case ACT_LEAVE:
        if (operable) node_leave(s, na);
        break;
    case ACT_PURGE:
        if (operable && nb) err = ncore_purge(na->nc, local, nb->name, &id);
        break;
    case ACT_REGISTER:
        if (operable) err = ncore_register(na->nc, local, nb ? nb->name : NULL, &id);
        break;
    case ACT_INIT:
        if (operable) {
            char names[SIM_MAX_NODES][WIRE_NAME_MAX + 1];
            uint32_t k = 0;
            for (int i = 0; i < s->n && k < RAFT_MAX_MEMBERS; i++)
                if (a->mask[i]) snprintf(names[k++], WIRE_NAME_MAX + 1, "%s", s->nodes[i].name);
            err = ncore_init(na->nc, local, (const char(*)[WIRE_NAME_MAX + 1])names, k, &id);
        }
        break;
    case ACT_MODE:
        if (operable) ncore_set_mode(na->nc, local, (uint8_t)a->value);
        break;
    case ACT_STABLE:
        s->stable_at = s->now;
        s->liveness_at = s->now + a->value * 1000;
        s->measuring_heal = true;
        s->heal_at = s->now;
        break;
    }
    /* Connectivity changed: time from this change. A measurement still
     * running is dropped, since a node's majority may now be made of other
     * members (its lease may rightly last from grants of both). */
    if (a->type == ACT_PARTITION || a->type == ACT_CUT_ONEWAY || a->type == ACT_CRASH || a->type == ACT_LEAVE ||
        a->type == ACT_RESTART || a->type == ACT_WIPE_RESTART) {
        s->measuring_block = false;
        if (a->type != ACT_RESTART && a->type != ACT_WIPE_RESTART) start_block_measure(s);
        if (s->measuring_block) check_serving_changed(s, -1);
    }
    if (a->type >= ACT_PURGE && a->type <= ACT_MODE && operable) {
        if (err) sim_trace(s, "n%d operator %s refused: %s", a->a + 1, ACT_NAMES[a->type], err);
        else if (id) sim_trace(s, "n%d operator %s: proposal %llu", a->a + 1, ACT_NAMES[a->type], (unsigned long long)id);
        node_after(s, na);
    }
}

static void world_init(sim *s, const scenario *sc, uint64_t seed, FILE *trace) {
    memset(s, 0, sizeof *s);
    s->sc = sc;
    s->seed = seed;
    s->n = sc->nodes;
    s->trace = trace;
    shoal_rng_seed(&s->rng, seed);
    s->base_delay_us = BASE_DELAY_US;
    s->jitter_us = BASE_JITTER_US;
    size_t nn = (size_t)s->n * (size_t)s->n;
    s->cut = calloc(nn, 1);
    s->loss = calloc(nn, sizeof *s->loss);
    s->nogrant_since = malloc(nn * sizeof *s->nogrant_since);
    s->last_deliv = malloc(nn * sizeof *s->last_deliv);
    if (!s->cut || !s->loss || !s->nogrant_since || !s->last_deliv) abort();
    for (size_t i = 0; i < nn; i++) {
        s->nogrant_since[i] = 0; /* nodes not started yet grant nothing */
        s->last_deliv[i] = INT64_MIN / 2;
    }
    lease_config lc;
    lease_config_default(&lc);
    /* A lease outlives the send time of its last grant by at most lease_ms
     * of its holder's clock (less the drift allowance): with clock rates
     * within the bound that is at most lease_ms of true time; 10 ms cover
     * the cores' millisecond rounding. */
    s->lease_true_us = (lc.lease_ms + 10) * 1000;
    s->stable_at = s->liveness_at = INT64_MAX;
    s->last_reject = INT64_MIN / 2;
    for (int i = 0; i < s->n; i++) {
        sim_node *nd = &s->nodes[i];
        nd->world = s;
        nd->id = i;
        nd->temporary = i >= sc->regular;
        nd->addr = (shoal_addr){0x0a000000u + (uint32_t)i + 1, SIM_PORT};
        snprintf(nd->name, sizeof nd->name, "n%d@10.%u.%u.%u", i + 1, (nd->addr.ip >> 16) & 255,
                 (nd->addr.ip >> 8) & 255, nd->addr.ip & 255);
        nd->timer_at = INT64_MAX;
        nd->offset_us = (int64_t)shoal_rng_below(&s->rng, 1000000) * 1000; /* clocks do not agree on the epoch */
        nd->inbox = malloc(SIM_PAUSE_BUFFER * sizeof *nd->inbox);
        if (nd->inbox == NULL) abort();
        nd->pause_end = nd->up_since = INT64_MIN / 2;
        nd->cut_until = nd->loss_until = INT64_MIN / 2;
    }
}

static void world_free(sim *s) {
    for (int i = 0; i < s->n; i++) {
        sim_node *nd = &s->nodes[i];
        if (nd->up) ncore_free(nd->nc);
        view_ring_free(&nd->ring);
        for (uint32_t k = 0; k < nd->ninbox; k++) free(nd->inbox[k].data);
        free(nd->inbox);
        free(nd->disk);
    }
    for (int i = 0; i < s->nhists; i++) free(s->hists[i].digest);
    free(s->hists);
    heap_free(&s->heap);
    free(s->cut);
    free(s->loss);
    free(s->nogrant_since);
    free(s->last_deliv);
    free(s->conns);
    free(s->clients);
}

bool sim_run(const scenario *sc, uint64_t seed, FILE *trace, sim_stats *stats, char *failure, size_t flen,
             int64_t *failed_at) {
    sim *s = malloc(sizeof *s);
    if (s == NULL) abort();
    world_init(s, sc, seed, trace);
    sim_trace(s, "scenario %s, %d nodes (%d regular), seed %llu", sc->name, sc->nodes, sc->regular,
              (unsigned long long)seed);
    for (int i = 0; i < sc->nacts; i++)
        heap_push(&s->heap, (sim_event){.at = sc->acts[i].at_ms * 1000, .type = EV_ACTION, .action = i});
    int64_t end = sc->duration_ms * 1000;
    heap_push(&s->heap, (sim_event){.at = end, .type = EV_END});
    clients_start(s);
    sim_event ev;
    while (!s->failed && heap_pop(&s->heap, &ev)) {
        if (ev.at >= s->liveness_at && s->liveness_at != INT64_MAX) {
            s->now = s->liveness_at;
            s->liveness_at = INT64_MAX;
            check_liveness(s);
            if (s->failed) {
                free(ev.data);
                break;
            }
        }
        s->now = ev.at;
        s->stats.events++;
        int touched = ev.node;
        switch (ev.type) {
        case EV_PACKET:
        case EV_STREAM_REQ:
        case EV_STREAM_REPLY:
            node_deliver(s, &ev);
            break;
        case EV_TIMER: {
            sim_node *nd = &s->nodes[ev.node];
            if (ev.gen != nd->timer_token) break; /* superseded */
            nd->timer_at = INT64_MAX;
            node_timer(s, nd);
            break;
        }
        case EV_RESUME:
            if (ev.gen == s->nodes[ev.node].gen) node_resume(s, &s->nodes[ev.node]);
            break;
        case EV_ACTION:
            apply(s, &sc->acts[ev.action]);
            touched = -1;
            break;
        case EV_END:
            touched = -1;
            break;
        case EV_CLIENT_NEW:
            client_new(s);
            touched = -1;
            break;
        case EV_CLIENT_AT:
            client_at(s, ev.action, ev.node);
            break;
        case EV_CLIENT_LEAVE:
            client_leave(s, ev.action);
            touched = -1;
            break;
        }
        if (ev.type == EV_END) break;
        check_after_event(s, touched);
    }
    for (int i = 0; i < s->n; i++) {
        s->stats.msgs += s->nodes[i].msgs_out;
        s->stats.bytes += s->nodes[i].bytes_out;
    }
    s->stats.node_seconds = (double)s->n * (double)(s->failed ? s->failed_at : end) / 1e6;
    bool ok = !s->failed;
    if (!ok) {
        snprintf(failure, flen, "%s", s->failure);
        *failed_at = s->failed_at;
    }
    sim_trace(s, "end: %s", ok ? "pass" : "FAIL");
    *stats = s->stats;
    world_free(s);
    free(s);
    return ok;
}

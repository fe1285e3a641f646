/* check.c - the invariants, judged after every event, and the figures of
 * the summary (blocking and heal times, false deaths).
 *
 *  1. No split brain. Placement (a later issue) hands a node's channels to
 *     another only once a majority of the roster has stopped granting that
 *     node's lease and the lease bound has passed since. So, until channels
 *     exist in the simulator, this is checked as its precondition: no node
 *     serves while a majority of its roster has stopped granting it (lists
 *     it dead or left, or is down) for longer than the lease bound.
 *  2. A node serves only when a majority of its roster (itself included)
 *     exchanged datagrams with it both ways within the lease bound.
 *  3. Committed roster entries form one history per cluster id: no two
 *     nodes ever commit different entries at one index, and a node that
 *     becomes leader holds every entry committed before (unless a majority
 *     of the roster lost its disk, which is what InitCluster is for).
 *  4. Liveness: a bounded time after the network became whole and stable,
 *     every running node serves (unless purged, leaving or its disk fails),
 *     all gossip views agree, and all committed rosters agree.
 *  5. False deaths: a node declared dead while it ran, was not paused, not
 *     cut and not restarted in the window before, is counted; with loss at
 *     or below the scenario's bound it fails the run.
 *  6. Admission: the node core admits a client only while its node serves
 *     and holds a valid claim on the client's channel (judged at the
 *     instant of the admission, through the node core's own decision). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define FP_WINDOW_US (12 * SIM_SECOND) /* longer than a probe + the longest suspicion */

void sim_fail(sim *s, const char *fmt, ...) {
    if (s->failed) return;
    s->failed = true;
    s->failed_at = s->now;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->failure, sizeof s->failure, fmt, ap);
    va_end(ap);
    sim_trace(s, "VIOLATION %s", s->failure);
}

/* ---- 1 and 2: serving ----------------------------------------------------------- */

static void check_serving(sim *s, int x) {
    sim_node *nd = &s->nodes[x];
    if (!nd->up || nd->paused) return; /* a stopped or stalled process admits nobody */
    int64_t local = node_local_ms(nd, s->now);
    if (ccore_reason_now(nd->core, local) != SHOAL_OK) return;
    const raft_roster *ro = raft_committed_roster(ccore_raft(nd->core));
    uint32_t need = ro->n / 2 + 1, stopped = 0, reachable = 0;
    int64_t since = s->now - s->lease_true_us;
    char who[256] = "";
    size_t o = 0;
    for (uint32_t i = 0; i < ro->n; i++) {
        int j = sim_node_of(s, ro->names[i]);
        if (j == x) {
            reachable++;
            continue;
        }
        if (j < 0) continue;
        if (s->nogrant_since[j * s->n + x] <= since) {
            stopped++;
            if (o < sizeof who - 8) o += (size_t)snprintf(who + o, sizeof who - o, " n%d", j + 1);
        }
        if (s->last_deliv[x * s->n + j] >= since && s->last_deliv[j * s->n + x] >= since) reachable++;
    }
    if (ro->n - stopped < need)
        sim_fail(s, "invariant 1 (split brain): n%d serves although %u of its %u roster members (%s) stopped "
                    "granting its lease more than %lld ms ago; placement may already have moved its channels",
                 x + 1, stopped, ro->n, who + 1, (long long)(s->lease_true_us / 1000));
    else if (reachable < need)
        sim_fail(s, "invariant 2 (majority): n%d serves with only %u of its %u roster members reachable both "
                    "ways in the last %lld ms",
                 x + 1, reachable, ro->n, (long long)(s->lease_true_us / 1000));
}

void check_node_down(sim *s, int node) {
    for (int j = 0; j < s->n; j++)
        if (s->nogrant_since[node * s->n + j] > s->now) s->nogrant_since[node * s->n + j] = s->now;
    check_serving_changed(s, node);
}

/* ---- 5: false deaths, and what the lease fence sees ---------------------------- */

void check_swim_event(sim *s, int at, const swim_event *ev) {
    int m = sim_node_of(s, ev->name);
    if (m < 0 || m == at) return;
    int64_t *ng = &s->nogrant_since[at * s->n + m];
    if (ev->type == SWIM_EV_DEAD || ev->type == SWIM_EV_LEFT) {
        if (*ng > s->now) *ng = s->now; /* cluster_core revokes: no more lease answers */
    } else if (ev->type == SWIM_EV_JOIN || ev->type == SWIM_EV_ALIVE) {
        *ng = INT64_MAX;
    }
    if (ev->type != SWIM_EV_DEAD) return;
    const sim_node *dead = &s->nodes[m], *acc = &s->nodes[at];
    int64_t w = s->now - FP_WINDOW_US;
    if (!dead->up || dead->paused || dead->leaving || dead->up_since > w || dead->pause_end > w ||
        acc->up_since > w || acc->pause_end > w || dead->cut_until > w || acc->cut_until > w)
        return;
    s->stats.false_deaths++;
    sim_trace(s, "false death: n%d declared n%d dead while it ran and was reachable", at + 1, m + 1);
    if (dead->loss_until <= w && acc->loss_until <= w)
        sim_fail(s, "invariant 5 (false death): n%d declared n%d dead while it ran, reachable with loss at or "
                    "below %d per mille",
                 at + 1, m + 1, s->sc->fp_loss_permille);
}

/* ---- blocking and heal times --------------------------------------------------- */

bool sim_node_eligible(const sim_node *nd) {
    return nd->up && !nd->paused && !nd->leaving && !nd->disk_fails && !ccore_purged(nd->core);
}

void check_serving_changed(sim *s, int node) {
    if (s->measuring_block) {
        bool all = true;
        for (int i = 0; i < s->n && all; i++)
            if (s->minority[i] && s->nodes[i].serving && s->nodes[i].up && !s->nodes[i].paused) all = false;
        if (all) {
            if (s->stats.nblock < 64) s->stats.block_ms[s->stats.nblock++] = (double)(s->now - s->partition_at) / 1000.0;
            s->measuring_block = false;
        }
    }
    (void)node;
}

static void check_heal(sim *s) {
    if (!s->measuring_heal) return;
    for (int i = 0; i < s->n; i++)
        if (sim_node_eligible(&s->nodes[i]) && !s->nodes[i].serving) return;
    if (s->stats.nheal < 64) s->stats.heal_ms[s->stats.nheal++] = (double)(s->now - s->heal_at) / 1000.0;
    s->measuring_heal = false;
}

/* ---- 3: one roster history ------------------------------------------------------ */

static uint64_t entry_digest(const raft_entry *e) {
    uint64_t h = 1469598103934665603ULL;
#define MIX(p, n)                                                                                                    \
    for (size_t k_ = 0; k_ < (n); k_++) h = (h ^ ((const uint8_t *)(p))[k_]) * 1099511628211ULL;
    MIX(&e->term, sizeof e->term);
    MIX(&e->kind, 1);
    MIX(e->subject, strlen(e->subject));
    MIX(&e->roster.cluster_id, sizeof e->roster.cluster_id);
    for (uint32_t i = 0; i < e->roster.n; i++) MIX(e->roster.names[i], strlen(e->roster.names[i]) + 1);
#undef MIX
    return h | 1; /* 0 means "not known yet" */
}

static struct hist *hist_of(sim *s, uint64_t cluster_id) {
    for (int i = 0; i < s->nhists; i++)
        if (s->hists[i].cluster_id == cluster_id) return &s->hists[i];
    if (!array_grow(&s->hists, &s->caphists, (size_t)s->nhists + 1, sizeof *s->hists)) abort();
    struct hist *h = &s->hists[s->nhists++];
    memset(h, 0, sizeof *h);
    h->cluster_id = cluster_id;
    return h;
}

static void hist_set(struct hist *h, uint64_t index, uint64_t d) {
    if (index > h->cap) {
        uint32_t old = h->cap;
        if (!array_grow(&h->digest, &h->cap, index, sizeof *h->digest)) abort();
        memset(h->digest + old, 0, (h->cap - old) * sizeof *h->digest);
    }
    h->digest[index - 1] = d;
    if (index > h->n) h->n = index;
}

void check_roster(sim *s, int x) {
    sim_node *nd = &s->nodes[x];
    if (!nd->up || s->failed) return;
    const raft *r = ccore_raft(nd->core);
    uint64_t ci = raft_commit_index(r);
    for (uint64_t i = nd->commit_checked + 1; i <= ci; i++) {
        const raft_entry *e = raft_entry_at(r, i);
        if (e->roster.cluster_id == 0) continue;
        struct hist *h = hist_of(s, e->roster.cluster_id);
        uint64_t d = entry_digest(e);
        if (i <= h->n && h->digest[i - 1] != 0 && h->digest[i - 1] != d) {
            sim_fail(s, "invariant 3 (roster history): n%d committed a different entry at index %llu of cluster "
                        "%016llx than another node",
                     x + 1, (unsigned long long)i, (unsigned long long)e->roster.cluster_id);
            return;
        }
        hist_set(h, i, d);
    }
    if (ci > nd->commit_checked) nd->commit_checked = ci;
    bool leader = raft_get_role(r) == RAFT_LEADER;
    if (leader && !nd->was_leader) {
        /* Leader completeness: a new leader holds every committed entry. */
        const raft_roster *ro = raft_committed_roster(r);
        struct hist *h = ro->cluster_id ? hist_of(s, ro->cluster_id) : NULL;
        bool amnesia = s->wiped_members > 0 && (uint32_t)s->wiped_members >= ro->n / 2 + 1;
        for (uint64_t i = 1; h != NULL && !amnesia && i <= h->n; i++) {
            if (h->digest[i - 1] == 0) continue;
            if (i > raft_last_index(r) || entry_digest(raft_entry_at(r, i)) != h->digest[i - 1]) {
                sim_fail(s, "invariant 3 (committed change lost): n%d became leader of cluster %016llx without "
                            "the committed entry at index %llu",
                         x + 1, (unsigned long long)ro->cluster_id, (unsigned long long)i);
                break;
            }
        }
    }
    nd->was_leader = leader;
}

/* ---- after every event ----------------------------------------------------------- */

/* 1, on channels: at no instant do two nodes admit into one channel (serve,
 * hold a valid claim and have its clients). */
void check_channels(sim *s) {
    for (int ch = 0; ch < SIM_CHANNELS && !s->failed; ch++) {
        int with_clients = 0;
        for (int i = 0; i < s->n && with_clients < 2; i++) with_clients += s->nodes[i].clients[ch] > 0;
        if (with_clients < 2) continue; /* one node cannot conflict with itself */
        int first = -1;
        char id[32];
        snprintf(id, sizeof id, "room-%02d", ch);
        for (int i = 0; i < s->n; i++) {
            sim_node *nd = &s->nodes[i];
            if (nd->clients[ch] == 0 || !nd->up || nd->paused) continue;
            int64_t local = node_local_ms(nd, s->now);
            if (ccore_reason_now(nd->core, local) != SHOAL_OK) continue;
            if (!claims_valid(nd->cl, local, ccore_lease(nd->core), raft_committed_roster(ccore_raft(nd->core)), id))
                continue;
            if (first < 0) {
                first = i;
                continue;
            }
            sim_fail(s, "invariant 1 (split brain): %s is served by n%d and n%d at once (both serve, hold a valid "
                        "claim and have its clients)",
                     id, first + 1, i + 1);
            return;
        }
    }
}

/* 6: at the instant the node core admits a client. */
void check_admission(sim *s, int x, int chan) {
    sim_node *nd = &s->nodes[x];
    int64_t local = node_local_ms(nd, s->now);
    char id[32];
    snprintf(id, sizeof id, "room-%02d", chan);
    shoal_outcome why = ccore_reason_now(nd->core, local);
    if (why != SHOAL_OK)
        sim_fail(s, "invariant 6 (admission): n%d admitted a client into %s while not serving (%s)", x + 1, id,
                 shoal_outcome_name(why));
    else if (!ncore_claim_valid(nd->nc, local, id))
        sim_fail(s, "invariant 6 (admission): n%d admitted a client into %s without a valid claim", x + 1, id);
}

void check_after_event(sim *s, int node) {
    if (s->failed) return;
    check_channels(s);
    if (node >= 0 && s->n > 16) check_serving(s, node);
    else
        for (int i = 0; i < s->n && !s->failed; i++) check_serving(s, i);
    check_heal(s);
}

/* ---- 4: liveness ------------------------------------------------------------------ */

/* Every channel has one owner all nodes agree on: each eligible node's
 * table names the node that serves it (held for 2 s at least, so that its
 * update had time to arrive), or nobody. */
static void check_table_agreement(sim *s) {
    for (int ch = 0; ch < SIM_CHANNELS && !s->failed; ch++) {
        char id[32];
        snprintf(id, sizeof id, "room-%02d", ch);
        int owner = -1;
        bool settled = s->now - s->chan_changed[ch] >= 2 * SIM_SECOND;
        for (int i = 0; i < s->n; i++) {
            sim_node *nd = &s->nodes[i];
            if (!nd->up || nd->clients[ch] == 0) continue;
            owner = i;
            if (s->now - nd->live_since[ch] < 2 * SIM_SECOND) settled = false;
        }
        if (!settled) continue;
        for (int i = 0; i < s->n && !s->failed; i++) {
            sim_node *nd = &s->nodes[i];
            if (!sim_node_eligible(nd)) continue;
            const char *h = chtable_holder(nd->table, id);
            const char *want = owner >= 0 ? s->nodes[owner].name : "";
            if (strcmp(h, want) != 0)
                sim_fail(s, "invariant 4 (one owner, agreed by all): n%d's table says %s is on %s, it is on %s", i + 1,
                         id, h[0] ? h : "no node", want[0] ? want : "no node");
        }
    }
}

/* Every serving node has the same placement ring: the serving nodes in
 * mode normal, and so every channel id maps to the same node everywhere
 * (the channel table, which keeps live channels where they are, comes with
 * signaling; until then the ring is what decides a channel's owner). */
static void check_ring_agreement(sim *s) {
    const sim_node *ref = NULL;
    uint32_t want = 0;
    for (int i = 0; i < s->n; i++) {
        sim_node *nd = &s->nodes[i];
        /* built here rather than after every event: with 100 nodes, each
         * node would rebuild its ring 100 times while the cluster forms */
        if (nd->up && view_ring_update(&nd->ring, nd->gossip))
            sim_trace(s, "n%d ring version %llu checksum %016llx, %u nodes", nd->id + 1,
                      (unsigned long long)nd->ring.version, (unsigned long long)nd->ring.r.checksum,
                      nd->ring.r.nnodes);
        if (nd->up && !nd->leaving && ccore_serving(nd->core) && ccore_effective_mode(nd->core) == WIRE_MODE_NORMAL)
            want++;
    }
    for (int i = 0; i < s->n && !s->failed; i++) {
        const sim_node *nd = &s->nodes[i];
        if (!sim_node_eligible(nd) || !ccore_serving(nd->core)) continue;
        if (nd->ring.r.nnodes != want) {
            const char *missing = "-"; /* a serving node this ring lacks, to start the replay from */
            for (int k = 0; k < s->n; k++) {
                const sim_node *o = &s->nodes[k];
                if (o->up && !o->leaving && ccore_serving(o->core) &&
                    ccore_effective_mode(o->core) == WIRE_MODE_NORMAL && ring_find(&nd->ring.r, o->name) < 0)
                    missing = o->name;
            }
            sim_fail(s, "invariant 4 (one owner per channel): n%d's ring holds %u nodes, %u serve in mode normal "
                     "(it lacks %s)", i + 1, nd->ring.r.nnodes, want, missing);
            return;
        }
        if (ref == NULL) {
            ref = nd;
            continue;
        }
        if (nd->ring.r.checksum != ref->ring.r.checksum) {
            sim_fail(s, "invariant 4 (one owner per channel): n%d and n%d have different rings", ref->id + 1, i + 1);
            return;
        }
        for (uint32_t k = 0; k < 1000; k++) { /* the same owner for the same channel, node by node */
            char id[32];
            int len = snprintf(id, sizeof id, "channel-%u", k);
            int a = ring_lookup(&ref->ring.r, id, (size_t)len), b = ring_lookup(&nd->ring.r, id, (size_t)len);
            if (a < 0 || b < 0 || strcmp(ref->ring.r.nodes[a].name, nd->ring.r.nodes[b].name) != 0) {
                sim_fail(s, "invariant 4 (one owner per channel): n%d and n%d place %s differently", ref->id + 1,
                         i + 1, id);
                return;
            }
        }
    }
}

void check_liveness(sim *s) {
    const sim_node *ref = NULL;
    for (int i = 0; i < s->n && !s->failed; i++) {
        sim_node *nd = &s->nodes[i];
        if (!sim_node_eligible(nd)) continue;
        int64_t local = node_local_ms(nd, s->now);
        shoal_outcome why = ccore_reason_now(nd->core, local);
        if (why != SHOAL_OK) {
            sim_fail(s, "invariant 4 (liveness): n%d does not serve (%s) %lld s after the network became stable",
                     i + 1, shoal_outcome_name(why), (long long)((s->now - s->stable_at) / SIM_SECOND));
            return;
        }
        for (int j = 0; j < s->n; j++) {
            if (j == i) continue;
            const swim_member *m = swim_find(nd->gossip, s->nodes[j].name);
            bool alive = m != NULL && m->state == SWIM_ALIVE;
            bool should = s->nodes[j].up && !s->nodes[j].leaving;
            if (alive != should && !(m == NULL && !should)) {
                sim_fail(s, "invariant 4 (views agree): n%d lists n%d as %s although it is %s", i + 1, j + 1,
                         m ? swim_state_name(m->state) : "unknown", should ? "running" : "stopped");
                return;
            }
        }
        const raft_roster *ro = raft_committed_roster(ccore_raft(nd->core));
        if (ref == NULL) {
            ref = nd;
            continue;
        }
        const raft_roster *rr = raft_committed_roster(ccore_raft(ref->core));
        bool same = ro->cluster_id == rr->cluster_id && ro->n == rr->n;
        for (uint32_t k = 0; same && k < ro->n; k++) same = strcmp(ro->names[k], rr->names[k]) == 0;
        if (!same)
            sim_fail(s, "invariant 4 (rosters agree): n%d and n%d committed different rosters", ref->id + 1, i + 1);
    }
    if (!s->failed) check_ring_agreement(s);
    if (!s->failed) check_table_agreement(s);
    if (!s->failed && s->last_reject > s->stable_at + 10 * SIM_SECOND)
        sim_fail(s, "invariant 4 (liveness): a client was rejected %.3f s after the network became stable",
                 (double)(s->last_reject - s->stable_at) / 1e6);
}

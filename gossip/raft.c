/* raft.c - Raft over the roster log (see raft.h for what runs and why).
 *
 * Sections: state and helpers · persistence and output · roles (follower,
 * pre-candidate, candidate, leader) · replication and commit · proposals ·
 * receiving · timers · accessors. */
#include "raft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft_wire.h"
#include "vec.h"

#define MAX_PEERS (RAFT_MAX_MEMBERS + 4096) /* voters + learners (temporary nodes) being kept up to date */

typedef struct peer {
    char name[WIRE_NAME_MAX + 1];
    bool voter;
    uint64_t next, match;
    uint64_t sent_commit, acked_commit;
    int64_t retry_at;                /* resend at or after this if still behind */
} peer;

typedef struct proposal {
    uint64_t id;
    bool remote;                     /* from another node: answer with PROPOSE_RESP */
    char origin[WIRE_NAME_MAX + 1];
    uint64_t origin_id;
    uint8_t kind;
    char subject[WIRE_NAME_MAX + 1];
    uint64_t index, term;            /* where it was appended (leader), 0 = not yet */
    uint64_t wait_commit;            /* forwarded and committed there: done once we know it too */
    int64_t deadline;
    int64_t resend_at;               /* follower: forward to the leader again */
    bool done;
} proposal;

struct raft {
    raft_config cfg;
    shoal_rng rng;
    /* persistent */
    uint64_t term;
    char voted_for[WIRE_NAME_MAX + 1];
    raft_entry *log;                 /* log[i - 1] is index i */
    uint64_t nlog;
    uint32_t caplog;
    uint64_t commit;
    /* volatile */
    raft_roster bootstrap;           /* configuration of an empty log */
    raft_roster hints;               /* more nodes to ask who leads */
    char (*down)[WIRE_NAME_MAX + 1]; /* nodes SWIM lists as not alive */
    uint32_t ndown;
    raft_roster committed;           /* roster as of the commit index */
    raft_role role;
    char leader[WIRE_NAME_MAX + 1];
    bool leader_alive;
    int64_t election_at;             /* 0: not armed */
    bool saw_cluster;                /* empty log, but a node of an initialized cluster spoke */
    int64_t round_deadline;
    int64_t query_at;                /* next LEADER_QUERY while no leader is known */
    int64_t sync_at;                 /* 0, or: resend SYNC_REQ to the leader then (no APPEND yet) */
    char granted[RAFT_MAX_MEMBERS][WIRE_NAME_MAX + 1];
    uint32_t ngranted;
    peer *peers;                     /* grows: learners come and go */
    uint32_t npeers, cappeers;
    uint64_t stepdown_index;         /* leader removed by this entry: step down once known */
    int64_t stepdown_at;
    vec props;                       /* proposal */
    uint64_t next_id;
    bool dirty;                      /* persistent state changed in this call */
    outbox sends;                    /* SENDs of this call, to go after any PERSIST */
    outbox out;
    vec events;
};

/* ==== state and helpers ================================================== */

static uint64_t last_index(const raft *r) { return r->nlog; }
static uint64_t term_at(const raft *r, uint64_t i) {
    return i == 0 || i > r->nlog ? 0 : r->log[i - 1].term;
}
static uint64_t last_term(const raft *r) { return term_at(r, r->nlog); }

static const raft_roster *config(const raft *r) {
    return r->nlog == 0 ? &r->bootstrap : &r->log[r->nlog - 1].roster;
}

static bool in_roster(const raft_roster *ro, const char *name) {
    for (uint32_t i = 0; i < ro->n; i++)
        if (strcmp(ro->names[i], name) == 0) return true;
    return false;
}

static bool self_is_voter(const raft *r) {
    return !r->cfg.learner && in_roster(config(r), r->cfg.node_name);
}
static uint32_t quorum(const raft *r) { return config(r)->n / 2 + 1; }

static int64_t election_delay(raft *r) {
    int64_t span = r->cfg.election_max_ms - r->cfg.election_min_ms;
    return r->cfg.election_min_ms + (span > 0 ? (int64_t)shoal_rng_below(&r->rng, (uint32_t)span) : 0);
}

static void emit(raft *r, raft_event_type type, uint64_t index, uint64_t id, const char *name,
                 const char *error) {
    raft_event ev = {.type = type, .index = index, .id = id};
    snprintf(ev.name, sizeof ev.name, "%s", name ? name : "");
    snprintf(ev.error, sizeof ev.error, "%s", error ? error : "");
    vec_push(&r->events, &ev, sizeof ev);
}

#define MAX_DOWN 256

static bool is_down(const raft *r, const char *name) {
    for (uint32_t i = 0; i < r->ndown; i++)
        if (strcmp(r->down[i], name) == 0) return true;
    return false;
}

static void set_leader(raft *r, const char *name) {
    if (strcmp(r->leader, name) == 0) return;
    snprintf(r->leader, sizeof r->leader, "%s", name);
    emit(r, RAFT_EV_LEADER, 0, 0, name, NULL);
}

/* The committed roster: that of the last entry at or before the commit. */
static void recompute_committed(raft *r) {
    if (r->commit == 0) {
        memset(&r->committed, 0, sizeof r->committed);
        return;
    }
    r->committed = r->log[r->commit - 1].roster;
}

/* ==== persistence and output ============================================= */

static void send_msg(raft *r, const char *to, const raft_msg *m) {
    raft_header h = {.cluster_id = config(r)->cluster_id};
    snprintf(h.cluster, sizeof h.cluster, "%s", r->cfg.cluster_name);
    snprintf(h.sender, sizeof h.sender, "%s", r->cfg.node_name);
    uint8_t *buf = malloc(RAFT_MAX_PACKET);
    if (buf == NULL) return;
    size_t len = raft_wire_encode(&h, m, buf, RAFT_MAX_PACKET);
    if (len == 0) {
        free(buf);
        return;
    }
    core_out o = {.kind = RAFT_OUT_SEND, .len = (uint32_t)len, .data = buf};
    snprintf(o.to, sizeof o.to, "%s", to);
    outbox_push(&r->sends, &o);
}

/* Ends every entry point: the state (if changed) goes out before the
 * messages that depend on it. */
static void finish(raft *r) {
    if (r->dirty) {
        size_t len;
        uint8_t *state = raft_state_encode(r->term, r->voted_for, r->commit, r->log, r->nlog, &len);
        core_out o = {.kind = RAFT_OUT_PERSIST, .len = (uint32_t)len, .data = state};
        if (state == NULL || !outbox_push(&r->out, &o)) {
            /* Out of memory: no message may leave before the state it
             * depends on (a vote, an append) is on disk. They are dropped,
             * as a lossy network would; the state is tried again next time. */
            outbox_clear(&r->sends);
            return;
        }
        r->dirty = false;
    }
    outbox_move(&r->out, &r->sends);
}

static bool log_append(raft *r, const raft_entry *e) {
    if (r->nlog >= RAFT_MAX_ENTRIES) return false;
    if (!array_grow(&r->log, &r->caplog, r->nlog + 1, sizeof *r->log)) return false;
    r->log[r->nlog++] = *e;
    r->dirty = true;
    return true;
}

/* ==== roles ============================================================== */

static void rebuild_peers(raft *r);

static void become_follower(raft *r, int64_t now, uint64_t term, const char *leader) {
    if (term > r->term) {
        r->term = term;
        r->voted_for[0] = '\0';
        r->dirty = true;
    }
    r->role = RAFT_FOLLOWER;
    r->stepdown_index = 0;
    set_leader(r, leader ? leader : "");
    r->leader_alive = leader != NULL && leader[0] != '\0' && !is_down(r, leader);
    r->election_at = r->leader_alive ? 0 : now + election_delay(r);
}

static void request_votes(raft *r, bool prevote) {
    raft_msg m = {.type = RAFT_MSG_VOTE_REQ, .term = prevote ? r->term + 1 : r->term,
                  .last_index = last_index(r), .last_term = last_term(r), .prevote = prevote};
    const raft_roster *c = config(r);
    for (uint32_t i = 0; i < c->n; i++)
        if (strcmp(c->names[i], r->cfg.node_name) != 0) send_msg(r, c->names[i], &m);
}

static void become_leader(raft *r, int64_t now);

static void start_election(raft *r, int64_t now) {
    r->role = RAFT_CANDIDATE;
    r->term++;
    snprintf(r->voted_for, sizeof r->voted_for, "%s", r->cfg.node_name);
    r->dirty = true;
    set_leader(r, "");
    r->ngranted = 1;
    snprintf(r->granted[0], sizeof r->granted[0], "%s", r->cfg.node_name);
    r->round_deadline = now + r->cfg.round_timeout_ms;
    if (r->ngranted >= quorum(r)) become_leader(r, now);
    else request_votes(r, false);
}

static void start_prevote(raft *r, int64_t now) {
    r->role = RAFT_PRECANDIDATE;
    r->ngranted = 1;
    snprintf(r->granted[0], sizeof r->granted[0], "%s", r->cfg.node_name);
    r->round_deadline = now + r->cfg.round_timeout_ms;
    if (r->ngranted >= quorum(r)) start_election(r, now);
    else request_votes(r, true);
}

/* Counts a grant from `from` once, if it is a voter. */
static bool count_grant(raft *r, const char *from) {
    if (!in_roster(config(r), from)) return false;
    for (uint32_t i = 0; i < r->ngranted; i++)
        if (strcmp(r->granted[i], from) == 0) return false;
    if (r->ngranted < RAFT_MAX_MEMBERS) snprintf(r->granted[r->ngranted++], WIRE_NAME_MAX + 1, "%s", from);
    return r->ngranted >= quorum(r);
}

/* ==== replication and commit ============================================= */

static peer *find_peer(raft *r, const char *name) {
    for (uint32_t i = 0; i < r->npeers; i++)
        if (strcmp(r->peers[i].name, name) == 0) return &r->peers[i];
    return NULL;
}

static peer *add_peer(raft *r, const char *name, bool voter) {
    peer *p = find_peer(r, name);
    if (p != NULL) {
        p->voter = voter;
        return p;
    }
    if (r->npeers == MAX_PEERS) return NULL;
    if (!array_grow(&r->peers, &r->cappeers, (size_t)r->npeers + 1, sizeof *r->peers)) return NULL;
    p = &r->peers[r->npeers++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->voter = voter;
    p->next = last_index(r) + 1;
    return p;
}

/* Learners (temporary nodes, removed members) SWIM lists as down are not
 * retried: thousands of gone temporary nodes must not cost a datagram each
 * per round. They are caught up once SWIM sees them again. */
static bool learner_down(const raft *r, const peer *p) { return !p->voter && is_down(r, p->name); }

/* Voters follow the configuration; learners (non-members catching up) stay. */
static void rebuild_peers(raft *r) {
    const raft_roster *c = config(r);
    for (uint32_t i = 0; i < r->npeers; i++) r->peers[i].voter = false;
    for (uint32_t i = 0; i < c->n; i++)
        if (strcmp(c->names[i], r->cfg.node_name) != 0) add_peer(r, c->names[i], true);
}

static void replicate(raft *r, int64_t now, peer *p) {
    raft_msg *m = calloc(1, sizeof *m);
    if (m == NULL) return;
    if (p->next < 1) p->next = 1;
    if (p->next > last_index(r) + 1) p->next = last_index(r) + 1;
    m->type = RAFT_MSG_APPEND;
    m->term = r->term;
    m->prev_index = p->next - 1;
    m->prev_term = term_at(r, m->prev_index);
    m->commit = r->commit;
    for (uint64_t i = p->next; i <= last_index(r) && m->nentries < RAFT_MAX_BATCH; i++)
        m->entries[m->nentries++] = r->log[i - 1];
    /* Large rosters: fewer entries per datagram until it fits. */
    uint8_t *probe = malloc(RAFT_MAX_PACKET);
    raft_header h = {0};
    snprintf(h.cluster, sizeof h.cluster, "%s", r->cfg.cluster_name);
    snprintf(h.sender, sizeof h.sender, "%s", r->cfg.node_name);
    while (probe && m->nentries > 1 && raft_wire_encode(&h, m, probe, RAFT_MAX_PACKET) == 0) m->nentries--;
    free(probe);
    p->sent_commit = r->commit;
    p->retry_at = now + r->cfg.round_timeout_ms;
    send_msg(r, p->name, m);
    free(m);
}

static void replicate_all(raft *r, int64_t now) {
    for (uint32_t i = 0; i < r->npeers; i++) replicate(r, now, &r->peers[i]);
}

static void finish_proposal(raft *r, proposal *pr, const char *error) {
    if (pr->done) return;
    pr->done = true;
    if (pr->remote) {
        raft_msg m = {.type = RAFT_MSG_PROPOSE_RESP, .term = r->term, .id = pr->origin_id,
                      .match_index = error[0] ? 0 : (pr->index ? pr->index : r->commit)};
        snprintf(m.error, sizeof m.error, "%s", error);
        send_msg(r, pr->origin, &m);
    } else {
        emit(r, RAFT_EV_PROPOSAL_DONE, pr->index, pr->id, pr->subject, error);
    }
}

static void drop_done_proposals(raft *r) {
    proposal *p = r->props.items;
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->props.len; i++)
        if (!p[i].done) p[k++] = p[i];
    r->props.len = k;
}

static void set_commit(raft *r, int64_t now, uint64_t commit) {
    if (commit <= r->commit) return;
    r->commit = commit;
    r->dirty = true; /* persisted as a hint: it only grows */
    recompute_committed(r);
    emit(r, RAFT_EV_COMMITTED, commit, 0, NULL, NULL);
    proposal *p = r->props.items;
    for (uint32_t i = 0; i < r->props.len; i++) {
        if (!p[i].done && p[i].wait_commit && p[i].wait_commit <= commit) finish_proposal(r, &p[i], "");
        if (p[i].done || p[i].index == 0 || p[i].index > commit) continue;
        finish_proposal(r, &p[i], term_at(r, p[i].index) == p[i].term ? "" : "LEADER-CHANGED");
    }
    /* InitCluster/formation asked locally: done once an INIT is committed. */
    for (uint32_t i = 0; i < r->props.len; i++)
        if (!p[i].done && p[i].kind == RAFT_INIT && r->committed.cluster_id != 0)
            finish_proposal(r, &p[i], "");
    drop_done_proposals(r);
    /* A follower whose committed roster no longer holds the leader looks
     * for a new one; a removed leader steps down once followers know. */
    if (r->role != RAFT_LEADER && r->leader[0] && r->committed.cluster_id != 0 &&
        !in_roster(&r->committed, r->leader)) {
        set_leader(r, "");
        r->leader_alive = false;
        r->election_at = now + election_delay(r);
    }
    if (r->role == RAFT_LEADER && !in_roster(&r->committed, r->cfg.node_name) && r->stepdown_index == 0) {
        r->stepdown_index = commit;
        r->stepdown_at = now + r->cfg.round_timeout_ms;
    }
}

static void advance_commit(raft *r, int64_t now) {
    for (uint64_t n = last_index(r); n > r->commit; n--) {
        if (term_at(r, n) != r->term) break; /* only entries of our term by counting */
        uint32_t votes = in_roster(config(r), r->cfg.node_name) ? 1 : 0;
        for (uint32_t i = 0; i < r->npeers; i++)
            if (r->peers[i].voter && r->peers[i].match >= n) votes++;
        if (votes >= quorum(r)) {
            set_commit(r, now, n);
            /* Tell the followers now rather than at their next retry. */
            for (uint32_t i = 0; i < r->npeers; i++)
                if (r->peers[i].acked_commit < r->commit && r->peers[i].sent_commit < r->commit)
                    replicate(r, now, &r->peers[i]);
            break;
        }
    }
}

static void become_leader(raft *r, int64_t now) {
    r->role = RAFT_LEADER;
    set_leader(r, r->cfg.node_name);
    r->leader_alive = true;
    r->election_at = 0;
    r->npeers = 0;
    rebuild_peers(r);
    raft_entry e = {.term = r->term, .kind = RAFT_NOOP, .roster = *config(r)};
    if (e.roster.cluster_id == 0) { /* formation: the first leader names the cluster */
        e.kind = RAFT_INIT;
        do e.roster.cluster_id = shoal_rng_next(&r->rng);
        while (e.roster.cluster_id == 0);
    }
    log_append(r, &e);
    if (quorum(r) == 1) advance_commit(r, now);
    replicate_all(r, now);
}

/* ==== proposals ========================================================== */

/* The leader validates and appends; returns "" (appended or nothing to do:
 * *appended tells which) or an error code. */
static const char *leader_accept(raft *r, uint8_t kind, const char *subject, uint64_t *index) {
    const raft_roster *c = config(r);
    *index = 0;
    if (c->cluster_id == 0) return "CLUSTER-NOT-INITIALIZED";
    for (uint64_t i = r->commit + 1; i <= last_index(r); i++)
        if (r->log[i - 1].kind != RAFT_NOOP) return "CHANGE-IN-PROGRESS";
    raft_entry e = {.term = r->term, .kind = kind, .roster = *c};
    snprintf(e.subject, sizeof e.subject, "%s", subject);
    if (kind == RAFT_ADD) {
        if (in_roster(c, subject)) return "";
        if (c->n >= RAFT_MAX_MEMBERS) return "ROSTER-FULL";
        snprintf(e.roster.names[e.roster.n++], WIRE_NAME_MAX + 1, "%s", subject);
    } else if (kind == RAFT_REMOVE) {
        if (!in_roster(c, subject)) return "NOT-A-MEMBER";
        if (c->n == 1) return "LAST-MEMBER";
        uint32_t k = 0;
        for (uint32_t i = 0; i < c->n; i++)
            if (strcmp(c->names[i], subject) != 0) memcpy(e.roster.names[k++], c->names[i], WIRE_NAME_MAX + 1);
        e.roster.n = k;
    } else {
        return "INVALID-CHANGE";
    }
    if (!log_append(r, &e)) return "LOG-FULL";
    *index = last_index(r);
    rebuild_peers(r);
    return "";
}

/* Moves a proposal forward: append (leader), forward (follower), or wait. */
static void proposal_step(raft *r, int64_t now, proposal *pr) {
    if (pr->done || pr->index != 0) return;
    if (pr->kind == RAFT_INIT) return; /* completes through set_commit */
    if (r->role == RAFT_LEADER) {
        uint64_t index;
        const char *err = leader_accept(r, pr->kind, pr->subject, &index);
        if (err[0] != '\0' || index == 0) {
            finish_proposal(r, pr, err);
            return;
        }
        pr->index = index;
        pr->term = r->term;
        if (quorum(r) == 1) advance_commit(r, now);
        replicate_all(r, now);
        return;
    }
    if (!pr->remote && r->leader[0] && r->leader_alive && now >= pr->resend_at) {
        raft_msg m = {.type = RAFT_MSG_PROPOSE, .term = r->term, .id = pr->id, .kind = pr->kind};
        snprintf(m.subject, sizeof m.subject, "%s", pr->subject);
        send_msg(r, r->leader, &m);
        pr->resend_at = now + r->cfg.round_timeout_ms;
    }
}

uint64_t raft_propose(raft *r, int64_t now, raft_kind kind, const char *subject,
                      const raft_roster *init, uint64_t cluster_id) {
    proposal pr = {.id = ++r->next_id, .kind = (uint8_t)kind,
                   .deadline = now + r->cfg.propose_timeout_ms};
    snprintf(pr.subject, sizeof pr.subject, "%s", subject ? subject : "");
    if (kind == RAFT_INIT) {
        /* InitCluster: only on a node that holds no cluster yet; it forms a
         * cluster of exactly these nodes by an ordinary election. */
        if (r->nlog != 0 || init == NULL || init->n == 0 || !in_roster(init, r->cfg.node_name)) {
            pr.done = true;
            emit(r, RAFT_EV_PROPOSAL_DONE, 0, pr.id, pr.subject,
                 r->nlog != 0 ? "CLUSTER-ALREADY-INITIALIZED" : "SELF-NOT-IN-LIST");
            finish(r);
            return pr.id;
        }
        r->bootstrap = *init;
        r->bootstrap.cluster_id = cluster_id; /* 0: the leader picks one */
        r->election_at = now;
        if (r->role == RAFT_FOLLOWER) set_leader(r, "");
    }
    if (vec_push(&r->props, &pr, sizeof pr)) {
        proposal *p = &((proposal *)r->props.items)[r->props.len - 1];
        proposal_step(r, now, p);
        drop_done_proposals(r);
    }
    finish(r);
    return pr.id;
}

/* ==== receiving ========================================================== */

static bool log_up_to_date(const raft *r, uint64_t li, uint64_t lt) {
    return lt > last_term(r) || (lt == last_term(r) && li >= last_index(r));
}

static void reply_append(raft *r, const char *to, bool ok, uint64_t match) {
    raft_msg m = {.type = RAFT_MSG_APPEND_RESP, .term = r->term, .granted = ok, .match_index = match,
                  .commit = r->commit};
    send_msg(r, to, &m);
}

static void handle_append(raft *r, int64_t now, const char *from, const raft_msg *m) {
    if (m->term < r->term) {
        reply_append(r, from, false, last_index(r));
        return;
    }
    if (r->role != RAFT_FOLLOWER || m->term > r->term || strcmp(r->leader, from) != 0)
        become_follower(r, now, m->term, from);
    r->leader_alive = true; /* it just spoke to us, whatever SWIM said */
    r->election_at = 0;
    r->sync_at = 0;
    if (m->prev_index > last_index(r) || term_at(r, m->prev_index) != m->prev_term) {
        uint64_t hint = m->prev_index > last_index(r) ? last_index(r) : m->prev_index - 1;
        reply_append(r, from, false, hint);
        return;
    }
    bool changed = false;
    for (uint32_t k = 0; k < m->nentries; k++) {
        uint64_t idx = m->prev_index + 1 + k;
        if (idx <= last_index(r) && term_at(r, idx) != m->entries[k].term) {
            if (idx <= r->commit) return; /* never truncate committed entries: a bug upstream */
            r->nlog = idx - 1;
            r->dirty = true;
            changed = true;
        }
        if (idx > last_index(r)) {
            if (!log_append(r, &m->entries[k])) break;
            changed = true;
        }
    }
    uint64_t match = m->prev_index + m->nentries;
    if (match > last_index(r)) match = last_index(r);
    if (changed) recompute_committed(r);
    uint64_t c = m->commit < match ? m->commit : match;
    set_commit(r, now, c);
    reply_append(r, from, true, match);
    /* A leader removed from the configuration (PurgeClusterNode of the
     * leader) only finishes telling everyone, then steps down. It may well
     * stay alive in SWIM, so the election is armed here and not by SWIM. */
    if (!in_roster(config(r), from)) {
        r->leader_alive = false;
        if (!r->election_at) r->election_at = now + election_delay(r) + r->cfg.round_timeout_ms;
    }
}

static void handle_append_resp(raft *r, int64_t now, const char *from, const raft_msg *m) {
    if (m->term > r->term) {
        become_follower(r, now, m->term, NULL);
        return;
    }
    if (r->role != RAFT_LEADER || m->term < r->term) return;
    peer *p = find_peer(r, from);
    if (p == NULL) return;
    if (m->granted) {
        if (m->match_index > p->match) p->match = m->match_index;
        p->next = p->match + 1;
        /* What the follower committed, as it says; an answer to an older
         * APPEND must not count as knowing a commit sent after it. */
        uint64_t known = m->commit != UINT64_MAX ? m->commit : p->sent_commit;
        if (known > r->commit) known = r->commit;
        if (known > p->acked_commit) p->acked_commit = known;
        advance_commit(r, now);
        if (p->match < last_index(r) || p->acked_commit < r->commit) replicate(r, now, p);
    } else {
        uint64_t next = m->match_index + 1;
        p->next = next < p->next ? next : (p->next > 1 ? p->next - 1 : 1);
        replicate(r, now, p);
    }
}

static void handle_vote_req(raft *r, int64_t now, const char *from, const raft_msg *m) {
    raft_msg resp = {.type = RAFT_MSG_VOTE_RESP, .prevote = m->prevote};
    bool log_ok = log_up_to_date(r, m->last_index, m->last_term);
    if (r->cfg.learner) {
        resp.granted = false;
    } else if (m->prevote) {
        bool have_leader = r->leader[0] && r->leader_alive && strcmp(r->leader, from) != 0;
        bool forming_aside = r->nlog == 0 && r->saw_cluster && m->last_index == 0;
        resp.granted = m->term > r->term && log_ok && !have_leader && !forming_aside;
    } else {
        if (m->term > r->term) become_follower(r, now, m->term, NULL);
        resp.granted = m->term == r->term && log_ok &&
                       (r->voted_for[0] == '\0' || strcmp(r->voted_for, from) == 0);
        if (resp.granted) {
            snprintf(r->voted_for, sizeof r->voted_for, "%s", from);
            r->dirty = true;
            r->election_at = now + election_delay(r) + r->cfg.round_timeout_ms;
        }
    }
    resp.term = r->term;
    if (r->leader_alive) snprintf(resp.leader, sizeof resp.leader, "%s", r->leader);
    send_msg(r, from, &resp);
}

/* Asks the leader for what we miss. The leader may believe we are up to
 * date (we lost our disk, or it has nothing new to send), so until an
 * APPEND arrives the request is repeated: one lost datagram must not leave
 * a follower without the roster for good. */
static void send_sync(raft *r, int64_t now) {
    raft_msg sync = {.type = RAFT_MSG_SYNC_REQ, .term = r->term, .last_index = last_index(r)};
    send_msg(r, r->leader, &sync);
    r->sync_at = now + r->cfg.round_timeout_ms;
}

static void learn_leader(raft *r, int64_t now, uint64_t term, const char *leader) {
    if (r->role == RAFT_LEADER || leader[0] == '\0' || term < r->term || is_down(r, leader)) return;
    /* not a removed leader (an empty log's configuration is only the contact list: any leader goes) */
    if (r->nlog > 0 && !in_roster(config(r), leader)) return;
    if (strcmp(leader, r->cfg.node_name) == 0) return;
    become_follower(r, now, term, leader);
    send_sync(r, now);
}

static void handle_vote_resp(raft *r, int64_t now, const char *from, const raft_msg *m) {
    if (!m->prevote && m->term > r->term) {
        become_follower(r, now, m->term, NULL);
        return;
    }
    if (m->prevote && r->role == RAFT_PRECANDIDATE) {
        if (m->granted) {
            if (count_grant(r, from)) start_election(r, now);
        } else if (m->leader[0]) {
            learn_leader(r, now, m->term, m->leader);
        }
        return;
    }
    if (!m->prevote && r->role == RAFT_CANDIDATE && m->term == r->term && m->granted &&
        count_grant(r, from))
        become_leader(r, now);
}

static void handle_propose(raft *r, int64_t now, const char *from, const raft_msg *m) {
    proposal *p = r->props.items;
    for (uint32_t i = 0; i < r->props.len; i++) /* a resend of one we have */
        if (p[i].remote && p[i].origin_id == m->id && strcmp(p[i].origin, from) == 0) return;
    proposal pr = {.id = ++r->next_id, .remote = true, .origin_id = m->id, .kind = m->kind,
                   .deadline = now + r->cfg.propose_timeout_ms};
    snprintf(pr.origin, sizeof pr.origin, "%s", from);
    snprintf(pr.subject, sizeof pr.subject, "%s", m->subject);
    if (r->role != RAFT_LEADER || m->kind == RAFT_INIT) {
        pr.done = false;
        finish_proposal(r, &pr, m->kind == RAFT_INIT ? "INVALID-CHANGE" : "NOT-LEADER");
        return;
    }
    if (vec_push(&r->props, &pr, sizeof pr)) {
        proposal_step(r, now, &((proposal *)r->props.items)[r->props.len - 1]);
        drop_done_proposals(r);
    }
}

static void handle_propose_resp(raft *r, const raft_msg *m) {
    proposal *p = r->props.items;
    for (uint32_t i = 0; i < r->props.len; i++)
        if (!p[i].remote && p[i].id == m->id && !p[i].done) {
            if (strcmp(m->error, "NOT-LEADER") == 0) return; /* keep trying until the deadline */
            /* Committed at the leader: report it once this node knows the
             * commit too, so that what it answers shows the new roster. */
            if (m->error[0] == '\0' && m->match_index > r->commit) {
                p[i].wait_commit = m->match_index;
                p[i].index = m->match_index; /* stop forwarding */
                p[i].term = 0;
                return;
            }
            finish_proposal(r, &p[i], m->error);
        }
    drop_done_proposals(r);
}

void raft_recv(raft *r, int64_t now, const char *from_addr_name, const uint8_t *buf, size_t len) {
    (void)from_addr_name;
    raft_header h;
    raft_msg *m = malloc(sizeof *m);
    if (m == NULL) return;
    if (!raft_wire_decode(buf, len, &h, m) || strcmp(h.cluster, r->cfg.cluster_name) != 0 ||
        strcmp(h.sender, r->cfg.node_name) == 0) {
        free(m);
        return;
    }
    /* Members of another cluster (another cluster id) are never listened to;
     * a node without a cluster yet (id 0) may join ours and vice versa. */
    uint64_t mine = config(r)->cluster_id;
    if (h.cluster_id != 0 && mine != 0 && h.cluster_id != mine) {
        free(m);
        return;
    }
    /* An empty node that hears from an initialized cluster's member never
     * forms a new cluster: it waits to be given that cluster's log (after
     * a majority lost its data, the survivor's roster is recovered). */
    if (h.cluster_id != 0 && r->nlog == 0) r->saw_cluster = true;
    const char *from = h.sender;
    switch (m->type) {
    case RAFT_MSG_APPEND: handle_append(r, now, from, m); break;
    case RAFT_MSG_APPEND_RESP: handle_append_resp(r, now, from, m); break;
    case RAFT_MSG_VOTE_REQ: handle_vote_req(r, now, from, m); break;
    case RAFT_MSG_VOTE_RESP: handle_vote_resp(r, now, from, m); break;
    case RAFT_MSG_LEADER_QUERY:
        if (r->leader[0] && r->leader_alive) {
            raft_msg hint = {.type = RAFT_MSG_LEADER_HINT, .term = r->term};
            snprintf(hint.leader, sizeof hint.leader, "%s", r->leader);
            send_msg(r, from, &hint);
        }
        break;
    case RAFT_MSG_LEADER_HINT:
        if (strcmp(m->leader, r->cfg.node_name) == 0 && r->role != RAFT_LEADER) {
            /* Someone follows us, but we do not lead (we restarted, or lost
             * our disk, quicker than SWIM could notice): say so. */
            raft_msg no = {.type = RAFT_MSG_LEADER_HINT, .term = r->term};
            send_msg(r, from, &no);
        } else if (m->leader[0] == '\0') {
            /* Our leader says it does not lead: look for a new one. Its term
             * may be lower (it lost its disk); a stale notice only costs an
             * election that pre-vote refuses while the leader is alive. */
            if (r->role == RAFT_FOLLOWER && strcmp(from, r->leader) == 0) {
                set_leader(r, "");
                r->leader_alive = false;
                r->election_at = now + election_delay(r);
            }
        } else {
            learn_leader(r, now, m->term, m->leader);
        }
        break;
    case RAFT_MSG_SYNC_REQ:
        if (m->term > r->term) {
            become_follower(r, now, m->term, NULL);
        } else if (r->role == RAFT_LEADER) {
            peer *p = find_peer(r, from);
            if (p == NULL) p = add_peer(r, from, false); /* a learner */
            if (p != NULL) {
                if (m->last_index + 1 < p->next) p->next = m->last_index + 1;
                p->acked_commit = 0;
                replicate(r, now, p);
            }
        } else {
            /* Not the leader (any more): name the one we know, or none. */
            raft_msg hint = {.type = RAFT_MSG_LEADER_HINT, .term = r->term};
            if (r->leader_alive) snprintf(hint.leader, sizeof hint.leader, "%s", r->leader);
            send_msg(r, from, &hint);
        }
        break;
    case RAFT_MSG_PROPOSE: handle_propose(r, now, from, m); break;
    case RAFT_MSG_PROPOSE_RESP: handle_propose_resp(r, m); break;
    default: break;
    }
    free(m);
    finish(r);
}

/* ==== timers ============================================================= */

void raft_tick(raft *r, int64_t now) {
    switch (r->role) {
    case RAFT_FOLLOWER:
        if (r->election_at && now >= r->election_at && self_is_voter(r) &&
            !(r->nlog == 0 && r->saw_cluster)) {
            r->election_at = 0;
            start_prevote(r, now);
        }
        break;
    case RAFT_PRECANDIDATE:
    case RAFT_CANDIDATE:
        if (now >= r->round_deadline) {
            r->role = RAFT_FOLLOWER;
            r->election_at = now + election_delay(r);
        }
        break;
    case RAFT_LEADER:
        for (uint32_t i = 0; i < r->npeers; i++) {
            peer *p = &r->peers[i];
            bool behind = (p->match < last_index(r) || p->acked_commit < r->commit) && !learner_down(r, p);
            if (behind && now >= p->retry_at) replicate(r, now, p);
        }
        if (r->stepdown_index) {
            bool all_know = true;
            for (uint32_t i = 0; i < r->npeers; i++)
                if (r->peers[i].voter && r->peers[i].acked_commit < r->stepdown_index) all_know = false;
            if (all_know || now >= r->stepdown_at) become_follower(r, now, r->term, NULL);
        }
        break;
    }
    if (r->role == RAFT_FOLLOWER && r->sync_at && now >= r->sync_at) {
        if (r->leader[0] && r->leader_alive) send_sync(r, now);
        else r->sync_at = now + r->cfg.round_timeout_ms; /* once a leader is back */
    }
    /* No live leader known: ask the configuration's members who leads. */
    if (r->role == RAFT_FOLLOWER && !(r->leader[0] && r->leader_alive) && now >= r->query_at) {
        raft_msg q = {.type = RAFT_MSG_LEADER_QUERY, .term = r->term};
        const raft_roster *c = config(r);
        for (uint32_t i = 0; i < c->n; i++)
            if (strcmp(c->names[i], r->cfg.node_name) != 0) send_msg(r, c->names[i], &q);
        for (uint32_t i = 0; i < r->hints.n; i++)
            if (!in_roster(c, r->hints.names[i])) send_msg(r, r->hints.names[i], &q);
        r->query_at = now + r->cfg.round_timeout_ms;
    }
    proposal *p = r->props.items;
    for (uint32_t i = 0; i < r->props.len; i++) {
        if (p[i].done) continue;
        if (now >= p[i].deadline) finish_proposal(r, &p[i], "ROSTER-CHANGE-TIMEOUT");
        else proposal_step(r, now, &p[i]);
    }
    drop_done_proposals(r);
    finish(r);
}

int64_t raft_next_deadline(const raft *r) {
    int64_t d = INT64_MAX;
#define EARLIER(x) do { if ((x) < d) d = (x); } while (0)
    if (r->role == RAFT_FOLLOWER && r->election_at && self_is_voter(r)) EARLIER(r->election_at);
    if (r->role == RAFT_PRECANDIDATE || r->role == RAFT_CANDIDATE) EARLIER(r->round_deadline);
    if (r->role == RAFT_FOLLOWER && !(r->leader[0] && r->leader_alive)) EARLIER(r->query_at);
    if (r->role == RAFT_FOLLOWER && r->sync_at) EARLIER(r->sync_at);
    if (r->role == RAFT_LEADER) {
        for (uint32_t i = 0; i < r->npeers; i++) {
            const peer *p = &r->peers[i];
            if ((p->match < r->nlog || p->acked_commit < r->commit) && !learner_down(r, p)) EARLIER(p->retry_at);
        }
        if (r->stepdown_index) EARLIER(r->stepdown_at);
    }
    const proposal *p = r->props.items;
    for (uint32_t i = 0; i < r->props.len; i++) {
        EARLIER(p[i].deadline);
        /* forwarding waits for a live leader: no ticks until one is known */
        if (!p[i].remote && p[i].index == 0 && p[i].kind != RAFT_INIT && r->leader[0] && r->leader_alive)
            EARLIER(p[i].resend_at);
    }
#undef EARLIER
    return d;
}

void raft_add_peer_hint(raft *r, const char *name) {
    if (in_roster(&r->hints, name) || r->hints.n >= RAFT_MAX_MEMBERS) return;
    snprintf(r->hints.names[r->hints.n++], WIRE_NAME_MAX + 1, "%s", name);
    r->query_at = 0;
}

void raft_set_member_down(raft *r, int64_t now, const char *name, bool down) {
    int at = -1;
    for (uint32_t i = 0; i < r->ndown; i++)
        if (strcmp(r->down[i], name) == 0) at = (int)i;
    if (down && at < 0 && r->ndown < MAX_DOWN) snprintf(r->down[r->ndown++], WIRE_NAME_MAX + 1, "%s", name);
    if (!down && at >= 0) memcpy(r->down[at], r->down[--r->ndown], WIRE_NAME_MAX + 1);
    if (r->role == RAFT_LEADER || strcmp(r->leader, name) != 0 || r->leader_alive == !down) return;
    r->leader_alive = !down;
    r->election_at = down ? now + election_delay(r) : 0;
}

void raft_persist_failed(raft *r, int64_t now) {
    /* Nothing that depended on the lost write was sent. Stand aside: a node
     * that cannot store its votes or log must not lead or vote. */
    r->role = RAFT_FOLLOWER;
    set_leader(r, "");
    r->leader_alive = false;
    r->election_at = 0;
    (void)now;
}

/* ==== lifecycle and accessors ============================================ */

void raft_config_default(raft_config *c) {
    memset(c, 0, sizeof *c);
    c->election_min_ms = 150;
    c->election_max_ms = 400;
    c->round_timeout_ms = 1000;
    c->propose_timeout_ms = 5000;
    c->formation_delay_ms = 2000;
}

raft *raft_new(const raft_config *cfg, const uint8_t *state, size_t state_len,
               const raft_roster *bootstrap, uint64_t seed, int64_t now) {
    raft *r = calloc(1, sizeof *r);
    if (r == NULL) return NULL;
    r->down = calloc(MAX_DOWN, sizeof *r->down);
    if (r->down == NULL) {
        free(r);
        return NULL;
    }
    r->cfg = *cfg;
    shoal_rng_seed(&r->rng, seed);
    if (bootstrap) r->bootstrap = *bootstrap;
    r->bootstrap.cluster_id = 0;
    if (state != NULL && state_len > 0) {
        raft_entry *e;
        uint64_t n;
        if (!raft_decode_state(state, state_len, &r->term, r->voted_for, &r->commit, &e, &n)) {
            free(r->down);
            free(r);
            return NULL;
        }
        r->log = e;
        r->nlog = n;
        r->caplog = (uint32_t)n;
    }
    recompute_committed(r);
    r->role = RAFT_FOLLOWER;
    r->election_at = now + election_delay(r) + (r->nlog == 0 ? cfg->formation_delay_ms : 0);
    r->query_at = now;
    return r;
}

void raft_free(raft *r) {
    if (r == NULL) return;
    free(r->peers);
    outbox_free(&r->out);
    outbox_free(&r->sends);
    free(r->events.items);
    free(r->props.items);
    free(r->log);
    free(r->down);
    free(r);
}

outbox *raft_outbox(raft *r) { return &r->out; }

const raft_event *raft_events(const raft *r, uint32_t *n) {
    *n = r->events.len;
    return r->events.items;
}

void raft_events_clear(raft *r) { r->events.len = 0; }

const raft_roster *raft_committed_roster(const raft *r) { return &r->committed; }
const raft_roster *raft_config_roster(const raft *r) { return config(r); }
raft_role raft_get_role(const raft *r) { return r->role; }
const char *raft_leader(const raft *r) { return r->leader; }
bool raft_leader_alive(const raft *r) { return r->leader[0] && r->leader_alive; }
uint64_t raft_term(const raft *r) { return r->term; }
uint64_t raft_commit_index(const raft *r) { return r->commit; }
uint64_t raft_last_index(const raft *r) { return r->nlog; }
const raft_entry *raft_entry_at(const raft *r, uint64_t i) {
    return i >= 1 && i <= r->nlog ? &r->log[i - 1] : NULL;
}

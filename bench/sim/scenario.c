/* scenario.c - the named scenarios and the seeded random mix. A scenario is
 * a timed list of faults and operator actions; every scenario ends with a
 * stable period after which liveness is judged. Groups are drawn so that the
 * majority side holds a majority of the regular nodes (the roster). */
#include <string.h>

#include "sim.h"

#define LIVENESS_MS 30000 /* a whole, stable network must converge within this */

static const char *const NAMES[] = {"partition-3-2", "partition-2-2-1", "flapping",     "asymmetric",
                                    "kill-majority", "disk-loss",       "purge-during-partition",
                                    "rolling-update", "lossy-30",       "random",       NULL};

const char *const *scenario_names(void) { return NAMES; }

static sim_action *add(scenario *sc, int64_t at_ms, act_type t, int a, int b, int64_t v) {
    if (sc->nacts >= SIM_MAX_ACTIONS) return &sc->acts[SIM_MAX_ACTIONS - 1]; /* ignored beyond the limit */
    sim_action *x = &sc->acts[sc->nacts++];
    memset(x, 0, sizeof *x);
    x->at_ms = at_ms;
    x->type = t;
    x->a = a;
    x->b = b;
    x->value = v;
    return x;
}

static uint32_t rnd(shoal_rng *r, uint32_t n) { return n ? shoal_rng_below(r, n) : 0; }

/* Majority side: the first regular/2+1 regular nodes and the first half of
 * the temporary ones; the rest is the minority side. */
static void split_majority(const scenario *sc, sim_action *x) {
    int maj = sc->regular / 2 + 1, temps = sc->nodes - sc->regular;
    for (int i = 0; i < sc->nodes; i++)
        x->groups[i] = i < sc->regular ? (i >= maj) : (i - sc->regular >= temps / 2);
}

/* Three sides, none with a majority of the regular nodes. */
static void split_three(const scenario *sc, sim_action *x) {
    int r = sc->regular;
    int a = (r - 1) / 2, b = (r - 1) / 2; /* both below a majority; the rest in the third */
    if (a < 1) a = 1;
    for (int i = 0; i < sc->nodes; i++) {
        if (i < r) x->groups[i] = i < a ? 0 : (i < a + b ? 1 : 2);
        else x->groups[i] = (uint8_t)(i % 3);
    }
}

static void stable(scenario *sc, int64_t at, int64_t bound) {
    add(sc, at, ACT_HEAL, 0, 0, 0);
    add(sc, at, ACT_LOSS, -1, 0, 0);
    for (int i = 0; i < sc->nodes; i++) {
        add(sc, at, ACT_DISK, i, 0, 0);
        add(sc, at, ACT_RESTART, i, 0, 0); /* nothing if it runs */
    }
    add(sc, at, ACT_STABLE, 0, 0, bound);
    sc->duration_ms = at + bound + 5000;
}

static void start_all(scenario *sc, shoal_rng *r) {
    add(sc, 0, ACT_NET, 0, 0, 0);
    for (int i = 0; i < sc->nodes; i++) {
        int64_t ppm = (int64_t)rnd(r, (uint32_t)sc->drift_ppm + 1) - sc->drift_ppm / 2;
        add(sc, 0, ACT_CLOCK, i, 0, ppm);
        add(sc, rnd(r, 2000), ACT_RESTART, i, 0, 0); /* the first start, in a random order */
    }
}

/* ---- the random mix ---------------------------------------------------------------- */

static void random_episode(scenario *sc, shoal_rng *r, int64_t from, int64_t to, bool *wiped) {
    int n = sc->nodes, reg = sc->regular;
    int64_t at = from + rnd(r, (uint32_t)(to - from - 3000));
    int64_t len = 1000 + rnd(r, 20000);
    if (at + len > to) len = to - at;
    int a = (int)rnd(r, (uint32_t)n), b = (int)rnd(r, (uint32_t)n);
    switch (rnd(r, 12)) {
    case 0: { /* partition into 2 or 3 random groups */
        sim_action *x = add(sc, at, ACT_PARTITION, 0, 0, 0);
        int groups = 2 + (int)rnd(r, 2);
        for (int i = 0; i < n; i++) x->groups[i] = (uint8_t)rnd(r, (uint32_t)groups);
        add(sc, at + len, ACT_HEAL, 0, 0, 0);
        break;
    }
    case 1: /* the majority split, the classic */
        split_majority(sc, add(sc, at, ACT_PARTITION, 0, 0, 0));
        add(sc, at + len, ACT_HEAL, 0, 0, 0);
        break;
    case 2: /* one-way cuts */
        for (int k = 0; k < 1 + (int)rnd(r, 3); k++) {
            int x = (int)rnd(r, (uint32_t)n), y = (int)rnd(r, (uint32_t)n);
            if (x != y) add(sc, at, ACT_CUT_ONEWAY, x, y, 0);
        }
        add(sc, at + len, ACT_HEAL, 0, 0, 0);
        break;
    case 3: /* loss on one node's links or everywhere */
        add(sc, at, ACT_LOSS, rnd(r, 2) ? a : -1, 0, 10 + rnd(r, 300));
        add(sc, at + len, ACT_LOSS, -1, 0, 0);
        break;
    case 4: /* duplication, reordering, jitter */
        add(sc, at, ACT_NET, (int)rnd(r, 100), (int)rnd(r, 200), 200 + rnd(r, 20000));
        add(sc, at + len, ACT_NET, 0, 0, 0);
        break;
    case 5: /* crash and restart with the disk */
        add(sc, at, ACT_CRASH, a, 0, 0);
        add(sc, at + len, ACT_RESTART, a, 0, 0);
        break;
    case 6: /* crash and come back with an empty disk: one roster member per run at most */
        if (*wiped && a < reg) a = reg < n ? reg + (int)rnd(r, (uint32_t)(n - reg)) : a;
        if (a < reg) {
            if (*wiped) break;
            *wiped = true;
        }
        add(sc, at, ACT_CRASH, a, 0, 0);
        add(sc, at + len, ACT_WIPE_RESTART, a, 0, 0);
        break;
    case 7: /* a stalled process */
        add(sc, at, ACT_PAUSE, a, 0, (int64_t)(200 + rnd(r, 8000)) < to - at ? (int64_t)(200 + rnd(r, 8000)) : to - at);
        break;
    case 8: /* a clock off by up to the bound */
        add(sc, at, ACT_CLOCK, a, 0, (int64_t)rnd(r, (uint32_t)sc->drift_ppm + 1) - sc->drift_ppm / 2);
        break;
    case 9: /* a disk that fails writes */
        add(sc, at, ACT_DISK, a, 0, 1);
        add(sc, at + len, ACT_DISK, a, 0, 0);
        break;
    case 10: /* graceful leave (rolling restart) */
        add(sc, at, ACT_LEAVE, a, 0, 0);
        add(sc, at + len, ACT_RESTART, a, 0, 0);
        break;
    case 11: /* operator: purge a node and bring it back wiped, or change a mode */
        if (rnd(r, 2) && a < reg && !*wiped) {
            *wiped = true;
            add(sc, at, ACT_PURGE, b, a, 0);
            add(sc, at + len, ACT_CRASH, a, 0, 0);
            add(sc, at + len + 500, ACT_WIPE_RESTART, a, 0, 0);
            add(sc, at + len + 1500, ACT_REGISTER, a, b == a ? (a + 1) % n : b, 0);
        } else {
            add(sc, at, ACT_MODE, a, 0, 1 + rnd(r, 2));
            add(sc, at + len, ACT_MODE, a, 0, 0);
        }
        break;
    }
}

/* ---- building ------------------------------------------------------------------------ */

bool scenario_build(scenario *sc, const char *name, int n, int regular, uint64_t seed, int64_t random_ms) {
    memset(sc, 0, sizeof *sc);
    snprintf(sc->name, sizeof sc->name, "%s", name);
    sc->nodes = n;
    sc->regular = regular;
    sc->drift_ppm = 20000;
    sc->fp_loss_permille = 100;
    shoal_rng r;
    shoal_rng_seed(&r, seed ^ 0x5eedf00dULL);
    start_all(sc, &r);
    int maj = regular / 2 + 1;
    if (strcmp(name, "partition-3-2") == 0) {
        split_majority(sc, add(sc, 15000, ACT_PARTITION, 0, 0, 0));
        stable(sc, 35000, LIVENESS_MS);
    } else if (strcmp(name, "partition-2-2-1") == 0) {
        split_three(sc, add(sc, 15000, ACT_PARTITION, 0, 0, 0));
        stable(sc, 35000, LIVENESS_MS);
    } else if (strcmp(name, "flapping") == 0) {
        int64_t t = 15000;
        while (t < 45000) {
            split_majority(sc, add(sc, t, ACT_PARTITION, 0, 0, 0));
            t += 300 + rnd(&r, 4000);
            add(sc, t, ACT_HEAL, 0, 0, 0);
            t += 300 + rnd(&r, 4000);
        }
        stable(sc, t, LIVENESS_MS);
    } else if (strcmp(name, "asymmetric") == 0) {
        /* n1 hears nobody of n2..n3 but they hear it; later n1 reaches nobody */
        for (int i = 1; i < 3 && i < n; i++) add(sc, 15000, ACT_CUT_ONEWAY, i, 0, 0);
        if (n > 4) add(sc, 15000, ACT_CUT_ONEWAY, 3, 4, 0);
        add(sc, 30000, ACT_HEAL, 0, 0, 0);
        for (int i = 1; i < n; i++) add(sc, 32000, ACT_CUT_ONEWAY, 0, i, 0);
        stable(sc, 47000, LIVENESS_MS);
    } else if (strcmp(name, "kill-majority") == 0) {
        for (int i = 0; i < maj; i++) add(sc, 15000, ACT_CRASH, i, 0, 0);
        for (int i = 0; i < maj; i++) add(sc, 30000 + 500 * i, ACT_RESTART, i, 0, 0);
        stable(sc, 32000, LIVENESS_MS);
    } else if (strcmp(name, "disk-loss") == 0) {
        /* one member loses its disk and rejoins; then a majority loses its
         * disks and the operator recovers with InitCluster on a survivor */
        add(sc, 15000, ACT_CRASH, 1, 0, 0);
        add(sc, 20000, ACT_WIPE_RESTART, 1, 0, 0);
        for (int i = 0; i < regular; i++) add(sc, 40000, ACT_CRASH, i, 0, 0);
        for (int i = 0; i < regular; i++) add(sc, 42000 + 200 * i, i < maj ? ACT_WIPE_RESTART : ACT_RESTART, i, 0, 0);
        sim_action *x = add(sc, 50000, ACT_INIT, regular - 1, 0, 0);
        for (int i = 0; i < regular; i++) x->mask[i] = 1;
        stable(sc, 50000, LIVENESS_MS + 10000);
    } else if (strcmp(name, "purge-during-partition") == 0) {
        split_majority(sc, add(sc, 15000, ACT_PARTITION, 0, 0, 0));
        add(sc, 18000, ACT_PURGE, 0, regular - 1, 0);      /* majority side: commits */
        add(sc, 19000, ACT_PURGE, regular - 1, 0, 0);      /* minority side: must not */
        add(sc, 35000, ACT_HEAL, 0, 0, 0);
        add(sc, 40000, ACT_CRASH, regular - 1, 0, 0);
        add(sc, 41000, ACT_WIPE_RESTART, regular - 1, 0, 0);
        add(sc, 42000, ACT_REGISTER, regular - 1, 0, 0);
        stable(sc, 42000, LIVENESS_MS);
    } else if (strcmp(name, "rolling-update") == 0) {
        int64_t t = 15000;
        for (int i = 0; i < n; i++, t += 8000) {
            add(sc, t, ACT_LEAVE, i, 0, 0);
            add(sc, t + 3000, ACT_RESTART, i, 0, 0);
        }
        stable(sc, t, LIVENESS_MS);
    } else if (strcmp(name, "lossy-30") == 0) {
        add(sc, 10000, ACT_LOSS, -1, 0, 300);
        add(sc, 70000, ACT_LOSS, -1, 0, 0);
        stable(sc, 70000, LIVENESS_MS);
    } else if (strcmp(name, "random") == 0) {
        /* faults from 10 s on, then a stable tail of 35 s: 120 s by default */
        int64_t total = random_ms >= 60000 ? random_ms : 120000;
        bool wiped = false;
        int episodes = 3 + (int)rnd(&r, 6) + (int)((total - 120000) / 20000);
        for (int k = 0; k < episodes; k++) random_episode(sc, &r, 10000, total - 40000, &wiped);
        stable(sc, total - 35000, LIVENESS_MS);
    } else {
        return false;
    }
    return true;
}

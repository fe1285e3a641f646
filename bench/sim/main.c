/* main.c - bench/splitbrain: runs scenarios over seeds, in parallel worker
 * processes, and prints one line per seed and a summary.
 *
 *   splitbrain --nodes 5 --scenario random --seeds 1..300
 *   splitbrain --nodes 5 --scenario random --seed 17 --trace   (replay one seed)
 *
 * Exit status: 0 when every seed passed, 1 when an invariant was violated,
 * 2 on bad usage. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

typedef struct result {
    uint64_t seed;
    int ok;
    int64_t failed_at;
    char failure[512];
    sim_stats st;
} result;

static void usage(FILE *f) {
    fprintf(f, "usage: splitbrain [--nodes N] [--regular R] [--scenario NAME] [--seeds A..B | --seed S]\n"
               "                  [--duration S] [--trace] [--jobs J] [--json] [--quiet]\n"
               "  N 3..%d nodes (default 5); R regular nodes (default N up to 7, else 5; the rest are temporary)\n"
               "  scenarios:",
            SIM_MAX_NODES);
    for (const char *const *n = scenario_names(); *n; n++) fprintf(f, " %s", *n);
    fprintf(f, "\n  --duration S: length of the random scenario (default 120 s)\n  --trace prints every event of one seed; the same seed always prints the same trace\n");
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct dist {
    double *v;
    size_t n;
    uint32_t cap;
} dist;

static void dist_add(dist *d, double x) {
    if (!array_grow(&d->v, &d->cap, d->n + 1, sizeof *d->v)) abort();
    d->v[d->n++] = x;
}

static double pct(const dist *d, double p) {
    if (d->n == 0) return 0;
    size_t i = (size_t)(p * (double)(d->n - 1) + 0.5);
    return d->v[i];
}

static void print_row(const char *name, const char *unit, dist *d, bool json, const char *scen, int nodes) {
    if (d->n > 0) qsort(d->v, d->n, sizeof *d->v, cmp_d);
    if (json) {
        printf("{\"row\":\"summary\",\"scenario\":\"%s\",\"nodes\":%d,\"metric\":\"%s\",\"unit\":\"%s\",\"n\":%zu,"
               "\"min\":%.3f,\"median\":%.3f,\"p99\":%.3f,\"max\":%.3f}\n",
               scen, nodes, name, unit, d->n, pct(d, 0), pct(d, 0.5), pct(d, 0.99), pct(d, 1));
        return;
    }
    if (d->n == 0) {
        printf("%-34s %-6s %7s %10s %10s %10s %10s\n", name, unit, "0", "-", "-", "-", "-");
        return;
    }
    printf("%-34s %-6s %7zu %10.3f %10.3f %10.3f %10.3f\n", name, unit, d->n, pct(d, 0), pct(d, 0.5), pct(d, 0.99),
           pct(d, 1));
}

static bool parse_range(const char *s, uint64_t *a, uint64_t *b) {
    char *end;
    errno = 0;
    *a = strtoull(s, &end, 10);
    if (errno || end == s) return false;
    if (*end == '\0') {
        *b = *a;
        return true;
    }
    if (strncmp(end, "..", 2) != 0) return false;
    const char *t = end + 2;
    *b = strtoull(t, &end, 10);
    return !errno && end != t && *end == '\0' && *b >= *a;
}

typedef struct opts {
    const char *prog, *scen;
    int n, regular;
    int64_t random_ms;
    bool json, quiet;
} opts;

static void run_one(const opts *op, uint64_t seed, FILE *trace, result *r) {
    static scenario sc;
    memset(r, 0, sizeof *r);
    r->seed = seed;
    scenario_build(&sc, op->scen, op->n, op->regular, seed, op->random_ms);
    r->ok = sim_run(&sc, seed, trace, &r->st, r->failure, sizeof r->failure, &r->failed_at);
}

static void print_seed(const result *r, const opts *op) {
    const char *scen = op->scen;
    int n = op->n;
    bool json = op->json, quiet = op->quiet;
    double secs = r->st.node_seconds > 0 ? r->st.node_seconds : 1;
    if (json) {
        printf("{\"row\":\"seed\",\"scenario\":\"%s\",\"nodes\":%d,\"seed\":%" PRIu64 ",\"pass\":%s,"
               "\"false_deaths\":%d,\"msgs_per_node_s\":%.1f,\"bytes_per_node_s\":%.0f",
               scen, n, r->seed, r->ok ? "true" : "false", r->st.false_deaths, (double)r->st.msgs / secs,
               (double)r->st.bytes / secs);
        double worst = 0;
        for (int k = 0; k < r->st.nblock; k++)
            if (r->st.block_ms[k] > worst) worst = r->st.block_ms[k];
        printf(",\"cut_off_to_stopped_max_s\":%.3f", worst / 1000.0);
        worst = 0;
        for (int k = 0; k < r->st.nheal; k++)
            if (r->st.heal_ms[k] > worst) worst = r->st.heal_ms[k];
        printf(",\"heal_to_serving_max_s\":%.3f", worst / 1000.0);
        if (!r->ok) {
            printf(",\"failed_at_ms\":%.3f,\"violation\":\"", (double)r->failed_at / 1000.0);
            for (const char *p = r->failure; *p; p++) printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
            printf("\"");
        }
        printf("}\n");
        return;
    }
    if (r->ok) {
        if (!quiet)
            printf("seed %-6" PRIu64 " pass  false deaths %d, %.0f msgs and %.0f bytes per node per second\n", r->seed,
                   r->st.false_deaths, (double)r->st.msgs / secs, (double)r->st.bytes / secs);
        return;
    }
    printf("seed %-6" PRIu64 " FAIL  at %.3f s: %s\n", r->seed, (double)r->failed_at / 1e6, r->failure);
    printf("  replay: %s --nodes %d --regular %d --scenario %s", op->prog, n, op->regular, scen);
    if (op->random_ms) printf(" --duration %lld", (long long)(op->random_ms / 1000));
    printf(" --seed %" PRIu64 " --trace\n", r->seed);
}

int main(int argc, char **argv) {
    int n = 5, regular = -1, jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
    const char *scen = "random";
    uint64_t a = 1, b = 100;
    bool trace = false, json = false, quiet = false;
    int64_t random_ms = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--nodes") == 0 && v) n = atoi(argv[++i]);
        else if (strcmp(o, "--regular") == 0 && v) regular = atoi(argv[++i]);
        else if (strcmp(o, "--scenario") == 0 && v) scen = argv[++i];
        else if ((strcmp(o, "--seeds") == 0 || strcmp(o, "--seed") == 0) && v) {
            if (!parse_range(argv[++i], &a, &b)) {
                fprintf(stderr, "splitbrain: %s: expected A..B or S\n", v);
                return 2;
            }
        } else if (strcmp(o, "--jobs") == 0 && v) jobs = atoi(argv[++i]);
        else if (strcmp(o, "--trace") == 0) trace = true;
        else if (strcmp(o, "--duration") == 0 && v) random_ms = (int64_t)atoi(argv[++i]) * 1000;
        else if (strcmp(o, "--json") == 0) json = true;
        else if (strcmp(o, "--quiet") == 0) quiet = true;
        else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (regular < 0) regular = n <= 7 ? n : 5;
    if (n < 3 || n > SIM_MAX_NODES || regular < 1 || regular > n || regular > RAFT_MAX_MEMBERS) {
        fprintf(stderr, "splitbrain: --nodes must be 3..%d and --regular 1..min(N, %d)\n", SIM_MAX_NODES,
                RAFT_MAX_MEMBERS);
        return 2;
    }
    opts op = {.prog = argv[0], .scen = scen, .n = n, .regular = regular, .random_ms = random_ms, .json = json,
               .quiet = quiet};
    static scenario probe;
    if (!scenario_build(&probe, scen, n, regular, 1, random_ms)) {
        fprintf(stderr, "splitbrain: unknown scenario '%s'\n", scen);
        usage(stderr);
        return 2;
    }
    if (trace) { /* one seed, every event on stdout */
        if (a != b) {
            fprintf(stderr, "splitbrain: --trace replays one seed: use --seed S\n");
            return 2;
        }
        result r;
        static scenario sc;
        scenario_build(&sc, scen, n, regular, a, random_ms);
        memset(&r, 0, sizeof r);
        r.seed = a;
        setvbuf(stdout, NULL, _IOFBF, 1 << 20);
        r.ok = sim_run(&sc, a, stdout, &r.st, r.failure, sizeof r.failure, &r.failed_at);
        opts one = op;
        one.json = one.quiet = false;
        print_seed(&r, &one);
        return r.ok ? 0 : 1;
    }
    uint64_t count = b - a + 1;
    if (jobs < 1) jobs = 1;
    if ((uint64_t)jobs > count) jobs = (int)count;
    result *res = calloc(count, sizeof *res);
    bool *have = calloc(count, sizeof *have);
    if (res == NULL || have == NULL) return 1;
    double t0 = mono_s();
    /* Workers take seeds a+w, a+w+jobs, ... and stream results back. */
    int *fds = calloc((size_t)jobs, sizeof *fds);
    pid_t *pids = calloc((size_t)jobs, sizeof *pids);
    for (int w = 0; w < jobs; w++) {
        int p[2];
        if (pipe(p) != 0) return 1;
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            for (uint64_t s = a + (uint64_t)w; s <= b; s += (uint64_t)jobs) {
                result r;
                run_one(&op, s, NULL, &r);
                const char *q = (const char *)&r;
                size_t left = sizeof r;
                while (left > 0) {
                    ssize_t k = write(p[1], q, left);
                    if (k <= 0) _exit(3);
                    q += k;
                    left -= (size_t)k;
                }
            }
            _exit(0);
        }
        close(p[1]);
        fds[w] = p[0];
        pids[w] = pid;
    }
    if (!json && !quiet)
        printf("splitbrain: scenario %s, %d nodes (%d regular), seeds %" PRIu64 "..%" PRIu64 ", %d jobs\n", scen, n,
               regular, a, b, jobs);
    uint64_t next = 0, got = 0;
    size_t *fill = calloc((size_t)jobs, sizeof *fill);
    result *buf = calloc((size_t)jobs, sizeof *buf);
    int open_fds = jobs;
    while (open_fds > 0) {
        struct pollfd pf[256];
        int np = 0, map[256];
        for (int w = 0; w < jobs && np < 256; w++)
            if (fds[w] >= 0) {
                pf[np] = (struct pollfd){.fd = fds[w], .events = POLLIN};
                map[np++] = w;
            }
        if (poll(pf, (nfds_t)np, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int k = 0; k < np; k++) {
            if (!(pf[k].revents & (POLLIN | POLLHUP))) continue;
            int w = map[k];
            ssize_t m = read(fds[w], (char *)&buf[w] + fill[w], sizeof(result) - fill[w]);
            if (m <= 0) {
                close(fds[w]);
                fds[w] = -1;
                open_fds--;
                continue;
            }
            fill[w] += (size_t)m;
            if (fill[w] < sizeof(result)) continue;
            fill[w] = 0;
            uint64_t idx = buf[w].seed - a;
            res[idx] = buf[w];
            have[idx] = true;
            got++;
            while (next < count && have[next]) { /* print in seed order */
                print_seed(&res[next], &op);
                next++;
            }
            fflush(stdout);
        }
    }
    int status_bad = 0;
    for (int w = 0; w < jobs; w++) {
        int st;
        waitpid(pids[w], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) status_bad = 1;
    }
    double wall = mono_s() - t0;
    if (got != count || status_bad) {
        fprintf(stderr, "splitbrain: a worker died: %" PRIu64 " of %" PRIu64 " seeds reported\n", got, count);
        return 1;
    }
    uint64_t failed = 0, events = 0, cl_new = 0, cl_adm = 0, cl_red = 0, cl_rej = 0, cl_closed = 0;
    double virt = 0;
    dist block = {0}, heal = {0}, fps = {0}, msgs = {0}, bytes = {0};
    for (uint64_t i = 0; i < count; i++) {
        const result *r = &res[i];
        failed += !r->ok;
        events += r->st.events;
        cl_new += r->st.clients;
        cl_adm += r->st.admitted;
        cl_red += r->st.redirects;
        cl_rej += r->st.rejected;
        cl_closed += r->st.closed;
        virt += r->st.node_seconds / n;
        for (int k = 0; k < r->st.nblock; k++) dist_add(&block, r->st.block_ms[k] / 1000.0);
        for (int k = 0; k < r->st.nheal; k++) dist_add(&heal, r->st.heal_ms[k] / 1000.0);
        double secs = r->st.node_seconds > 0 ? r->st.node_seconds : 1;
        dist_add(&fps, r->st.false_deaths);
        dist_add(&msgs, (double)r->st.msgs / secs);
        dist_add(&bytes, (double)r->st.bytes / secs);
    }
    if (json) {
        printf("{\"row\":\"run\",\"scenario\":\"%s\",\"nodes\":%d,\"regular\":%d,\"seeds\":%" PRIu64
               ",\"passed\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"wall_s\":%.2f,\"virtual_s\":%.0f,\"jobs\":%d,"
               "\"events\":%" PRIu64 ",\"clients\":%" PRIu64 ",\"admitted\":%" PRIu64 ",\"redirects\":%" PRIu64
               ",\"turned_away\":%" PRIu64 ",\"closed\":%" PRIu64 "}\n",
               scen, n, regular, count, count - failed, failed, wall, virt, jobs, events, cl_new, cl_adm, cl_red,
               cl_rej, cl_closed);
    } else {
        printf("\nscenario %s, %d nodes (%d regular): %" PRIu64 " seeds, %" PRIu64 " passed, %" PRIu64 " failed\n",
               scen, n, regular, count, count - failed, failed);
        printf("wall %.2f s for %.0f virtual s (%.0fx real time, %d jobs), %.2f M events\n", wall, virt,
               wall > 0 ? virt / wall : 0, jobs, (double)events / 1e6);
        printf("clients: %" PRIu64 " arrived, %" PRIu64 " admitted, %" PRIu64 " redirects, %" PRIu64
               " turned away, %" PRIu64 " closed by a fence\n",
               cl_new, cl_adm, cl_red, cl_rej, cl_closed);
        printf("%-34s %-6s %7s %10s %10s %10s %10s\n", "metric", "unit", "n", "min", "median", "p99", "max");
    }
    print_row("cut off -> stopped serving", "s", &block, json, scen, n);
    print_row("heal -> every node serving", "s", &heal, json, scen, n);
    print_row("false deaths per seed", "count", &fps, json, scen, n);
    print_row("messages per node per second", "msg/s", &msgs, json, scen, n);
    print_row("bytes per node per second", "B/s", &bytes, json, scen, n);
    free(block.v);
    free(heal.v);
    free(fps.v);
    free(msgs.v);
    free(bytes.v);
    free(res);
    free(have);
    free(fds);
    free(pids);
    free(fill);
    free(buf);
    return failed ? 1 : 0;
}

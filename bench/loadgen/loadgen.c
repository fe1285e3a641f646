/* loadgen.c - signaling load: many concurrent WebSocket sessions against a
 * shoal cluster (or the Node.js peer), as sora-js-sdk behaves: connect,
 * follow a redirect with "redirect": true, wait for admission (the
 * client's own notify connection.created), answer pings, hold.
 *
 *   loadgen --url URL [--url URL ...] --sessions N [--channels C]
 *           [--concurrency K] [--bind IP,IP,...] [--hold S]
 *           [--rss-pid PID ...] [--storm-kill PID --storm-url URL] [--label NAME] [--json]
 *
 * Sessions pick entry URLs in turn; channel of session i is i % C. Phase
 * "admit": open all, report connects/s (admissions per second of wall
 * time), time to admission p50/p99 (from the TCP connect at the entry to
 * connection.created, redirect included), redirects, failures, and the
 * servers' memory per session (VmRSS delta of --rss-pid processes /
 * sessions). Phase "storm" (--storm-kill PID): SIGKILL that process (a
 * node the caller started, whose entry URL is --storm-url), every session
 * it held reconnects through the other entry URLs after 50-250 ms and the time until all sessions are
 * admitted again is reported. --bind spreads client sockets over source
 * addresses (one address has ~28k ephemeral ports per server). */
#include <ev.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_URLS 16
#define MAX_BINDS 64
#define MAX_PIDS 16
#define URL_MAX 256

typedef enum { S_IDLE, S_CONNECTING, S_WAITING, S_ADMITTED, S_FAILED } sess_state;

typedef struct sess {
    struct lws *wsi;
    char url[URL_MAX];           /* where the next connect goes */
    bool redirected;             /* the next connect carries "redirect": true */
    sess_state state;
    int hops;
    int entry;                   /* index of the entry URL used */
    double t_start, t_admit;     /* of this admission attempt */
    bool send_connect, send_pong;
    bool counted;                /* admitted in the current phase */
    int retries;
    double not_before;           /* a retry waits a little (as an SDK's backoff) */
} sess;

static struct {
    char *urls[MAX_URLS];
    int nurls;
    bool dead_url[MAX_URLS];
    char *binds[MAX_BINDS];
    int nbinds;
    int pids[MAX_PIDS];
    int npids;
    int storm_pid;
    const char *storm_url;
    int sessions, channels, concurrency;
    double hold;
    bool json;
    const char *label;
} opt = {.sessions = 1000, .channels = 100, .concurrency = 256, .hold = 2, .label = "shoald"};

static struct lws_context *ctx;
/* lws's default loop is poll(): with 15,000 sockets per worker every wakeup
 * walks them all (perf: sock_poll, tcp_poll and fdget took more of the
 * storm's CPU than both servers together). On a libev loop (epoll, as
 * shoald's) the client costs what its sockets do. */
static struct ev_loop *loop;

/* One turn of the loop: what lws_service(ctx, 0) was on the poll loop. */
static void service(void) { ev_run(loop, EVRUN_ONCE); }
static sess *S;
static int nsess;                /* this worker's sessions: global index worker + nworkers * i */
static int worker, nworkers = 1;
static int ctl_in = -1;          /* parent -> worker: the kill time of the storm */
static FILE *ctl_out;            /* worker -> parent: rows as JSON lines, "A" when admitted */

static int global_of(int i) { return worker + nworkers * i; }
static int inflight, admitted_now, failures, redirects, reconnects;
static int next_url;
static double *lat;
static int nlat;
static bool storm_phase;
static int n_admitted;
static int *idle_q;             /* FIFO of sessions to (re)connect */
static int q_head, q_tail, q_len;

static void enqueue(int i) {
    idle_q[q_tail] = i;
    q_tail = (q_tail + 1) % nsess;
    q_len++;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

/* CPU seconds (user + system) a process has used so far. */
static double cpu_s(int pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    unsigned long ut = 0, st = 0;
    int ok = fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    fclose(f);
    return ok == 2 ? (double)(ut + st) / (double)sysconf(_SC_CLK_TCK) : -1;
}

static int pick_entry(void) {
    for (int k = 0; k < opt.nurls; k++) {
        int e = next_url++ % opt.nurls;
        if (!opt.dead_url[e]) return e;
    }
    return 0;
}

static int open_session(int i);

static void fail_session(sess *s) {
    s->state = S_FAILED;
    failures++;
}

/* A session that lost its server (the storm) starts over at an entry. */
static void restart(sess *s) {
    s->entry = pick_entry();
    snprintf(s->url, sizeof s->url, "%s", opt.urls[s->entry]);
    s->redirected = false;
    s->state = S_IDLE;
    s->counted = false;
    s->hops = 0;
    s->not_before = now_s() + 0.05 + (double)(rand() % 200) / 1000.0;
    reconnects++;
    enqueue((int)(s - S));
}

static const lws_retry_bo_t no_idle = {0};

static int open_session(int i) {
    sess *s = &S[i];
    char u[URL_MAX];
    const char *prot, *host, *path;
    int port;
    snprintf(u, sizeof u, "%s", s->url);
    if (lws_parse_uri(u, &prot, &host, &port, &path)) {
        fail_session(s);
        return -1;
    }
    char p[URL_MAX + 1];
    snprintf(p, sizeof p, "/%s", path);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = host;
    ci.port = port;
    ci.path = p;
    ci.host = host;
    ci.origin = host;
    ci.ssl_connection = strcmp(prot, "wss") == 0 ? LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK : 0;
    ci.protocol = NULL; /* no subprotocol, as Sora's SDKs */
    ci.local_protocol_name = "loadgen";
    ci.iface = opt.nbinds ? opt.binds[global_of(i) % opt.nbinds] : NULL;
    ci.userdata = s;
    ci.pwsi = &s->wsi;
    ci.retry_and_idle_policy = &no_idle; /* else lws re-sorts a timer list of every socket on each message */
    s->state = S_CONNECTING;
    s->t_start = s->hops == 0 ? now_s() : s->t_start;
    inflight++;
    if (lws_client_connect_via_info(&ci) == NULL && s->state == S_CONNECTING) {
        /* the error callback did not run: count it here */
        inflight--;
        fail_session(s);
        return -1;
    }
    return 0;
}

static void send_text(struct lws *wsi, const char *t) {
    size_t len = strlen(t);
    unsigned char *buf = malloc(LWS_PRE + len);
    if (buf == NULL) return;
    memcpy(buf + LWS_PRE, t, len);
    lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT);
    free(buf);
}

static void on_message(sess *s, const char *in, size_t len) {
    json_t *o = json_loadb(in, len, 0, NULL);
    const char *type = json_string_value(json_object_get(o, "type"));
    if (type == NULL) {
    } else if (strcmp(type, "redirect") == 0) {
        const char *loc = json_string_value(json_object_get(o, "location"));
        if (loc) snprintf(s->url, sizeof s->url, "%s", loc);
        s->redirected = true;
        s->hops++;
        redirects++;
        s->state = S_IDLE; /* closed by us below; reconnects on CLOSED */
    } else if (strcmp(type, "ping") == 0) {
        s->send_pong = true;
        lws_callback_on_writable(s->wsi);
    } else if (strcmp(type, "notify") == 0 && s->state == S_WAITING) {
        const char *ev = json_string_value(json_object_get(o, "event_type"));
        if (ev && strcmp(ev, "connection.created") == 0) {
            s->state = S_ADMITTED;
            n_admitted++;
            s->t_admit = now_s();
            if (!s->counted) {
                s->counted = true;
                admitted_now++;
                lat[nlat++] = (s->t_admit - s->t_start) * 1000.0;
            }
            inflight--;
        }
    }
    json_decref(o);
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    sess *s = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        s->state = S_WAITING;
        s->send_connect = true;
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (s->send_connect) {
            char msg[512];
            int ch = global_of((int)(s - S)) % opt.channels;
            snprintf(msg, sizeof msg,
                     "{\"type\":\"connect\",\"role\":\"sendrecv\",\"channel_id\":\"load-%d\","
                     "\"sora_client\":\"shoal loadgen\",\"environment\":\"bench\",\"multistream\":true,"
                     "\"audio\":true,\"video\":true,\"sdp\":\"v=0\\r\\n\"%s}",
                     ch, s->redirected ? ",\"redirect\":true" : "");
            send_text(wsi, msg);
            s->send_connect = false;
        } else if (s->send_pong) {
            send_text(wsi, "{\"type\":\"pong\"}");
            s->send_pong = false;
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        on_message(s, in, len);
        if (s->state == S_IDLE) return -1; /* redirected: we close */
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (s == NULL) break;
        s->wsi = NULL;
        if (s->state == S_CONNECTING || s->state == S_WAITING) inflight--;
        if (storm_phase && s->retries++ < 1000) restart(s); /* a dead holder still listed: try again */
        else fail_session(s);
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (s == NULL) break;
        s->wsi = NULL;
        if (s->state == S_IDLE) { /* after a redirect: to the location at once, as an SDK does */
            inflight--;
            open_session((int)(s - S));
        } else if (s->state == S_ADMITTED) { /* the server went away */
            n_admitted--;
            if (storm_phase) restart(s);
            else fail_session(s);
        } else if (s->state == S_WAITING || s->state == S_CONNECTING) {
            inflight--;
            if (storm_phase && s->retries++ < 1000) restart(s); /* refused (e.g. the claim waits for the fence) */
            else fail_session(s);
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"loadgen", cb, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Starts queued sessions while fewer than --concurrency are in flight. */
static void pump(void) {
    double t = q_len ? now_s() : 0;
    while (q_len > 0 && inflight < opt.concurrency) {
        int i = idle_q[q_head];
        if (S[i].not_before > t) break; /* retries queue in time order, roughly */
        q_head = (q_head + 1) % nsess;
        q_len--;
        if (S[i].state == S_IDLE) open_session(i);
    }
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double p) {
    if (nlat == 0) return 0;
    qsort(lat, (size_t)nlat, sizeof *lat, cmp_d);
    int k = (int)(p * (nlat - 1) + 0.5);
    return lat[k];
}

/* A worker's row, to the parent (a JSON line). */
static void row(const char *phase, double secs, int admitted) {
    fprintf(ctl_out,
            "{\"phase\":\"%s\",\"sessions\":%d,\"admitted\":%d,\"seconds\":%.3f,\"p50\":%.3f,\"p99\":%.3f,"
            "\"redirects\":%d,\"failures\":%d,\"reconnects\":%d}\n",
            phase, nsess, admitted, secs, pct(0.5), pct(0.99), redirects, failures, reconnects);
    fflush(ctl_out);
}

static int all_admitted(void) { return n_admitted; }

/* Runs the loop until every session is admitted or failed, or limit s pass. */
static double run_until_settled(double limit) {
    double t0 = now_s();
    while (now_s() - t0 < limit) {
        pump();
        service();
        if (all_admitted() + failures >= nsess) break;
    }
    return now_s() - t0;
}

static void hold(double secs) {
    double t0 = now_s();
    while (now_s() - t0 < secs) service();
}

/* One turn sleeps until the next event, which may be the server's ping
 * 30 s away. A 20 ms tick bounds the
 * sleep, so the loops below see the time pass. */
static lws_sorted_usec_list_t tick_sul;

static void tick(lws_sorted_usec_list_t *sul) {
    lws_sul_schedule(ctx, 0, sul, tick, 20 * LWS_US_PER_MS);
}

/* One worker process: its share of the sessions on its own lws context. */
static int run_worker(void) {
    signal(SIGPIPE, SIG_IGN);
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_LIBEV;
    info.timeout_secs = 30;
    loop = ev_loop_new(EVFLAG_AUTO);
    if (loop == NULL) return 1;
    void *foreign[1] = {loop};
    info.foreign_loops = foreign;
    ctx = lws_create_context(&info);
    if (ctx == NULL) return 1;
    tick(&tick_sul);
    nsess = (opt.sessions - worker + nworkers - 1) / nworkers;
    S = calloc((size_t)nsess, sizeof *S);
    lat = calloc((size_t)nsess * 2, sizeof *lat);
    idle_q = calloc((size_t)nsess, sizeof *idle_q);
    if (S == NULL || lat == NULL || idle_q == NULL) return 1;
    next_url = worker;
    srand((unsigned)(getpid() ^ (unsigned)now_s()));
    for (int i = 0; i < nsess; i++) {
        S[i].entry = global_of(i) % opt.nurls;
        snprintf(S[i].url, sizeof S[i].url, "%s", opt.urls[S[i].entry]);
        enqueue(i);
    }
    double secs = run_until_settled(300);
    hold(1.0); /* the servers settle before the parent reads their memory */
    row("admit", secs, all_admitted());
    if (opt.storm_pid <= 0) {
        hold(opt.hold);
        return 0;
    }
    /* from here a closed session reconnects: the kill may reach this worker
     * before the parent's message saying when it happened */
    for (int e = 0; e < opt.nurls; e++) /* the killed node's entry URL is not used again */
        if (opt.storm_url && strcmp(opt.urls[e], opt.storm_url) == 0) opt.dead_url[e] = true;
    storm_phase = true;
    nlat = 0;
    admitted_now = failures = redirects = reconnects = 0;
    for (int i = 0; i < nsess; i++) S[i].counted = S[i].state == S_ADMITTED, S[i].hops = 0;
    fputs("A\n", ctl_out);
    fflush(ctl_out);
    /* hold (answering pings) until the parent says when it killed the node */
    char buf[64];
    size_t got = 0;
    double t0 = 0;
    fcntl(ctl_in, F_SETFL, O_NONBLOCK);
    while (t0 == 0) {
        service();
        ssize_t r = read(ctl_in, buf + got, sizeof buf - 1 - got);
        if (r > 0) got += (size_t)r;
        buf[got] = '\0';
        if (strchr(buf, '\n')) t0 = atof(buf);
    }
    /* sessions closed by the kill restart (restart()); run until all are back */
    double t = 0;
    double limit = getenv("LOADGEN_STORM_LIMIT") ? atof(getenv("LOADGEN_STORM_LIMIT")) : 120;
    double traced = 0;
    bool trace = getenv("LOADGEN_TRACE") != NULL;
    while ((t = now_s() - t0) < limit) {
        pump();
        service();
        if (trace && t - traced >= 0.25) { /* progress, for whoever studies a slow storm */
            traced = t;
            int st[5] = {0};
            for (int i = 0; i < nsess; i++) st[S[i].state]++;
            fprintf(stderr, "worker %d t %.2f admitted %d inflight %d queued %d idle %d connecting %d waiting %d\n",
                    worker, t, all_admitted(), inflight, q_len, st[S_IDLE], st[S_CONNECTING], st[S_WAITING]);
        }
        if (reconnects > 0 && all_admitted() >= nsess) break;
        if (reconnects == 0 && t > 10) break; /* none of this worker's sessions was on the node */
    }
    if (all_admitted() < nsess) { /* what the missing sessions are doing, for whoever reads stderr */
        int st[5] = {0};
        for (int i = 0; i < nsess; i++) st[S[i].state]++;
        fprintf(stderr, "loadgen worker %d: %d of %d not back: idle %d (queued %d), connecting %d, waiting %d, failed %d\n",
                worker, nsess - all_admitted(), nsess, st[S_IDLE], q_len, st[S_CONNECTING], st[S_WAITING], st[S_FAILED]);
    }
    row("storm", t, all_admitted());
    /* Every session stays open until the parent has all workers' rows (it
     * closes the pipe): a worker that ended first and closed its sessions
     * would load the servers, and the others' clients with notify
     * connection.destroyed, while the others are still being measured. */
    for (;;) {
        service();
        char b;
        ssize_t r = read(ctl_in, &b, 1);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) break;
    }
    lws_context_destroy(ctx);
    return 0;
}

/* ---- the parent: workers, memory, the kill, one merged row per phase ---- */

typedef struct merged {
    int sessions, admitted, redirects, failures, reconnects, n;
    double seconds, p50w, p99;
} merged;

static void merge_line(merged *m, const char *line) {
    json_t *o = json_loads(line, 0, NULL);
    if (o == NULL) return;
    int adm = (int)json_integer_value(json_object_get(o, "admitted"));
    m->sessions += (int)json_integer_value(json_object_get(o, "sessions"));
    m->admitted += adm;
    m->redirects += (int)json_integer_value(json_object_get(o, "redirects"));
    m->failures += (int)json_integer_value(json_object_get(o, "failures"));
    m->reconnects += (int)json_integer_value(json_object_get(o, "reconnects"));
    double sec = json_real_value(json_object_get(o, "seconds"));
    if (sec > m->seconds) m->seconds = sec;
    m->p50w += json_real_value(json_object_get(o, "p50")) * adm;
    double p99 = json_real_value(json_object_get(o, "p99"));
    if (p99 > m->p99) m->p99 = p99;
    m->n++;
    json_decref(o);
}

static void print_row(const char *phase, const merged *m, long rss_delta_kb, double cpu) {
    double rate = m->seconds > 0 ? m->admitted / m->seconds : 0;
    double per_cpu = cpu > 0 ? m->admitted / cpu : -1; /* admissions per second of server CPU */
    double p50 = m->admitted ? m->p50w / m->admitted : 0;
    double per = m->admitted > 0 && rss_delta_kb >= 0 ? (double)rss_delta_kb * 1024.0 / m->admitted : -1;
    if (opt.json)
        printf("{\"server\":\"%s\",\"phase\":\"%s\",\"sessions\":%d,\"admitted\":%d,\"seconds\":%.3f,"
               "\"connects_per_s\":%.0f,\"admit_ms_p50\":%.2f,\"admit_ms_p99\":%.2f,\"redirects\":%d,"
               "\"failures\":%d,\"reconnects\":%d,\"server_bytes_per_session\":%.0f,"
               "\"admits_per_server_cpu_s\":%.0f}\n",
               opt.label, phase, m->sessions, m->admitted, m->seconds, rate, p50, m->p99, m->redirects,
               m->failures, m->reconnects, per, per_cpu);
    else
        printf("%-10s %-6s %8d %8d %8.2f %10.0f %9.2f %9.2f %9d %8d %10d %12.0f %12.0f\n", opt.label, phase,
               m->sessions, m->admitted, m->seconds, rate, p50, m->p99, m->redirects, m->failures, m->reconnects,
               per, per_cpu);
    fflush(stdout);
}

/* Reads one line from any worker; NULL when all pipes closed. */
static FILE *from[64];

static bool read_rows(const char *phase, int want, merged *m, int *acks) {
    char line[1024];
    int rows = 0;
    for (int k = 0; k < nworkers && rows < want; k++) {
        while (fgets(line, sizeof line, from[k])) {
            if (strcmp(line, "A\n") == 0) {
                if (acks) (*acks)++;
                continue;
            }
            if (strstr(line, phase) == NULL) continue;
            merge_line(m, line);
            rows++;
            break;
        }
    }
    return rows == want;
}

int main(int argc, char **argv) {
    int procs = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) { opt.json = true; continue; }
        if (v == NULL) { fprintf(stderr, "loadgen: %s needs a value\n", a); return 2; }
        i++;
        if (strcmp(a, "--url") == 0 && opt.nurls < MAX_URLS) opt.urls[opt.nurls++] = (char *)v;
        else if (strcmp(a, "--sessions") == 0) opt.sessions = atoi(v);
        else if (strcmp(a, "--channels") == 0) opt.channels = atoi(v);
        else if (strcmp(a, "--concurrency") == 0) opt.concurrency = atoi(v);
        else if (strcmp(a, "--procs") == 0) procs = atoi(v);
        else if (strcmp(a, "--hold") == 0) opt.hold = atof(v);
        else if (strcmp(a, "--label") == 0) opt.label = v;
        else if (strcmp(a, "--rss-pid") == 0 && opt.npids < MAX_PIDS) opt.pids[opt.npids++] = atoi(v);
        else if (strcmp(a, "--storm-kill") == 0) opt.storm_pid = atoi(v);
        else if (strcmp(a, "--storm-url") == 0) opt.storm_url = v;
        else if (strcmp(a, "--bind") == 0) {
            char *list = strdup(v), *save = NULL;
            for (char *t = strtok_r(list, ",", &save); t && opt.nbinds < MAX_BINDS; t = strtok_r(NULL, ",", &save))
                opt.binds[opt.nbinds++] = t;
        } else { fprintf(stderr, "loadgen: unknown option %s\n", a); return 2; }
    }
    if (opt.nurls == 0 || opt.sessions <= 0 || opt.channels <= 0 || procs < 1 || procs > 64) {
        fprintf(stderr, "usage: loadgen --url URL [--url URL...] --sessions N [--channels C] [--concurrency K]\n"
                        "               [--procs P] [--bind IP,IP] [--hold S] [--rss-pid PID]\n"
                        "               [--storm-kill PID --storm-url URL] [--label L] [--json]\n");
        return 2;
    }
    nworkers = procs;
    opt.concurrency = (opt.concurrency + procs - 1) / procs; /* in flight, over all workers */
    long rss0[MAX_PIDS];
    double cpu0 = 0;
    for (int k = 0; k < opt.npids; k++) rss0[k] = rss_kb(opt.pids[k]), cpu0 += cpu_s(opt.pids[k]);
    int to[64];
    pid_t kids[64];
    for (int k = 0; k < procs; k++) {
        int down[2], up[2];
        if (pipe(down) != 0 || pipe(up) != 0) return 1;
        kids[k] = fork();
        if (kids[k] == 0) {
            for (int j = 0; j < k; j++) close(to[j]); /* the earlier workers' pipes: their end is the parent's alone */
            worker = k;
            ctl_in = down[0];
            ctl_out = fdopen(up[1], "w");
            close(down[1]);
            close(up[0]);
            _exit(run_worker());
        }
        close(down[0]);
        close(up[1]);
        to[k] = down[1];
        from[k] = fdopen(up[0], "r");
    }
    if (!opt.json)
        printf("%-10s %-6s %8s %8s %8s %10s %9s %9s %9s %8s %10s %12s %12s\n", "server", "phase", "sessions", "admitted",
               "seconds", "connects/s", "p50 ms", "p99 ms", "redirects", "failures", "reconnects", "B/session", "admits/cpu-s");
    merged m = {0};
    read_rows("\"admit\"", procs, &m, NULL);
    long delta = opt.npids ? 0 : -1;
    double cpu = opt.npids ? -cpu0 : -1;
    for (int k = 0; k < opt.npids; k++) delta += rss_kb(opt.pids[k]) - rss0[k], cpu += cpu_s(opt.pids[k]);
    print_row("admit", &m, delta, cpu);
    if (opt.storm_pid > 0) {
        char line[64];
        for (int k = 0; k < procs; k++) /* every worker holds all its sessions */
            while (fgets(line, sizeof line, from[k]) && strcmp(line, "A\n") != 0) {
            }
        double t_end = now_s() + opt.hold;
        while (now_s() < t_end) usleep(10000);
        double t0 = now_s();
        kill(opt.storm_pid, SIGKILL); /* a node the caller started and named */
        snprintf(line, sizeof line, "%.6f\n", t0);
        for (int k = 0; k < procs; k++)
            if (write(to[k], line, strlen(line)) < 0) perror("loadgen: worker pipe");
        merged st = {0};
        read_rows("\"storm\"", procs, &st, NULL);
        print_row("storm", &st, -1, -1);
    }
    for (int k = 0; k < procs; k++) close(to[k]); /* the workers end their sessions and exit */
    for (int k = 0; k < procs; k++) waitpid(kids[k], NULL, 0);
    return 0;
}

/* wakeprobe.c - how late this machine lets a thread run, with no load of
 * ours: the floor under bench/media's latency figures.
 *
 * A node at half load blocks between packets and is woken by the next one
 * (tens of thousands of times a second); what the machine adds to each wake
 * is added to every packet waiting behind it. Two rows, one CPU:
 *   sleep  - sleeps --sleep-us at a time (1 µs timer slack, as shoald sets)
 *            and reads how much later than asked it ran again: the guest's
 *            timer and the hypervisor's rescheduling of a halted vCPU;
 *   spin   - reads the clock in a loop and counts the gaps between two
 *            reads: the times the vCPU, busy, was taken away.
 * "lost": the time beyond 20 µs in those latenesses or gaps, as a share of
 * the row's wall time.
 *
 *   wakeprobe [--cpu 0] [--seconds 30] [--sleep-us 200] [--json]
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

static int64_t mono_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Counts of values (ns) in power-of-two buckets: percentiles to within a
 * factor of two in constant memory, however long the probe runs. */
typedef struct {
    uint64_t bucket[64];
    uint64_t n, over_1ms, over_10ms, over_50ms;
    int64_t max, sum_over_20us;
} hist;

static void hist_add(hist *h, int64_t v) {
    if (v < 0) v = 0;
    int b = v ? 63 - __builtin_clzll((unsigned long long)v) : 0;
    h->bucket[b]++;
    h->n++;
    h->over_1ms += v > 1000000;
    h->over_10ms += v > 10000000;
    h->over_50ms += v > 50000000;
    if (v > 20000) h->sum_over_20us += v;
    if (v > h->max) h->max = v;
}

/* The upper bound (µs) of the bucket holding the q-quantile. */
static double hist_pct_us(const hist *h, double q) {
    uint64_t want = (uint64_t)((double)h->n * q), seen = 0;
    for (int b = 0; b < 64; b++) {
        seen += h->bucket[b];
        if (seen > want) return (double)(2ull << b) / 1000.0;
    }
    return (double)h->max / 1000.0;
}

static void print_row(const char *mode, int cpu, double secs, const hist *h, bool json) {
    double per_s = (double)h->over_1ms / secs;
    if (json) {
        printf("{\"mode\":\"%s\",\"cpu\":%d,\"seconds\":%.1f,\"samples\":%llu,\"p50_us_under\":%.1f,"
               "\"p99_us_under\":%.1f,\"p999_us_under\":%.1f,\"max_ms\":%.3f,\"over_1ms\":%llu,"
               "\"over_1ms_per_s\":%.2f,\"over_10ms\":%llu,\"over_50ms\":%llu,\"time_lost_pct\":%.2f}\n",
               mode, cpu, secs, (unsigned long long)h->n, hist_pct_us(h, 0.5), hist_pct_us(h, 0.99),
               hist_pct_us(h, 0.999), (double)h->max / 1e6, (unsigned long long)h->over_1ms, per_s,
               (unsigned long long)h->over_10ms, (unsigned long long)h->over_50ms,
               100.0 * (double)h->sum_over_20us / (secs * 1e9));
    } else {
        printf("%-6s %4d %10llu %9.1f %9.1f %10.1f %9.2f %8llu %8.2f %8llu %8llu %8.2f\n", mode, cpu,
               (unsigned long long)h->n, hist_pct_us(h, 0.5), hist_pct_us(h, 0.99), hist_pct_us(h, 0.999),
               (double)h->max / 1e6, (unsigned long long)h->over_1ms, per_s, (unsigned long long)h->over_10ms,
               (unsigned long long)h->over_50ms, 100.0 * (double)h->sum_over_20us / (secs * 1e9));
    }
}

int main(int argc, char **argv) {
    int cpu = 0;
    double secs = 30;
    long sleep_us = 200;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--cpu") == 0 && v) cpu = atoi(v), i++;
        else if (strcmp(a, "--seconds") == 0 && v) secs = atof(v), i++;
        else if (strcmp(a, "--sleep-us") == 0 && v) sleep_us = atol(v), i++;
        else if (strcmp(a, "--json") == 0) json = true;
        else {
            fprintf(stderr, "usage: wakeprobe [--cpu N] [--seconds S] [--sleep-us U] [--json]\n");
            return 2;
        }
    }
    if (secs <= 0 || secs > 3600 || sleep_us < 1 || sleep_us > 1000000) {
        fprintf(stderr, "wakeprobe: --seconds must be in (0, 3600], --sleep-us in [1, 1000000]\n");
        return 2;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        fprintf(stderr, "wakeprobe: cannot run on CPU %d\n", cpu);
        return 1;
    }
    prctl(PR_SET_TIMERSLACK, 1000UL);
    if (!json) {
        printf("# wakeprobe: CPU %d, %.0f s per row; sleep: lateness of %ld us sleeps; spin: gaps between clock "
               "reads; percentiles are bucket bounds (within 2x); lost: the time over 20 us in them, of wall time\n",
               cpu, secs, sleep_us);
        printf("%-6s %4s %10s %9s %9s %10s %9s %8s %8s %8s %8s %8s\n", "mode", "cpu", "samples", "p50 <us",
               "p99 <us", "p99.9 <us", "max ms", ">1ms", ">1ms/s", ">10ms", ">50ms", "lost %");
    }
    hist h;
    memset(&h, 0, sizeof h);
    int64_t end = mono_ns() + (int64_t)(secs * 1e9);
    for (int64_t t = mono_ns(); t < end; t = mono_ns()) {
        struct timespec d = {.tv_sec = sleep_us / 1000000, .tv_nsec = (sleep_us % 1000000) * 1000};
        clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);
        hist_add(&h, mono_ns() - t - sleep_us * 1000);
    }
    print_row("sleep", cpu, secs, &h, json);
    memset(&h, 0, sizeof h);
    int64_t prev = mono_ns();
    end = prev + (int64_t)(secs * 1e9);
    for (int64_t t = prev; t < end; prev = t) {
        t = mono_ns();
        hist_add(&h, t - prev);
    }
    print_row("spin", cpu, secs, &h, json);
    return 0;
}

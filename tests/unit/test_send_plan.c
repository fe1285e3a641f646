/* test_send_plan.c - UDP GSO grouping: what one message may carry (one
 * address, one segment size, a shorter last one, the segment and byte
 * limits), and that every datagram is planned exactly once and each
 * address's datagrams keep their order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "send_plan.h"

static sfu_dgram *dgrams(uint32_t n) { return calloc(n, sizeof(sfu_dgram)); }

static void to(sfu_dgram *d, uint8_t host, uint16_t port, size_t len) {
    d->to = (stun_addr){.family = 4, .port = port, .ip = {10, 0, 0, host}};
    d->len = len;
}

/* Every datagram appears once, and within one address in queue order. */
static void check_complete(const send_plan *p, const sfu_dgram *d, uint32_t n) {
    uint8_t *seen = calloc(n, 1);
    uint32_t total = 0;
    for (uint32_t g = 0; g < p->ngroups; g++) {
        const send_group *grp = &p->groups[g];
        assert_true(grp->count >= 1);
        const sfu_dgram *first = &d[p->idx[grp->first]];
        for (uint32_t j = 0; j < grp->count; j++) {
            uint32_t i = p->idx[grp->first + j];
            assert_true(i < n);
            assert_false(seen[i]);
            seen[i] = 1;
            assert_true(stun_addr_eq(&d[i].to, &first->to));
            if (j + 1 < grp->count) assert_int_equal(d[i].len, grp->seg); /* only the last may be shorter */
            else assert_true(d[i].len <= grp->seg);
        }
        total += grp->count;
    }
    assert_int_equal(total, n);
    /* per address: indexes rise across the groups in plan order */
    stun_addr *addrs = calloc(n, sizeof *addrs);
    uint32_t *last = calloc(n, sizeof *last), naddrs = 0;
    for (uint32_t g = 0; g < p->ngroups; g++)
        for (uint32_t j = 0; j < p->groups[g].count; j++) {
            uint32_t i = p->idx[p->groups[g].first + j], a = 0;
            while (a < naddrs && !stun_addr_eq(&addrs[a], &d[i].to)) a++;
            if (a == naddrs) addrs[naddrs++] = d[i].to;
            else assert_true(i > last[a]);
            last[a] = i;
        }
    free(addrs);
    free(last);
    free(seen);
}

static void fan_out_groups_per_receiver(void **st) {
    (void)st;
    /* 3 senders' packets, each copied to 4 receivers, interleaved as the
     * SFU queues them: receiver r gets one copy of each packet */
    enum { PKTS = 6, RCV = 4 };
    sfu_dgram *d = dgrams(PKTS * RCV);
    for (uint32_t k = 0; k < PKTS; k++)
        for (uint32_t r = 0; r < RCV; r++) to(&d[k * RCV + r], (uint8_t)(r + 1), 5000, 1032);
    send_plan p;
    assert_int_equal(send_plan_init(&p, 64), 0);
    send_plan_make(&p, d, PKTS * RCV, SEND_PLAN_MAX_SEGS);
    assert_int_equal(p.ngroups, RCV); /* one message per receiver */
    for (uint32_t g = 0; g < p.ngroups; g++) {
        assert_int_equal(p.groups[g].count, PKTS);
        assert_int_equal(p.groups[g].seg, 1032);
    }
    check_complete(&p, d, PKTS * RCV);
    /* GSO off: one datagram per message, in queue order */
    send_plan_make(&p, d, PKTS * RCV, 1);
    assert_int_equal(p.ngroups, PKTS * RCV);
    for (uint32_t g = 0; g < p.ngroups; g++) assert_int_equal(p.idx[p.groups[g].first], g);
    check_complete(&p, d, PKTS * RCV);
    send_plan_free(&p);
    free(d);
}

static void sizes_ports_and_limits(void **st) {
    (void)st;
    sfu_dgram *d = dgrams(200);
    send_plan p;
    assert_int_equal(send_plan_init(&p, 200), 0);
    /* one address: 1000, 1000, 600 (ends the group), 1000, 1200 (larger:
     * a new group), 1200 */
    const size_t lens[] = {1000, 1000, 600, 1000, 1200, 1200};
    for (int i = 0; i < 6; i++) to(&d[i], 1, 5000, lens[i]);
    send_plan_make(&p, d, 6, SEND_PLAN_MAX_SEGS);
    assert_int_equal(p.ngroups, 3);
    assert_int_equal(p.groups[0].count, 3);
    assert_int_equal(p.groups[0].seg, 1000);
    assert_int_equal(p.groups[1].count, 1);
    assert_int_equal(p.groups[2].count, 2);
    assert_int_equal(p.groups[2].seg, 1200);
    check_complete(&p, d, 6);
    /* same host, other port: other address */
    to(&d[0], 1, 5000, 500);
    to(&d[1], 1, 5001, 500);
    send_plan_make(&p, d, 2, SEND_PLAN_MAX_SEGS);
    assert_int_equal(p.ngroups, 2);
    /* 200 datagrams of 1200 bytes to one address: at most 54 per message
     * (65,000 bytes), and never more than SEND_PLAN_MAX_SEGS of 100 bytes */
    for (int i = 0; i < 200; i++) to(&d[i], 7, 9, 1200);
    send_plan_make(&p, d, 200, SEND_PLAN_MAX_SEGS);
    for (uint32_t g = 0; g < p.ngroups; g++) assert_true(p.groups[g].count * p.groups[g].seg <= SEND_PLAN_MAX_BYTES);
    assert_int_equal(p.groups[0].count, SEND_PLAN_MAX_BYTES / 1200);
    check_complete(&p, d, 200);
    for (int i = 0; i < 200; i++) to(&d[i], 7, 9, 100);
    send_plan_make(&p, d, 200, SEND_PLAN_MAX_SEGS);
    assert_int_equal(p.groups[0].count, SEND_PLAN_MAX_SEGS);
    assert_int_equal(p.ngroups, (200 + SEND_PLAN_MAX_SEGS - 1) / SEND_PLAN_MAX_SEGS);
    check_complete(&p, d, 200);
    send_plan_free(&p);
    free(d);
}

static void random_batches(void **st) {
    (void)st;
    enum { N = 1024 };
    sfu_dgram *d = dgrams(N);
    send_plan p;
    assert_int_equal(send_plan_init(&p, N), 0);
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int round = 0; round < 200; round++) {
        uint32_t n = 1 + (uint32_t)(x % N);
        for (uint32_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* few addresses, mostly equal sizes: long groups, many splits */
            to(&d[i], (uint8_t)(x % 9), (uint16_t)(5000 + (x >> 8) % 2), (x >> 16) % 4 ? 1100 : 100 + (x >> 20) % 1300);
        }
        send_plan_make(&p, d, n, SEND_PLAN_MAX_SEGS);
        check_complete(&p, d, n);
    }
    send_plan_free(&p);
    free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fan_out_groups_per_receiver),
        cmocka_unit_test(sizes_ports_and_limits),
        cmocka_unit_test(random_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

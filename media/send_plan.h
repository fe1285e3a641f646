/* send_plan.h - groups a batch of outgoing datagrams for UDP GSO
 * (UDP_SEGMENT): datagrams to one address, in their order, all of one size
 * but the last of a group (which may be shorter), leave as one message that
 * the kernel or the NIC cuts back into datagrams. Under load a fan-out
 * batch sends each receiver several packets, so one kernel crossing then
 * carries several. No I/O: node/media_io.c sends what this plans. */
#ifndef SHOAL_SEND_PLAN_H
#define SHOAL_SEND_PLAN_H

#include <stdint.h>

#include "sfu.h"

#define SEND_PLAN_MAX_SEGS 64     /* the kernel's UDP_MAX_SEGMENTS before Linux 6.9 */
#define SEND_PLAN_MAX_BYTES 65000 /* one UDP message carries at most 65,507 */

typedef struct {
    uint32_t first; /* its datagrams are idx[first .. first + count) */
    uint32_t count;
    uint32_t seg; /* the size of each but the last: the GSO segment size */
} send_group;

typedef struct {
    uint32_t cap; /* datagrams one plan takes */
    uint32_t ngroups;
    send_group *groups; /* in the order they were opened: per address, order is kept */
    uint32_t *idx;      /* datagram indexes, group by group */
    uint32_t *group_of; /* scratch: each datagram's group */
    uint32_t *slots;    /* scratch: address hash -> open group + 1 */
    uint32_t nslots;
} send_plan;

int send_plan_init(send_plan *p, uint32_t cap);
void send_plan_free(send_plan *p);
/* Plans d[0 .. n), n <= cap. max_segs 1 makes one group per datagram (GSO
 * off: the kernel refused it). */
void send_plan_make(send_plan *p, const sfu_dgram *d, uint32_t n, uint32_t max_segs);

#endif

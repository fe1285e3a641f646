/* fd_limit.c - the node's open-file limit (see fd_limit.h). */
#include "fd_limit.h"

#include <sys/resource.h>

uint64_t fd_limit_want(uint32_t max_connections) {
    return (uint64_t)max_connections + max_connections / 4 + FD_LIMIT_RESERVE;
}

int fd_limit_apply(uint32_t max_connections, fd_limit *out) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    uint64_t want = fd_limit_want(max_connections);
    uint64_t hard = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_max;
    uint64_t limit = want < hard ? want : hard;
    if ((uint64_t)rl.rlim_cur != limit) {
        rl.rlim_cur = (rlim_t)limit;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    }
    *out = (fd_limit){.want = want, .limit = limit, .hard = hard};
    return 0;
}

bool fd_limit_accept_ok(const fd_limit *l, int fd, uint32_t headroom) {
    /* the headrooms are for a limit of 1024 or more (fd_limit_want's least);
     * under a lower hard limit they shrink in proportion, or a node with a
     * limit of 256 would accept nobody */
    uint64_t h = l->limit >= 1024 ? headroom : l->limit * headroom / 1024;
    return fd >= 0 && (uint64_t)fd + h < l->limit;
}

/* fd_limit.h - the node's open-file limit, sized to max_connections.
 *
 * Every client is a socket, so the soft RLIMIT_NOFILE must cover
 * max_connections and the sockets being redirected or refused meanwhile,
 * with room for the API, gossip streams, the webhook and files. It should
 * not be much larger either: libwebsockets sizes its descriptor tables by
 * the limit at start (two 8-byte entries per possible descriptor) and, in
 * Debian's build, scans the whole table on every close (a check that no
 * other connection still uses the descriptor). With a service manager's
 * hard limit of 524,288 or more, raising the soft limit to it would cost
 * megabytes read per closed socket. */
#ifndef SHOAL_FD_LIMIT_H
#define SHOAL_FD_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define FD_LIMIT_RESERVE 1024 /* API, gossip streams, webhook, logs, media, slack */

typedef struct fd_limit {
    uint64_t want;   /* fd_limit_want(max_connections) */
    uint64_t limit;  /* the soft limit set (want, or the hard limit when lower) */
    uint64_t hard;
} fd_limit;

/* A socket accepted with a descriptor this close to the limit is closed at
 * once (fd_limit_accept_ok). A flood of connections must not take the last
 * descriptors: accept() would then fail with EMFILE on a listening socket
 * that stays readable, and libwebsockets' loop spins on it, logging every
 * failure (seen: 100% CPU and 1.4 million stderr lines in 4 s, nothing
 * served). The API keeps a smaller headroom than signaling, so that health
 * checks and metrics still answer during a signaling flood. */
#define FD_LIMIT_SIGNALING_HEADROOM 256
#define FD_LIMIT_API_HEADROOM 64

/* max_connections, a quarter more for sockets being redirected or refused
 * (a redirected socket stays up to 5 s), and FD_LIMIT_RESERVE. */
uint64_t fd_limit_want(uint32_t max_connections);

/* Sets the soft limit to fd_limit_want (at most the hard limit). Returns 0,
 * or -1 with errno when getrlimit/setrlimit fail (then nothing changed). */
int fd_limit_apply(uint32_t max_connections, fd_limit *out);

/* Whether a socket just accepted as descriptor fd may stay: descriptors are
 * handed out lowest first, so fd's number tells how many are open. */
bool fd_limit_accept_ok(const fd_limit *l, int fd, uint32_t headroom);

#endif

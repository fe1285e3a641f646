/* addr.h - a peer's transport address as the cores see it: IPv4 + port.
 *
 * Cores never resolve names or touch sockets; adapters convert between this
 * and struct sockaddr_in. IPv4 only for now (DESIGN.md: a private subnet). */
#ifndef SHOAL_ADDR_H
#define SHOAL_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct shoal_addr {
    uint32_t ip;   /* host byte order */
    uint16_t port; /* host byte order */
} shoal_addr;

static inline bool shoal_addr_eq(shoal_addr a, shoal_addr b) {
    return a.ip == b.ip && a.port == b.port;
}

/* Parses dotted-quad "a.b.c.d"; returns false on anything else. */
bool shoal_addr_parse_ip(const char *s, uint32_t *ip);

/* Writes "a.b.c.d:port" into buf (at least 22 bytes). */
void shoal_addr_format(shoal_addr a, char *buf, size_t cap);

/* Splits a node name "name@host" and parses host as an IPv4 address.
 * Returns false if there is no '@', the name part is empty or host is not
 * a dotted quad. */
bool shoal_node_name_ip(const char *node_name, uint32_t *ip);

#endif

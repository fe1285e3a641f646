/* addr.c - parsing and printing of IPv4 addresses and node names. */
#include "addr.h"

#include <stdio.h>
#include <string.h>

bool shoal_addr_parse_ip(const char *s, uint32_t *ip) {
    uint32_t v = 0;
    for (int part = 0; part < 4; part++) {
        if (*s < '0' || *s > '9') return false;
        uint32_t octet = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            octet = octet * 10 + (uint32_t)(*s - '0');
            if (++digits > 3 || octet > 255) return false;
            s++;
        }
        v = (v << 8) | octet;
        if (part < 3) {
            if (*s != '.') return false;
            s++;
        }
    }
    if (*s != '\0') return false;
    *ip = v;
    return true;
}

void shoal_addr_format(shoal_addr a, char *buf, size_t cap) {
    snprintf(buf, cap, "%u.%u.%u.%u:%u", (a.ip >> 24) & 255, (a.ip >> 16) & 255,
             (a.ip >> 8) & 255, a.ip & 255, a.port);
}

bool shoal_node_name_ip(const char *node_name, uint32_t *ip) {
    const char *at = strchr(node_name, '@');
    if (at == NULL || at == node_name) return false;
    return shoal_addr_parse_ip(at + 1, ip);
}

/* config.h - shoald's configuration file (DESIGN.md: key = value, # comments).
 *
 * Every key of DESIGN.md is known; an unknown key, a repeated key or a bad
 * value is an error that names the file, the line and the key, and the node
 * does not start. Defaults are the named constants below. */
#ifndef SHOAL_CONFIG_H
#define SHOAL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

#define CONFIG_MAX_CONTACTS 64
#define CONFIG_PATH_MAX 1024

typedef struct shoal_config {
    char cluster_name[WIRE_CLUSTER_MAX + 1];
    char node_name[WIRE_NAME_MAX + 1];              /* name@ipv4 */
    bool temporary;                                 /* node_type = temporary */
    char contacts[CONFIG_MAX_CONTACTS][WIRE_NAME_MAX + 1];
    uint32_t ncontacts;
    uint16_t cluster_port;                          /* 49010: gossip UDP + TCP */
    uint16_t relay_port;                            /* 49011 */
    uint16_t signaling_port;                        /* 5000 */
    uint16_t api_port;                              /* 3000 */
    char public_signaling_url[WIRE_URL_MAX + 1];    /* default ws://HOST:signaling_port/signaling */
    char data_dir[CONFIG_PATH_MAX];
    char log_dir[CONFIG_PATH_MAX];
    uint32_t weight;                                /* 100 */
    uint32_t max_connections;                       /* 10000: signaling sessions this node admits */
    uint32_t cluster_max_connections;               /* 0 = none: sessions the whole cluster admits (gossiped loads) */
    bool signaling_ping_stats;                      /* false: pings ask clients for getStats when true */
    uint32_t auth_webhook_timeout_ms;               /* 5000: no answer by then = rejected */
    double bounded_load_epsilon;                    /* 0.25: placement cap = (1+eps) x weighted average */
    char tls_cert_file[CONFIG_PATH_MAX];
    char tls_key_file[CONFIG_PATH_MAX];
    char auth_webhook_url[WIRE_URL_MAX + 1];
    char listen_address[16];                        /* default: the host of node_name */
    uint16_t media_port;                            /* 5004: the media plane's one UDP socket */
    char media_address[16];                         /* the host candidate in offers; default listen_address */
    char dtls_cert_file[CONFIG_PATH_MAX];           /* default: a self-signed P-256 one made at start */
    char dtls_key_file[CONFIG_PATH_MAX];
    uint32_t node_ip;                               /* parsed from node_name */
    uint32_t listen_ip;
} shoal_config;

/* Loads and validates path. On failure returns false and writes a message
 * ("FILE:LINE: key: reason") into err. */
bool shoal_config_load(const char *path, shoal_config *cfg, char *err, size_t errlen);

#endif

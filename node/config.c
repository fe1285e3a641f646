/* config.c - parsing (libinih) and validation of shoald's config file. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

typedef struct parse_ctx {
    shoal_config *cfg;
    char err[512];
    char seen[32][32];     /* keys already set, to refuse repeats */
    int nseen;
} parse_ctx;

static bool set_string(char *dst, size_t cap, const char *v, char *why, size_t wl) {
    if (strlen(v) >= cap) {
        snprintf(why, wl, "value longer than %zu bytes", cap - 1);
        return false;
    }
    snprintf(dst, cap, "%s", v);
    return true;
}

static bool set_uint(uint32_t *dst, const char *v, uint32_t min, uint32_t max, char *why, size_t wl) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*v == '\0' || *v == '-' || *end != '\0' || errno != 0 || x < min || x > max) {
        snprintf(why, wl, "'%s' is not an integer from %u to %u", v, min, max);
        return false;
    }
    *dst = (uint32_t)x;
    return true;
}

static bool set_bool(bool *dst, const char *v, char *why, size_t wl) {
    if (strcmp(v, "true") == 0) *dst = true;
    else if (strcmp(v, "false") == 0) *dst = false;
    else return snprintf(why, wl, "'%s' is neither true nor false", v), false;
    return true;
}

static bool set_port(uint16_t *dst, const char *v, char *why, size_t wl) {
    uint32_t x;
    if (!set_uint(&x, v, 1, 65535, why, wl)) return false;
    *dst = (uint16_t)x;
    return true;
}

static bool valid_node_name(const char *v) {
    uint32_t ip;
    if (!shoal_node_name_ip(v, &ip)) return false;
    for (const char *p = v; *p != '@'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

static bool set_contacts(shoal_config *c, const char *v, char *why, size_t wl) {
    char buf[CONFIG_MAX_CONTACTS * (WIRE_NAME_MAX + 2)];
    if (!set_string(buf, sizeof buf, v, why, wl)) return false;
    c->ncontacts = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ' || *tok == '\t') tok++;
        size_t len = strlen(tok);
        while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t')) tok[--len] = '\0';
        if (len == 0) continue;
        if (!valid_node_name(tok) || len > WIRE_NAME_MAX) {
            snprintf(why, wl, "'%s' is not a node name of the form name@a.b.c.d", tok);
            return false;
        }
        if (c->ncontacts == CONFIG_MAX_CONTACTS) {
            snprintf(why, wl, "more than %d contact nodes", CONFIG_MAX_CONTACTS);
            return false;
        }
        snprintf(c->contacts[c->ncontacts++], WIRE_NAME_MAX + 1, "%s", tok);
    }
    if (c->ncontacts == 0) {
        snprintf(why, wl, "empty list");
        return false;
    }
    return true;
}

static bool set_key(shoal_config *c, const char *k, const char *v, char *why, size_t wl) {
#define STR(field) set_string(c->field, sizeof c->field, v, why, wl)
    if (strcmp(k, "cluster_name") == 0) {
        if (!STR(cluster_name)) return false;
        if (v[0] == '\0') return snprintf(why, wl, "must not be empty"), false;
        return true;
    }
    if (strcmp(k, "node_name") == 0) {
        if (!valid_node_name(v) || strlen(v) > WIRE_NAME_MAX) {
            snprintf(why, wl, "'%s' is not of the form name@a.b.c.d (name: letters, digits, -_.)", v);
            return false;
        }
        return STR(node_name);
    }
    if (strcmp(k, "node_type") == 0) {
        if (strcmp(v, "regular") == 0) c->temporary = false;
        else if (strcmp(v, "temporary") == 0) c->temporary = true;
        else return snprintf(why, wl, "'%s' is neither regular nor temporary", v), false;
        return true;
    }
    if (strcmp(k, "contact_node_name_list") == 0) return set_contacts(c, v, why, wl);
    if (strcmp(k, "cluster_port") == 0) return set_port(&c->cluster_port, v, why, wl);
    if (strcmp(k, "relay_port") == 0) return set_port(&c->relay_port, v, why, wl);
    if (strcmp(k, "signaling_port") == 0) return set_port(&c->signaling_port, v, why, wl);
    if (strcmp(k, "api_port") == 0) return set_port(&c->api_port, v, why, wl);
    if (strcmp(k, "public_signaling_url") == 0) {
        if (strncmp(v, "ws://", 5) != 0 && strncmp(v, "wss://", 6) != 0)
            return snprintf(why, wl, "'%s' does not start with ws:// or wss://", v), false;
        return STR(public_signaling_url);
    }
    if (strcmp(k, "data_dir") == 0) return STR(data_dir);
    if (strcmp(k, "log_dir") == 0) return STR(log_dir);
    if (strcmp(k, "weight") == 0) return set_uint(&c->weight, v, 1, 10000, why, wl);
    if (strcmp(k, "max_connections") == 0) return set_uint(&c->max_connections, v, 1, 1000000, why, wl);
    if (strcmp(k, "cluster_max_connections") == 0)
        return set_uint(&c->cluster_max_connections, v, 0, 100000000, why, wl);
    if (strcmp(k, "signaling_ping_stats") == 0) return set_bool(&c->signaling_ping_stats, v, why, wl);
    if (strcmp(k, "auth_webhook_timeout_ms") == 0)
        return set_uint(&c->auth_webhook_timeout_ms, v, 100, 60000, why, wl);
    if (strcmp(k, "bounded_load_epsilon") == 0) {
        char *end;
        double d = strtod(v, &end);
        if (end == v || *end != '\0' || !(d >= 0.01 && d <= 10.0))
            return snprintf(why, wl, "'%s' is not a number from 0.01 to 10", v), false;
        c->bounded_load_epsilon = d;
        return true;
    }
    if (strcmp(k, "tls_cert_file") == 0) return STR(tls_cert_file);
    if (strcmp(k, "tls_key_file") == 0) return STR(tls_key_file);
    if (strcmp(k, "auth_webhook_url") == 0) {
        if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
            return snprintf(why, wl, "'%s' does not start with http:// or https://", v), false;
        return STR(auth_webhook_url);
    }
    if (strcmp(k, "listen_address") == 0) {
        if (!shoal_addr_parse_ip(v, &c->listen_ip))
            return snprintf(why, wl, "'%s' is not an IPv4 address", v), false;
        return STR(listen_address);
    }
    if (strcmp(k, "media_port") == 0) return set_port(&c->media_port, v, why, wl);
    if (strcmp(k, "media_address") == 0) {
        uint32_t ip;
        if (!shoal_addr_parse_ip(v, &ip) || ip == 0)
            return snprintf(why, wl, "'%s' is not a unicast IPv4 address", v), false;
        return STR(media_address);
    }
    if (strcmp(k, "dtls_cert_file") == 0) return STR(dtls_cert_file);
    if (strcmp(k, "dtls_key_file") == 0) return STR(dtls_key_file);
#undef STR
    snprintf(why, wl, "unknown key");
    return false;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
    parse_ctx *ctx = user;
    char why[384];
    if (ctx->err[0] != '\0') return 0; /* inih goes on; keep the first error */
    if (section[0] != '\0') {
        snprintf(ctx->err, sizeof ctx->err, "[%s]: sections are not used in this file", section);
        return 0;
    }
    for (int i = 0; i < ctx->nseen; i++)
        if (strcmp(ctx->seen[i], name) == 0) {
            snprintf(ctx->err, sizeof ctx->err, "%s: set twice", name);
            return 0;
        }
    if (!set_key(ctx->cfg, name, value, why, sizeof why)) {
        snprintf(ctx->err, sizeof ctx->err, "%s: %s", name, why);
        return 0;
    }
    if (ctx->nseen < 32) snprintf(ctx->seen[ctx->nseen++], sizeof ctx->seen[0], "%s", name);
    return 1;
}

static void defaults(shoal_config *c) {
    memset(c, 0, sizeof *c);
    c->cluster_port = 49010;
    c->relay_port = 49011;
    c->signaling_port = 5000;
    c->api_port = 3000;
    c->weight = 100;
    c->bounded_load_epsilon = 0.25;
    c->max_connections = 10000;
    c->auth_webhook_timeout_ms = 5000;
    c->media_port = 5004;
}

bool shoal_config_load(const char *path, shoal_config *cfg, char *err, size_t errlen) {
    parse_ctx ctx = {.cfg = cfg};
    defaults(cfg);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return false;
    }
    int line = ini_parse_file(f, handler, &ctx);
    fclose(f);
    if (line != 0) {
        snprintf(err, errlen, "%s:%d: %s", path, line,
                 ctx.err[0] ? ctx.err : "not a 'key = value' line");
        return false;
    }
    const char *missing = cfg->cluster_name[0] == '\0'      ? "cluster_name"
                          : cfg->node_name[0] == '\0'       ? "node_name"
                          : cfg->ncontacts == 0             ? "contact_node_name_list"
                          : cfg->data_dir[0] == '\0'        ? "data_dir"
                          : cfg->log_dir[0] == '\0'         ? "log_dir"
                                                            : NULL;
    if (missing != NULL) {
        snprintf(err, errlen, "%s: %s: required key missing", path, missing);
        return false;
    }
    if ((cfg->tls_cert_file[0] == '\0') != (cfg->tls_key_file[0] == '\0')) {
        snprintf(err, errlen, "%s: tls_cert_file and tls_key_file go together", path);
        return false;
    }
    shoal_node_name_ip(cfg->node_name, &cfg->node_ip);
    if (cfg->listen_address[0] == '\0') {
        const char *at = strchr(cfg->node_name, '@');
        snprintf(cfg->listen_address, sizeof cfg->listen_address, "%s", at + 1);
        cfg->listen_ip = cfg->node_ip;
    }
    if ((cfg->dtls_cert_file[0] == '\0') != (cfg->dtls_key_file[0] == '\0')) {
        snprintf(err, errlen, "%s: dtls_cert_file and dtls_key_file go together", path);
        return false;
    }
    if (cfg->media_address[0] == '\0') { /* the candidate browsers send media to */
        const char *at = strchr(cfg->node_name, '@');
        snprintf(cfg->media_address, sizeof cfg->media_address, "%s",
                 cfg->listen_ip != 0 ? cfg->listen_address : at + 1);
    }
    if (cfg->public_signaling_url[0] == '\0') {
        const char *at = strchr(cfg->node_name, '@');
        snprintf(cfg->public_signaling_url, sizeof cfg->public_signaling_url, "%s://%s:%u/signaling",
                 cfg->tls_cert_file[0] ? "wss" : "ws", at + 1, cfg->signaling_port);
    }
    return true;
}

/* shoalctl.c - the operator's client of the HTTP API.
 *
 *   shoalctl [--api URL] ACTION [JSON]     POST / with x-shoal-target: ACTION
 *   shoalctl [--api URL] ok                GET /.ok
 *   shoalctl [--api URL] metrics           GET /metrics
 *   shoalctl [--api URL] ring [--json]     GET /debug/ring, as a table (or the JSON)
 *
 * Prints the answer's body; exits 0 on a 2xx answer, 1 on any other answer
 * and 2 when the node cannot be reached. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

static void usage(FILE *f) {
    fprintf(f, "usage: shoalctl [--api http://HOST:3000] ACTION [JSON]\n"
               "       shoalctl [--api URL] ok | metrics | ring [--json]\n"
               "actions: ListClusterNodes, GetClusterStatus, RegisterClusterNode, PurgeClusterNode,\n"
               "         InitCluster, ChangeMode, GetMode, ListChannels\n");
}

typedef struct buf {
    char *data;
    size_t len;
    uint32_t cap;
} buf;

static size_t collect(char *p, size_t size, size_t n, void *ctx) {
    buf *b = ctx;
    size_t add = size * n;
    if (b->len + add > (64u << 20)) return 0; /* refuse an absurd answer */
    if (!array_grow(&b->data, &b->cap, b->len + add + 1, 1)) return 0;
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* /debug/ring as a table: one line per node. */
static int print_ring(const char *body) {
    json_error_t e;
    json_t *doc = json_loads(body, 0, &e);
    json_t *nodes = json_object_get(doc, "nodes");
    if (!json_is_array(nodes)) {
        fprintf(stderr, "shoalctl: not a ring document: %s\n", body);
        json_decref(doc);
        return 1;
    }
    printf("ring version %lld, checksum %s, %lld points, total load %lld, epsilon %.2f, %lld channels in the table\n",
           (long long)json_integer_value(json_object_get(doc, "version")),
           json_string_value(json_object_get(doc, "checksum")),
           (long long)json_integer_value(json_object_get(doc, "points")),
           (long long)json_integer_value(json_object_get(doc, "total_load")),
           json_real_value(json_object_get(doc, "epsilon")),
           (long long)json_integer_value(json_object_get(doc, "channel_table_size")));
    printf("%-28s %7s %7s %8s %7s %7s %9s %8s  %s\n", "node", "weight", "vnodes", "share", "load", "cap",
           "channels", "serving", "mode");
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n) {
        json_t *cap = json_object_get(n, "cap");
        char capbuf[24] = "-";
        if (json_is_integer(cap)) snprintf(capbuf, sizeof capbuf, "%lld", (long long)json_integer_value(cap));
        printf("%-28s %7lld %7lld %7.2f%% %7lld %7s %9lld %8s  %s\n",
               json_string_value(json_object_get(n, "node_name")),
               (long long)json_integer_value(json_object_get(n, "weight")),
               (long long)json_integer_value(json_object_get(n, "vnodes")),
               100.0 * json_real_value(json_object_get(n, "share")),
               (long long)json_integer_value(json_object_get(n, "load")), capbuf,
               (long long)json_integer_value(json_object_get(n, "channels")),
               json_is_true(json_object_get(n, "serving")) ? "yes" : "no",
               json_string_value(json_object_get(n, "mode")));
    }
    json_decref(doc);
    return 0;
}

int main(int argc, char **argv) {
    const char *api = "http://127.0.0.1:3000";
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "--api") == 0) {
        api = argv[i + 1];
        i += 2;
    }
    if (i >= argc || strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
        usage(i >= argc ? stderr : stdout);
        return i >= argc ? 2 : 0;
    }
    const char *action = argv[i];
    const char *body = i + 1 < argc ? argv[i + 1] : "{}";
    char url[1024];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    bool ring_table = strcmp(action, "ring") == 0 && !(i + 1 < argc && strcmp(argv[i + 1], "--json") == 0);
    buf answer = {0};
    if (strcmp(action, "ok") == 0 || strcmp(action, "metrics") == 0) {
        snprintf(url, sizeof url, "%s/%s", api, strcmp(action, "ok") == 0 ? ".ok" : "metrics");
    } else if (strcmp(action, "ring") == 0) {
        snprintf(url, sizeof url, "%s/debug/ring", api);
        if (ring_table) {
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
            curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
        }
    } else {
        char h[256];
        snprintf(url, sizeof url, "%s/", api);
        snprintf(h, sizeof h, "x-shoal-target: %s", action);
        hdrs = curl_slist_append(hdrs, h);
        hdrs = curl_slist_append(hdrs, "content-type: application/json");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    if (rc != CURLE_OK) {
        fprintf(stderr, "shoalctl: %s: %s\n", url, curl_easy_strerror(rc));
        return 2;
    }
    bool ok = status >= 200 && status < 300;
    if (ring_table && ok) {
        int r = print_ring(answer.data ? answer.data : "");
        free(answer.data);
        return r;
    }
    if (answer.data) fputs(answer.data, stdout);
    free(answer.data);
    putchar('\n');
    return ok ? 0 : 1;
}

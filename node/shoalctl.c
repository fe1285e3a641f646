/* shoalctl.c - the operator's client of the HTTP API.
 *
 *   shoalctl [--api URL] ACTION [JSON]     POST / with x-shoal-target: ACTION
 *   shoalctl [--api URL] ok                GET /.ok
 *   shoalctl [--api URL] metrics           GET /metrics
 *
 * Prints the answer's body; exits 0 on a 2xx answer, 1 on any other answer
 * and 2 when the node cannot be reached. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: shoalctl [--api http://HOST:3000] ACTION [JSON]\n"
               "       shoalctl [--api URL] ok | metrics\n"
               "actions: ListClusterNodes\n");
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
    if (strcmp(action, "ok") == 0 || strcmp(action, "metrics") == 0) {
        snprintf(url, sizeof url, "%s/%s", api, strcmp(action, "ok") == 0 ? ".ok" : "metrics");
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
    putchar('\n');
    return status >= 200 && status < 300 ? 0 : 1;
}

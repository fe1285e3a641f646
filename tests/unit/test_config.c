/* test_config.c - shoald's config file: defaults, every key, clear errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static const char *BASE = "cluster_name = prod\n"
                          "node_name = node1@10.1.2.3\n"
                          "contact_node_name_list = node1@10.1.2.3, node2@10.1.2.4 ,node3@10.1.2.5\n"
                          "data_dir = /var/lib/shoal\n"
                          "log_dir = /var/log/shoal\n";

static bool load(const char *text, shoal_config *c, char *err) {
    char path[] = "/tmp/shoal-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    bool ok = shoal_config_load(path, c, err, 512);
    unlink(path);
    return ok;
}

static void test_defaults_and_contacts(void **st) {
    (void)st;
    shoal_config c;
    char err[512];
    assert_true(load(BASE, &c, err));
    assert_int_equal(c.ncontacts, 3);
    assert_string_equal(c.contacts[1], "node2@10.1.2.4");
    assert_string_equal(c.contacts[2], "node3@10.1.2.5");
    assert_int_equal(c.cluster_port, 49010);
    assert_int_equal(c.relay_port, 49011);
    assert_int_equal(c.signaling_port, 5000);
    assert_int_equal(c.api_port, 3000);
    assert_int_equal(c.weight, 100);
    assert_false(c.temporary);
    assert_string_equal(c.listen_address, "10.1.2.3");
    assert_string_equal(c.public_signaling_url, "ws://10.1.2.3:5000/signaling");
    assert_int_equal(c.media_port, 5004);
    assert_string_equal(c.media_address, "10.1.2.3");
    assert_string_equal(c.dtls_cert_file, "");
}

static void test_every_key(void **st) {
    (void)st;
    char text[2048];
    snprintf(text, sizeof text,
             "%s# a comment\nnode_type = temporary\ncluster_port = 1\nrelay_port = 2\n"
             "signaling_port = 3\napi_port = 4\npublic_signaling_url = wss://a.example/signaling\n"
             "weight = 250\nmax_connections = 7\ntls_cert_file = /c.pem\ntls_key_file = /k.pem\n"
             "auth_webhook_url = http://127.0.0.1:8080/auth\nlisten_address = 0.0.0.0\n"
             "cluster_max_connections = 90000\nauth_webhook_timeout_ms = 1500\nsignaling_ping_stats = true\n"
             "media_port = 6000\nmedia_address = 192.0.2.7\ndtls_cert_file = /d.pem\ndtls_key_file = /dk.pem\n",
             BASE);
    shoal_config c;
    char err[512];
    assert_true(load(text, &c, err));
    assert_true(c.temporary);
    assert_int_equal(c.cluster_port, 1);
    assert_int_equal(c.api_port, 4);
    assert_int_equal(c.weight, 250);
    assert_int_equal(c.max_connections, 7);
    assert_string_equal(c.listen_address, "0.0.0.0");
    assert_int_equal(c.listen_ip, 0);
    assert_string_equal(c.auth_webhook_url, "http://127.0.0.1:8080/auth");
    assert_int_equal(c.cluster_max_connections, 90000);
    assert_int_equal(c.auth_webhook_timeout_ms, 1500);
    assert_true(c.signaling_ping_stats);
    assert_int_equal(c.media_port, 6000);
    assert_string_equal(c.media_address, "192.0.2.7");
    assert_string_equal(c.dtls_key_file, "/dk.pem");
}

/* Each bad file names the line and the key. */
static void test_errors_name_line_and_key(void **st) {
    (void)st;
    static const struct { const char *extra; const char *expect; } cases[] = {
        {"colour = blue\n", ":6: colour: unknown key"},
        {"weight = 0\n", ":6: weight: '0' is not an integer"},
        {"weight = 12abc\n", ":6: weight"},
        {"api_port = 70000\n", ":6: api_port"},
        {"node_type = permanent\n", ":6: node_type"},
        {"listen_address = localhost\n", ":6: listen_address"},
        {"cluster_name = again\n", ":6: cluster_name: set twice"},
        {"public_signaling_url = http://x\n", ":6: public_signaling_url"},
        {"this line has no equals sign\n", ":6: "},
        {"signaling_ping_stats = yes\n", ":6: signaling_ping_stats: 'yes' is neither true nor false"},
        {"auth_webhook_timeout_ms = 0\n", ":6: auth_webhook_timeout_ms"},
        {"media_address = 0.0.0.0\n", ":6: media_address: '0.0.0.0' is not a unicast IPv4 address"},
        {"media_port = 0\n", ":6: media_port"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s%s", BASE, cases[i].extra);
        shoal_config c;
        char err[512] = "";
        assert_false(load(text, &c, err));
        if (strstr(err, cases[i].expect) == NULL) fail_msg("case %zu: got '%s'", i, err);
    }
    shoal_config c;
    char err[512];
    assert_false(load("cluster_name = x\nnode_name = bad\n", &c, err));
    assert_non_null(strstr(err, ":2: node_name"));
    assert_false(load("cluster_name = x\nnode_name = a@1.2.3.4\ndata_dir=/d\nlog_dir=/l\n", &c, err));
    assert_non_null(strstr(err, "contact_node_name_list: required key missing"));
    assert_false(shoal_config_load("/nonexistent/shoal.conf", &c, err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_contacts),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_errors_name_line_and_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

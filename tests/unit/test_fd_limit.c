/* test_fd_limit.c - the open-file limit's arithmetic: what max_connections
 * asks for, and which accepted descriptors may stay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fd_limit.h"

static void the_limit_covers_max_connections(void **state) {
    (void)state;
    assert_int_equal(fd_limit_want(2), 2 + 0 + FD_LIMIT_RESERVE);
    assert_int_equal(fd_limit_want(20000), 20000 + 5000 + FD_LIMIT_RESERVE);
}

/* Descriptors come lowest first: a socket accepted as fd N means N are open.
 * Signaling stops 256 short of the limit, the API 64 short, so the API
 * still answers while signaling refuses. */
static void accepted_sockets_leave_headroom(void **state) {
    (void)state;
    fd_limit l = {.want = 1026, .limit = 1026, .hard = 20000};
    assert_true(fd_limit_accept_ok(&l, 10, FD_LIMIT_SIGNALING_HEADROOM));
    assert_true(fd_limit_accept_ok(&l, 1026 - 257, FD_LIMIT_SIGNALING_HEADROOM));
    assert_false(fd_limit_accept_ok(&l, 1026 - 256, FD_LIMIT_SIGNALING_HEADROOM));
    assert_true(fd_limit_accept_ok(&l, 1026 - 256, FD_LIMIT_API_HEADROOM));
    assert_false(fd_limit_accept_ok(&l, 1026 - 64, FD_LIMIT_API_HEADROOM));
    assert_false(fd_limit_accept_ok(&l, -1, FD_LIMIT_API_HEADROOM));
}

/* Under a hard limit below 1024 the headrooms shrink in proportion: a node
 * limited to 256 descriptors still accepts clients. */
static void a_low_hard_limit_still_accepts(void **state) {
    (void)state;
    fd_limit l = {.want = 11524, .limit = 256, .hard = 256};
    assert_true(fd_limit_accept_ok(&l, 150, FD_LIMIT_SIGNALING_HEADROOM)); /* headroom 64 */
    assert_false(fd_limit_accept_ok(&l, 192, FD_LIMIT_SIGNALING_HEADROOM));
    assert_true(fd_limit_accept_ok(&l, 239, FD_LIMIT_API_HEADROOM));       /* headroom 16 */
    assert_false(fd_limit_accept_ok(&l, 240, FD_LIMIT_API_HEADROOM));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_limit_covers_max_connections),
        cmocka_unit_test(accepted_sockets_leave_headroom),
        cmocka_unit_test(a_low_hard_limit_still_accepts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

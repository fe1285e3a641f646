/* test_route.c - the connect routing policy: redirects by the table and the
 * ring only for clients not yet redirected, modes, a full cluster, and no
 * loop between two nodes whose views disagree, no client sent to a suspect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "route.h"
#include "wire.h"

static route_in base(void) {
    return (route_in){.self = "a", .mode = WIRE_MODE_NORMAL, .table_holder = "", .ring_owner = "a"};
}

static void check(route_in in, route_action want, const char *to_or_reason) {
    route_out r = route_decide(&in);
    if (r.action != want) fail_msg("got %s, want %s", route_action_name(r.action), route_action_name(want));
    if (want == ROUTE_REDIRECT || want == ROUTE_HOLD) assert_string_equal(r.to, to_or_reason);
    if (want == ROUTE_REJECT) assert_string_equal(shoal_outcome_name(r.reason), to_or_reason);
}

static void first_arrival(void **state) {
    (void)state;
    route_in in = base();
    check(in, ROUTE_CLAIM, NULL);                        /* new channel, the ring says here */
    in.ring_owner = "b";
    check(in, ROUTE_REDIRECT, "b");                      /* the ring says b */
    in.table_holder = "c";
    check(in, ROUTE_REDIRECT, "c");                      /* a live channel stays on its holder */
    in.claim_valid = true;
    check(in, ROUTE_ADMIT, NULL);                        /* our own valid claim wins over any view */
    in = base();
    in.claim_pending = true;
    check(in, ROUTE_WAIT, NULL);
    in = base();
    in.ring_owner = "";
    check(in, ROUTE_REJECT, "CLUSTER-FULL");
    in.not_serving = SHOAL_CLUSTER_NOT_MAJORITY;
    in.claim_valid = true;
    check(in, ROUTE_REJECT, "CLUSTER-NOT-MAJORITY");
}

static void redirected_clients_are_never_bounced(void **state) {
    (void)state;
    /* a thinks b holds the channel, b thinks a does (both stale): a client
     * sent from one to the other claims there instead of going back */
    route_in at_b = base();
    at_b.self = "b";
    at_b.table_holder = "a";
    at_b.ring_owner = "a";
    at_b.redirected = true;
    check(at_b, ROUTE_CLAIM, NULL);
    at_b.redirected = false;
    check(at_b, ROUTE_REDIRECT, "a");
}

static void modes(void **state) {
    (void)state;
    route_in in = base();
    in.mode = WIRE_MODE_BLOCK_NEW_SESSION;
    in.claim_valid = true;
    check(in, ROUTE_ADMIT, NULL);                        /* channels it holds still take clients */
    in.claim_valid = false;
    in.redirected = true;
    check(in, ROUTE_REJECT, "NODE-BLOCKS-NEW-SESSIONS"); /* but it opens none */
    in.redirected = false;
    in.ring_owner = "b";
    check(in, ROUTE_REDIRECT, "b");
    in.mode = WIRE_MODE_BLOCK_NEW_CONNECTION;
    in.table_holder = "c";
    check(in, ROUTE_REDIRECT, "c");                      /* it still redirects */
    in.claim_valid = true;
    check(in, ROUTE_REJECT, "NODE-BLOCKS-NEW-CONNECTIONS");
}

static void suspects_hold_the_client(void **state) {
    (void)state;
    route_in in = base();
    in.table_holder = "c";
    in.table_holder_suspect = true;
    check(in, ROUTE_HOLD, "c");                          /* not sent to a node that may be dead */
    in.hold_expired = true;
    check(in, ROUTE_REDIRECT, "c");                      /* bounded: then sent as before */
    in = base();
    in.ring_owner = "b";
    in.ring_owner_suspect = true;
    check(in, ROUTE_HOLD, "b");                          /* a new channel's node alike */
    in.table_holder_suspect = true;                      /* a suspicion of another node is not this one's */
    in.ring_owner_suspect = false;
    check(in, ROUTE_REDIRECT, "b");
    in.redirected = true;
    in.ring_owner_suspect = true;
    check(in, ROUTE_CLAIM, NULL);                        /* redirected clients claim here, as ever */
    in = base();
    in.table_holder = "c";
    in.table_holder_suspect = true;
    in.claim_valid = true;
    check(in, ROUTE_ADMIT, NULL);                        /* this node's valid claim admits */
    in = base();
    in.table_holder = "a";
    in.table_holder_suspect = true;                      /* (never true of itself) */
    check(in, ROUTE_CLAIM, NULL);
    in = base();
    in.not_serving = SHOAL_CLUSTER_NOT_MAJORITY;
    in.table_holder = "c";
    in.table_holder_suspect = true;
    check(in, ROUTE_REJECT, "CLUSTER-NOT-MAJORITY");     /* a node that does not serve holds nobody */
}

/* The claim named another holder: the client goes there, or waits here
 * while that holder is suspected (a killed holder's record lives on until
 * its lease fence runs out), within the same bound as any hold. */
static void a_refused_claim_sends_to_the_holder_unless_suspected(void **state) {
    (void)state;
    route_out r = route_refused("c", false, false);
    assert_int_equal(r.action, ROUTE_REDIRECT);
    assert_string_equal(r.to, "c");
    r = route_refused("c", true, false);
    assert_int_equal(r.action, ROUTE_HOLD);
    assert_string_equal(r.to, "c");
    r = route_refused("c", true, true);
    assert_int_equal(r.action, ROUTE_REDIRECT);
    assert_string_equal(r.to, "c");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_arrival),
        cmocka_unit_test(redirected_clients_are_never_bounced),
        cmocka_unit_test(modes),
        cmocka_unit_test(suspects_hold_the_client),
        cmocka_unit_test(a_refused_claim_sends_to_the_holder_unless_suspected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* fuzz_chtable.c - libFuzzer target: arbitrary bytes as a channel-table
 * datagram, to a table that knows its own channels and another holder's. */
#include <stddef.h>
#include <stdint.h>

#include "chtable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    chtable *t = chtable_new("n0@10.0.0.1", "fuzz", 7);
    if (t == NULL) return 0;
    chtable_set_local(t, "room", 2, 1700000000000ULL);
    chtable_set_local(t, "room", 3, 0);
    chtable_recv(t, data, size);
    chtable_tick(t, 10000);
    chtable_recv(t, data, size);
    (void)chtable_holder(t, "room");
    chtable_free(t);
    return 0;
}

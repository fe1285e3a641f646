/* table_mem.c - memory of a full channel table (see table_mem.h). */
#include "table_mem.h"

#include <malloc.h>

#include "chtable.h"

#define CREATED_MS 1764000000000ULL

static size_t heap_in_use(void) {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd; /* small chunks and mmapped large ones */
}

static void fill_local(chtable *t, uint32_t who, const int *owners, char **ids, uint32_t count) {
    for (uint32_t k = 0; k < count; k++) {
        if (owners[k] != (int)who) continue;
        chtable_set_local(t, ids[k], 1, CREATED_MS + k);
        outbox_clear(chtable_outbox(t)); /* the updates to the others: not part of the table */
    }
}

size_t table_memory(const char (*names)[48], uint32_t n, const int *owners, char **ids, uint32_t count) {
    size_t before = heap_in_use();
    chtable *t = chtable_new(names[0], "bench", 1);
    if (t == NULL) return 0;
    fill_local(t, 0, owners, ids, count);
    for (uint32_t h = 1; h < n; h++) {
        chtable *src = chtable_new(names[h], "bench", 2 + h);
        if (src == NULL) break;
        fill_local(src, h, owners, ids, count);
        chtable_member_up(src, names[0]); /* a PULL and its whole list, in FULL parts */
        uint32_t m;
        const core_out *o = outbox_items(chtable_outbox(src), &m);
        for (uint32_t i = 0; i < m; i++) chtable_recv(t, o[i].data, o[i].len);
        chtable_free(src);
        outbox_clear(chtable_outbox(t));
    }
    size_t bytes = heap_in_use() - before;
    chtable_free(t);
    return bytes;
}

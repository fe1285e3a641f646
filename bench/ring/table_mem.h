/* table_mem.h - memory of a node's replicated channel table (placement/
 * chtable.h) when it knows every channel of the cluster, for bench/placement. */
#ifndef SHOAL_BENCH_TABLE_MEM_H
#define SHOAL_BENCH_TABLE_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Bytes the heap holds for node 0's table once it has the lists of all n
 * holders (names[i] holds the channels ids[k] with owners[k] == i), each
 * filled the way shoald fills it: its own channels set locally, every other
 * holder's list received as FULL datagrams. */
size_t table_memory(const char (*names)[48], uint32_t n, const int *owners, char **ids, uint32_t count);

#endif

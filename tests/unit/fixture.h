/* fixture.h - reads a captured file from tests/fixtures/ (inside the
 * repository, so that a fresh clone runs every test). */
#ifndef SHOAL_TEST_FIXTURE_H
#define SHOAL_TEST_FIXTURE_H

#include <stddef.h>

/* The whole of tests/fixtures/<name>, NUL-terminated, in a malloc'd buffer
 * (free it); fails the running cmocka test, naming the path, when the file
 * cannot be read. */
char *fixture_read(const char *name, size_t *len);

#endif

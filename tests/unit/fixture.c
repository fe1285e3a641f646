/* fixture.c - see fixture.h. SHOAL_FIXTURES_DIR is set by tests/CMakeLists.txt
 * to the source tree's tests/fixtures. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

char *fixture_read(const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SHOAL_FIXTURES_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("cannot open fixture %s", path);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) fail_msg("cannot read fixture %s", path);
    buf[n] = '\0';
    *len = n;
    return buf;
}

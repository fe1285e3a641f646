/* fixture.c - see fixture.h. SHOAL_FIXTURES_DIR is set by tests/CMakeLists.txt
 * to the source tree's tests/fixtures. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vec.h"

char *fixture_read(const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SHOAL_FIXTURES_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("cannot open fixture %s", path);
    uint32_t cap = 0;
    size_t n = 0, got;
    char *buf = NULL;
    if (!array_grow(&buf, &cap, 1 << 16, 1)) fail_msg("out of memory reading %s", path);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap && !array_grow(&buf, &cap, (size_t)cap + 1, 1)) fail_msg("out of memory reading %s", path);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) fail_msg("cannot read fixture %s", path);
    buf[n] = '\0';
    *len = n;
    return buf;
}

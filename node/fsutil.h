/* fsutil.h - small file-system helpers for the node's adapters. */
#ifndef SHOAL_FSUTIL_H
#define SHOAL_FSUTIL_H

/* mkdir -p: creates path and its missing parents (mode 0755). Returns 0, or
 * -1 with errno set. An existing directory is success. */
int fs_mkdir_p(const char *path);

#include <stddef.h>
#include <stdint.h>

/* Writes data to dir/name so that a crash leaves either the old file or the
 * new one, never a mix: dir/name.tmp, fsync, rename over dir/name, fsync of
 * dir. Returns 0, or -1 with errno set (disk full, permissions...). */
int fs_write_atomic(const char *dir, const char *name, const void *data, size_t len);

/* Reads a whole file (at most max bytes) into a malloc'd buffer. Returns 0,
 * 1 if the file does not exist, -1 with errno on other errors (EFBIG if it
 * is larger than max). */
int fs_read_file(const char *path, size_t max, uint8_t **data, size_t *len);

/* Can we create, write and fsync a file in dir right now? */
int fs_probe_writable(const char *dir);

#endif

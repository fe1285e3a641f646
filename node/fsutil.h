/* fsutil.h - small file-system helpers for the node's adapters. */
#ifndef SHOAL_FSUTIL_H
#define SHOAL_FSUTIL_H

/* mkdir -p: creates path and its missing parents (mode 0755). Returns 0, or
 * -1 with errno set. An existing directory is success. */
int fs_mkdir_p(const char *path);

#endif

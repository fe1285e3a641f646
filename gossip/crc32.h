/* crc32.h - CRC-32 (ISO-HDLC, the zlib/Ethernet one): the roster state
 * file's check and STUN's FINGERPRINT. */
#ifndef SHOAL_CRC32_H
#define SHOAL_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t shoal_crc32(const uint8_t *buf, size_t len);

#endif

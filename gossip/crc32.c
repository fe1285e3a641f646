/* crc32.c - bitwise CRC-32; its inputs are small (a state file, a STUN message). */
#include "crc32.h"

uint32_t shoal_crc32(const uint8_t *buf, size_t len) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= buf[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

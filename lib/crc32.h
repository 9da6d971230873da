/* crc32.h - private: the standard CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320,
 * as in zlib and gzip) used by the AWS eventstream parser. Not installed. */
#ifndef TKS_CRC32_H
#define TKS_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: start with crc = 0; tks__crc32(tks__crc32(0, a, n), b, m) equals the
 * CRC of a followed by b. */
uint32_t tks__crc32(uint32_t crc, const void *data, size_t len);

#endif

/* crc32.c - CRC-32 (reflected polynomial 0xEDB88320), one table lookup per byte.
 * The table is computed by the compiler from the polynomial (constant expressions
 * below), so there is neither a copied table nor any state initialised at run time. */
#include "crc32.h"

/* One bit of the reflected shift-register step, then eight of them: the table entry. */
#define TKS_CRC_BIT_(c) (((c) >> 1) ^ (0xEDB88320u & (0u - ((c) & 1u))))
#define TKS_CRC_BYTE_(c)                                                                    \
    TKS_CRC_BIT_(TKS_CRC_BIT_(TKS_CRC_BIT_(TKS_CRC_BIT_(                                    \
        TKS_CRC_BIT_(TKS_CRC_BIT_(TKS_CRC_BIT_(TKS_CRC_BIT_((uint32_t)(c)))))))))
#define TKS_CRC_R4_(n)                                                                      \
    TKS_CRC_BYTE_(n), TKS_CRC_BYTE_((n) + 1u), TKS_CRC_BYTE_((n) + 2u), TKS_CRC_BYTE_((n) + 3u)
#define TKS_CRC_R16_(n)                                                                     \
    TKS_CRC_R4_(n), TKS_CRC_R4_((n) + 4u), TKS_CRC_R4_((n) + 8u), TKS_CRC_R4_((n) + 12u)
#define TKS_CRC_R64_(n)                                                                     \
    TKS_CRC_R16_(n), TKS_CRC_R16_((n) + 16u), TKS_CRC_R16_((n) + 32u), TKS_CRC_R16_((n) + 48u)

static const uint32_t crc_table[256] = {TKS_CRC_R64_(0u), TKS_CRC_R64_(64u),
                                        TKS_CRC_R64_(128u), TKS_CRC_R64_(192u)};

uint32_t tks__crc32(uint32_t crc, const void *data, size_t len) {
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) crc = crc_table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

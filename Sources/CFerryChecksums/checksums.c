// CRC-32C and XXH32 for Ferry. Written for Ferry from the published algorithms (RFC 3720 appendix B.4
// polynomial 0x1EDC6F41, reflected 0x82F63B78; the xxHash specification).
#include "CFerryChecksums.h"
#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

static uint32_t crc32c_table[8][256];
static int crc32c_table_ready = 0;

static void crc32c_build_tables(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
        crc32c_table[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = crc32c_table[0][n];
        for (int k = 1; k < 8; k++) {
            crc = crc32c_table[0][crc & 0xFF] ^ (crc >> 8);
            crc32c_table[k][n] = crc;
        }
    }
    __atomic_store_n(&crc32c_table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t ferry_crc32c_software(uint32_t crc, const void *data, size_t length) {
    if (!__atomic_load_n(&crc32c_table_ready, __ATOMIC_ACQUIRE)) crc32c_build_tables();  // idempotent
    const uint8_t *p = data;
    crc = ~crc;
    while (length >= 8) {  // slicing-by-8
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= crc;
        crc = crc32c_table[7][word & 0xFF] ^ crc32c_table[6][(word >> 8) & 0xFF] ^
              crc32c_table[5][(word >> 16) & 0xFF] ^ crc32c_table[4][(word >> 24) & 0xFF] ^
              crc32c_table[3][(word >> 32) & 0xFF] ^ crc32c_table[2][(word >> 40) & 0xFF] ^
              crc32c_table[1][(word >> 48) & 0xFF] ^ crc32c_table[0][word >> 56];
        p += 8;
        length -= 8;
    }
    while (length--) crc = crc32c_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
// Three interleaved streams, as in Mark Adler's crc32c.c: the crc32 instruction has a latency of 3 cycles and a
// throughput of 1, so one stream is latency-bound at about 8 bytes per 3 cycles. Three streams over consecutive
// blocks run in parallel; their CRCs are combined by shifting with precomputed "append N zero bytes" operators.
#define CRC32C_LONG 8192
#define CRC32C_SHORT 256
static uint32_t crc32c_long[4][256];
static uint32_t crc32c_short[4][256];
static pthread_once_t crc32c_shift_once = PTHREAD_ONCE_INIT;

static uint32_t gf2_matrix_times(const uint32_t *mat, uint32_t vec) {
    uint32_t sum = 0;
    while (vec) {
        if (vec & 1) sum ^= *mat;
        vec >>= 1;
        mat++;
    }
    return sum;
}

static void gf2_matrix_square(uint32_t *square, const uint32_t *mat) {
    for (int n = 0; n < 32; n++) square[n] = gf2_matrix_times(mat, mat[n]);
}

// The operator that appends `length` zero bytes (a power of two) to a CRC.
static void crc32c_zeros_operator(uint32_t *even, size_t length) {
    uint32_t odd[32];
    odd[0] = 0x82F63B78u;  // one zero bit
    uint32_t row = 1;
    for (int n = 1; n < 32; n++) {
        odd[n] = row;
        row <<= 1;
    }
    gf2_matrix_square(even, odd);  // two zero bits
    gf2_matrix_square(odd, even);  // four zero bits
    do {  // the first square gives one zero byte in even, the next two in odd, ...
        gf2_matrix_square(even, odd);
        length >>= 1;
        if (length == 0) return;
        gf2_matrix_square(odd, even);
        length >>= 1;
    } while (length);
    memcpy(even, odd, sizeof odd);
}

static void crc32c_zeros_table(uint32_t zeros[4][256], size_t length) {
    uint32_t op[32];
    crc32c_zeros_operator(op, length);
    for (uint32_t n = 0; n < 256; n++) {
        zeros[0][n] = gf2_matrix_times(op, n);
        zeros[1][n] = gf2_matrix_times(op, n << 8);
        zeros[2][n] = gf2_matrix_times(op, n << 16);
        zeros[3][n] = gf2_matrix_times(op, n << 24);
    }
}

static void crc32c_build_shift_tables(void) {
    crc32c_zeros_table(crc32c_long, CRC32C_LONG);
    crc32c_zeros_table(crc32c_short, CRC32C_SHORT);
}

static inline uint32_t crc32c_shift(uint32_t zeros[4][256], uint32_t crc) {
    return zeros[0][crc & 0xFF] ^ zeros[1][(crc >> 8) & 0xFF] ^ zeros[2][(crc >> 16) & 0xFF] ^ zeros[3][crc >> 24];
}

__attribute__((target("sse4.2")))
static inline uint64_t crc32c_streams(uint64_t crc0, const uint8_t **next, size_t *length, size_t block, uint32_t zeros[4][256]) {
    while (*length >= block * 3) {
        uint64_t crc1 = 0, crc2 = 0;
        const uint8_t *p = *next;
        const uint8_t *end = p + block;
        do {
            uint64_t a, b, c;
            memcpy(&a, p, 8);
            memcpy(&b, p + block, 8);
            memcpy(&c, p + 2 * block, 8);
            crc0 = _mm_crc32_u64(crc0, a);
            crc1 = _mm_crc32_u64(crc1, b);
            crc2 = _mm_crc32_u64(crc2, c);
            p += 8;
        } while (p < end);
        crc0 = crc32c_shift(zeros, (uint32_t)crc0) ^ crc1;
        crc0 = crc32c_shift(zeros, (uint32_t)crc0) ^ crc2;
        *next += block * 3;
        *length -= block * 3;
    }
    return crc0;
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hardware(uint32_t crc, const void *data, size_t length) {
    pthread_once(&crc32c_shift_once, crc32c_build_shift_tables);
    const uint8_t *p = data;
    uint64_t c = ~crc;
    while (length && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        length--;
    }
    c = crc32c_streams(c, &p, &length, CRC32C_LONG, crc32c_long);
    c = crc32c_streams(c, &p, &length, CRC32C_SHORT, crc32c_short);
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        length -= 8;
    }
    while (length--) c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
#endif

static int hardware_checked = 0;
static int hardware_available = 0;

int ferry_crc32c_is_hardware(void) {
    if (!__atomic_load_n(&hardware_checked, __ATOMIC_ACQUIRE)) {
#if defined(__x86_64__)
        __builtin_cpu_init();
        hardware_available = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#endif
        __atomic_store_n(&hardware_checked, 1, __ATOMIC_RELEASE);
    }
    return hardware_available;
}

uint32_t ferry_crc32c(uint32_t crc, const void *data, size_t length) {
#if defined(__x86_64__)
    if (ferry_crc32c_is_hardware()) return crc32c_hardware(crc, data, length);
#endif
    return ferry_crc32c_software(crc, data, length);
}

// XXH32, per the xxHash specification.
#define XXH_PRIME32_1 0x9E3779B1u
#define XXH_PRIME32_2 0x85EBCA77u
#define XXH_PRIME32_3 0xC2B2AE3Du
#define XXH_PRIME32_4 0x27D4EB2Fu
#define XXH_PRIME32_5 0x165667B1u

static inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
static inline uint32_t read32le(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint32_t xxh_round(uint32_t acc, uint32_t input) {
    acc += input * XXH_PRIME32_2;
    acc = rotl32(acc, 13);
    return acc * XXH_PRIME32_1;
}

uint32_t ferry_xxh32(const void *data, size_t length, uint32_t seed) {
    const uint8_t *p = data;
    const uint8_t *end = p + length;
    uint32_t h;
    if (length >= 16) {
        uint32_t v1 = seed + XXH_PRIME32_1 + XXH_PRIME32_2, v2 = seed + XXH_PRIME32_2, v3 = seed, v4 = seed - XXH_PRIME32_1;
        const uint8_t *limit = end - 16;
        do {
            v1 = xxh_round(v1, read32le(p)); p += 4;
            v2 = xxh_round(v2, read32le(p)); p += 4;
            v3 = xxh_round(v3, read32le(p)); p += 4;
            v4 = xxh_round(v4, read32le(p)); p += 4;
        } while (p <= limit);
        h = rotl32(v1, 1) + rotl32(v2, 7) + rotl32(v3, 12) + rotl32(v4, 18);
    } else {
        h = seed + XXH_PRIME32_5;
    }
    h += (uint32_t)length;
    while (p + 4 <= end) {
        h += read32le(p) * XXH_PRIME32_3;
        h = rotl32(h, 17) * XXH_PRIME32_4;
        p += 4;
    }
    while (p < end) {
        h += (*p++) * XXH_PRIME32_5;
        h = rotl32(h, 11) * XXH_PRIME32_1;
    }
    h ^= h >> 15;
    h *= XXH_PRIME32_2;
    h ^= h >> 13;
    h *= XXH_PRIME32_3;
    h ^= h >> 16;
    return h;
}

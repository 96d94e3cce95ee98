// The compression libraries Kafka's codecs need, from Debian: zlib1g-dev, libsnappy-dev, liblz4-dev, libzstd-dev.
#ifndef FERRY_CCOMPRESSION_SHIM_H
#define FERRY_CCOMPRESSION_SHIM_H
#include <zlib.h>
#include <snappy-c.h>
#include <lz4frame.h>
#include <zstd.h>

// zlib's init functions are macros that pass the library version and struct size; wrap them for Swift.
static inline int ferry_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
static inline int ferry_inflate_init_auto(z_stream *stream) {
    // 15 + 32: accept a gzip or zlib header, as Kafka's GZIPInputStream readers effectively do.
    return inflateInit2(stream, 15 + 32);
}
#endif

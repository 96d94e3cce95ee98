import CCompression
import CFerryChecksums
import NIOCore

/// The compression codecs of Kafka's record formats (attributes bits 0-2), each backed by the system's C library.
///
/// Payload formats (protocol notes 7.5): gzip is a gzip stream; snappy is written in the xerial framing the
/// Java client uses and read in both that framing and plain snappy (librdkafka's); lz4 is the LZ4 frame format
/// with independent blocks; zstd is a zstd frame.
public enum CompressionCodec: Int8, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4

    /// Kafka's name (`compression.type`, `--compression-codec`): none, gzip, snappy, lz4, zstd.
    public var description: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    /// Parses Kafka's spelling; `uncompressed` is a synonym of none.
    public init?(name: String) {
        switch name.lowercased() {
        case "none", "uncompressed": self = .none
        case "gzip": self = .gzip
        case "snappy": self = .snappy
        case "lz4": self = .lz4
        case "zstd": self = .zstd
        default: return nil
        }
    }

    /// Compresses `input`.
    /// - Parameter legacyLZ4Checksum: write the LZ4 header checksum as Kafka's magic-0 writer did (over the frame
    ///   magic too), which old magic-0 readers expect.
    public func compress(_ input: ByteBuffer, legacyLZ4Checksum: Bool = false) throws -> ByteBuffer {
        try input.withUnsafeReadableBytes { bytes in
            switch self {
            case .none: return ByteBuffer(bytes: bytes)
            case .gzip: return try Gzip.compress(bytes)
            case .snappy: return try Snappy.compressXerial(bytes)
            case .lz4:
                var frame = try LZ4Frame.compress(bytes)
                if legacyLZ4Checksum { LZ4Frame.breakHeaderChecksum(&frame) }
                return frame
            case .zstd: return try Zstd.compress(bytes)
            }
        }
    }

    /// Decompresses `input`, refusing to produce more than `maxOutputBytes` (a decompression bomb is an error,
    /// not an allocation).
    /// - Parameter legacyLZ4Checksum: accept the wrong LZ4 header checksum of old magic-0 producers.
    public func decompress(_ input: ByteBuffer, maxOutputBytes: Int = 256 << 20, legacyLZ4Checksum: Bool = false)
        throws -> ByteBuffer
    {
        try input.withUnsafeReadableBytes { bytes in
            switch self {
            case .none: return ByteBuffer(bytes: bytes)
            case .gzip: return try Gzip.decompress(bytes, limit: maxOutputBytes)
            case .snappy: return try Snappy.decompress(bytes, limit: maxOutputBytes)
            case .lz4: return try LZ4Frame.decompress(bytes, limit: maxOutputBytes, legacyChecksum: legacyLZ4Checksum)
            case .zstd: return try Zstd.decompress(bytes, limit: maxOutputBytes)
            }
        }
    }
}

/// Why data could not be compressed or decompressed.
public struct CompressionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var codec: CompressionCodec
    public var reason: String
    public var description: String { "\(self.codec) data: \(self.reason)" }
}

/// Grows an output buffer chunk by chunk up to a limit.
private struct OutputSink {
    var buffer: ByteBuffer
    let limit: Int
    let codec: CompressionCodec

    init(expected: Int, limit: Int, codec: CompressionCodec) {
        self.buffer = ByteBuffer()
        self.buffer.reserveCapacity(min(max(expected, 4096), limit))
        self.limit = limit
        self.codec = codec
    }

    /// Lets `body` write into at least `minimum` free bytes; `body` returns how many it wrote.
    mutating func write(minimum: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        guard self.buffer.readableBytes < self.limit else {
            throw CompressionError(codec: self.codec, reason: "decompresses to more than \(self.limit) bytes")
        }
        // One byte beyond the limit is offered so that output reaching past it is detected next round.
        let room = self.limit - self.buffer.readableBytes + 1
        _ = try self.buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: minimum) { free in
            try body(UnsafeMutableRawBufferPointer(rebasing: free.prefix(room)))
        }
    }
}

private enum Gzip {
    static func compress(_ input: UnsafeRawBufferPointer) throws -> ByteBuffer {
        var stream = z_stream()
        guard ferry_deflate_init_gzip(&stream, Z_DEFAULT_COMPRESSION) == Z_OK else {
            throw CompressionError(codec: .gzip, reason: "deflateInit2 failed")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
        var output = ByteBuffer()
        var status = Z_OK
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { free in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = free.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(free.count)
            status = deflate(&stream, Z_FINISH)
            return free.count - Int(stream.avail_out)
        }
        guard status == Z_STREAM_END else { throw CompressionError(codec: .gzip, reason: "deflate failed (zlib \(status))") }
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws -> ByteBuffer {
        var stream = z_stream()
        guard ferry_inflate_init_auto(&stream) == Z_OK else {
            throw CompressionError(codec: .gzip, reason: "inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        var sink = OutputSink(expected: input.count * 4, limit: limit, codec: .gzip)
        var finished = false
        while !finished {
            var status: Int32 = Z_OK
            try sink.write(minimum: 64 * 1024) { free in
                stream.next_out = free.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(free.count)
                status = inflate(&stream, Z_NO_FLUSH)
                return free.count - Int(stream.avail_out)
            }
            switch status {
            case Z_STREAM_END: finished = true
            case Z_OK: if stream.avail_in == 0 && stream.avail_out != 0 { throw CompressionError(codec: .gzip, reason: "truncated stream") }
            case Z_BUF_ERROR: if stream.avail_in == 0 { throw CompressionError(codec: .gzip, reason: "truncated stream") }
            default: throw CompressionError(codec: .gzip, reason: "corrupt stream (zlib \(status))")
            }
        }
        return sink.buffer
    }
}

private enum Snappy {
    /// snappy-java's stream header: magic, version 1, compatible version 1.
    static let xerialHeader: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]
    static let xerialBlockSize = 32 * 1024

    static func compressXerial(_ input: UnsafeRawBufferPointer) throws -> ByteBuffer {
        var output = ByteBuffer(bytes: Self.xerialHeader)
        var offset = 0
        while offset < input.count {
            let chunk = UnsafeRawBufferPointer(rebasing: input[offset..<min(offset + Self.xerialBlockSize, input.count)])
            let bound = snappy_max_compressed_length(chunk.count)
            let lengthIndex = output.writerIndex
            output.writeInteger(Int32(0), endianness: .big)
            var failed = false
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { free in
                var length = free.count
                let status = snappy_compress(
                    chunk.baseAddress?.assumingMemoryBound(to: CChar.self), chunk.count,
                    free.baseAddress!.assumingMemoryBound(to: CChar.self), &length)
                failed = status != SNAPPY_OK
                return failed ? 0 : length
            }
            if failed { throw CompressionError(codec: .snappy, reason: "snappy_compress failed") }
            output.setInteger(Int32(output.writerIndex - lengthIndex - 4), at: lengthIndex, endianness: .big)
            offset += chunk.count
        }
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws -> ByteBuffer {
        if input.count >= 16 && input.prefix(8).elementsEqual(Self.xerialHeader.prefix(8)) {
            var output = ByteBuffer()
            var offset = 16
            while offset < input.count {
                guard offset + 4 <= input.count else { throw CompressionError(codec: .snappy, reason: "truncated xerial block") }
                let length = Int(UInt32(input[offset]) << 24 | UInt32(input[offset + 1]) << 16 | UInt32(input[offset + 2]) << 8 | UInt32(input[offset + 3]))
                offset += 4
                guard length <= input.count - offset else { throw CompressionError(codec: .snappy, reason: "truncated xerial block") }
                var block = try Self.raw(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + length)]), limit: limit - output.readableBytes)
                output.writeBuffer(&block)
                offset += length
            }
            return output
        }
        return try Self.raw(input, limit: limit)
    }

    private static func raw(_ input: UnsafeRawBufferPointer, limit: Int) throws -> ByteBuffer {
        let source = input.baseAddress?.assumingMemoryBound(to: CChar.self)
        var length = 0
        guard snappy_uncompressed_length(source, input.count, &length) == SNAPPY_OK else {
            throw CompressionError(codec: .snappy, reason: "corrupt block header")
        }
        guard length <= limit else { throw CompressionError(codec: .snappy, reason: "decompresses to more than \(limit) bytes") }
        var output = ByteBuffer()
        var status = SNAPPY_OK
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: max(length, 1)) { free in
            var written = length
            status = snappy_uncompress(source, input.count, free.baseAddress!.assumingMemoryBound(to: CChar.self), &written)
            return status == SNAPPY_OK ? written : 0
        }
        guard status == SNAPPY_OK else { throw CompressionError(codec: .snappy, reason: "corrupt block") }
        return output
    }
}

private enum LZ4Frame {
    static func compress(_ input: UnsafeRawBufferPointer) throws -> ByteBuffer {
        var preferences = LZ4F_preferences_t()
        // Kafka's Java reader (KafkaLZ4BlockInputStream) refuses dependent blocks; 64 KB blocks as it writes.
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        let bound = LZ4F_compressFrameBound(input.count, &preferences)
        var output = ByteBuffer()
        var failed = false
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { free in
            let written = LZ4F_compressFrame(free.baseAddress, free.count, input.baseAddress, input.count, &preferences)
            failed = LZ4F_isError(written) != 0
            return failed ? 0 : written
        }
        if failed { throw CompressionError(codec: .lz4, reason: "LZ4F_compressFrame failed") }
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, limit: Int, legacyChecksum: Bool) throws -> ByteBuffer {
        var bytes = Array(input)
        if legacyChecksum { Self.repairHeaderChecksum(&bytes) }
        var context: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))) == 0, let context else {
            throw CompressionError(codec: .lz4, reason: "cannot create a decompression context")
        }
        defer { LZ4F_freeDecompressionContext(context) }
        var sink = OutputSink(expected: bytes.count * 4, limit: limit, codec: .lz4)
        var offset = 0
        var hint = 1
        try bytes.withUnsafeBytes { source in
            while hint != 0 {
                guard offset < source.count else { throw CompressionError(codec: .lz4, reason: "truncated frame") }
                var failure: String?
                try sink.write(minimum: 64 * 1024) { free in
                    var written = free.count
                    var consumed = source.count - offset
                    let result = LZ4F_decompress(context, free.baseAddress, &written, source.baseAddress! + offset, &consumed, nil)
                    if LZ4F_isError(result) != 0 {
                        failure = String(cString: LZ4F_getErrorName(result))
                        return 0
                    }
                    offset += consumed
                    hint = result
                    return written
                }
                if let failure { throw CompressionError(codec: .lz4, reason: failure) }
            }
        }
        return sink.buffer
    }

    /// Kafka 0.8-0.9 computed the frame header checksum over the magic number too; recompute it over the
    /// descriptor alone so the library accepts the frame (Kafka's readers skip the check for magic 0).
    /// Kafka 0.8-0.9's LZ4 writer hashed the frame magic with the descriptor (KAFKA-3160); magic-0 readers expect it.
    static func breakHeaderChecksum(_ frame: inout ByteBuffer) {
        let start = frame.readerIndex
        guard let flags = frame.getInteger(at: start + 4, as: UInt8.self) else { return }
        let descriptorLength = 2 + (flags & 0x08 != 0 ? 8 : 0) + (flags & 0x01 != 0 ? 4 : 0)
        guard let header = frame.getBytes(at: start, length: 4 + descriptorLength) else { return }
        let hash = header.withUnsafeBytes { ferry_xxh32($0.baseAddress!, header.count, 0) }
        frame.setInteger(UInt8((hash >> 8) & 0xFF), at: start + 4 + descriptorLength)
    }

    static func repairHeaderChecksum(_ bytes: inout [UInt8]) {
        guard bytes.count >= 7, bytes[0] == 0x04, bytes[1] == 0x22, bytes[2] == 0x4D, bytes[3] == 0x18 else { return }
        let flags = bytes[4]
        let descriptorLength = 2 + (flags & 0x08 != 0 ? 8 : 0) + (flags & 0x01 != 0 ? 4 : 0)
        guard bytes.count > 4 + descriptorLength else { return }
        let hash = bytes.withUnsafeBytes { ferry_xxh32($0.baseAddress! + 4, descriptorLength, 0) }
        bytes[4 + descriptorLength] = UInt8((hash >> 8) & 0xFF)
    }
}

private enum Zstd {
    static func compress(_ input: UnsafeRawBufferPointer) throws -> ByteBuffer {
        let bound = ZSTD_compressBound(input.count)
        var output = ByteBuffer()
        var failed = false
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { free in
            let written = ZSTD_compress(free.baseAddress, free.count, input.baseAddress, input.count, 3)
            failed = ZSTD_isError(written) != 0
            return failed ? 0 : written
        }
        if failed { throw CompressionError(codec: .zstd, reason: "ZSTD_compress failed") }
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws -> ByteBuffer {
        guard let context = ZSTD_createDStream() else { throw CompressionError(codec: .zstd, reason: "cannot create a stream") }
        defer { ZSTD_freeDStream(context) }
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var sink = OutputSink(expected: input.count * 4, limit: limit, codec: .zstd)
        var remaining = 1
        while remaining != 0 {
            var failure: String?
            let before = source.pos
            try sink.write(minimum: 64 * 1024) { free in
                var target = ZSTD_outBuffer(dst: free.baseAddress, size: free.count, pos: 0)
                let result = ZSTD_decompressStream(context, &target, &source)
                if ZSTD_isError(result) != 0 {
                    failure = String(cString: ZSTD_getErrorName(result))
                    return 0
                }
                remaining = result
                return target.pos
            }
            if let failure { throw CompressionError(codec: .zstd, reason: failure) }
            if remaining != 0 && source.pos == input.count && source.pos == before {
                throw CompressionError(codec: .zstd, reason: "truncated frame")
            }
        }
        return sink.buffer
    }
}

import NIOCore

/// A message of the legacy formats (magic 0 and 1, Kafka before 0.11), with its absolute offset.
///
/// Entry layout (protocol notes 8): offset int64, messageSize int32, crc uint32 (CRC-32 IEEE of magic to the
/// end), magic int8, attributes int8 (bits 0-2 codec, bit 3 timestamp type in magic 1), timestamp int64
/// (magic 1 only), key and value as int32-length bytes (-1 = null). A compressed entry is a wrapper whose
/// value is a whole inner message set; in magic 1 the inner offsets are relative and the wrapper carries the
/// absolute offset of the last inner message.
public struct LegacyMessage: Hashable, Sendable {
    public var offset: Int64
    public var magic: Int8
    /// Timestamp (magic 1), or `nil` for magic 0.
    public var timestamp: Int64?
    public var timestampType: TimestampType
    public var key: ByteBuffer?
    public var value: ByteBuffer?

    public init(
        offset: Int64, magic: Int8, timestamp: Int64? = nil, timestampType: TimestampType = .createTime,
        key: ByteBuffer? = nil, value: ByteBuffer? = nil
    ) {
        self.offset = offset
        self.magic = magic
        self.timestamp = timestamp
        self.timestampType = timestampType
        self.key = key
        self.value = value
    }
}

public enum LegacyMessageSet {
    /// Decodes a message set of magic 0/1 entries, unwrapping compressed ones, with every CRC checked.
    /// - Returns: the messages in order, and how many bytes at the end were a partial entry.
    /// - Throws: `RecordBatchError` or `CompressionError`.
    public static func decode(_ buffer: ByteBuffer, maxDecompressedBytes: Int = 256 << 20) throws
        -> (messages: [LegacyMessage], partialTailBytes: Int)
    {
        var rest = buffer
        var messages: [LegacyMessage] = []
        while rest.readableBytes > 0 {
            guard let size = rest.getInteger(at: rest.readerIndex + 8, endianness: .big, as: Int32.self) else { break }
            guard size >= 14 else { throw RecordBatchError(.invalidLength, "message size \(size)") }
            guard rest.readableBytes >= 12 + Int(size) else { break }
            let entry = rest.readSlice(length: 12 + Int(size))!
            messages += try self.decodeEntry(entry, maxDecompressedBytes: maxDecompressedBytes, nested: false)
        }
        return (messages, rest.readableBytes)
    }

    private static func decodeEntry(_ entry: ByteBuffer, maxDecompressedBytes: Int, nested: Bool) throws -> [LegacyMessage] {
        var entry = entry
        let offset = entry.readInteger(endianness: .big, as: Int64.self)!
        _ = entry.readInteger(endianness: .big, as: Int32.self)!
        let crc = entry.readInteger(endianness: .big, as: UInt32.self)!
        guard CRC32.checksum(entry) == crc else {
            throw RecordBatchError(.corrupt, "legacy message at offset \(offset) fails its CRC")
        }
        guard let magic = entry.readInteger(as: Int8.self), let attributes = entry.readInteger(as: Int8.self) else {
            throw RecordBatchError(.truncated, "legacy message header")
        }
        guard magic == 0 || magic == 1 else { throw RecordBatchError(.unsupportedMagic, "magic \(magic) inside a legacy set") }
        var timestamp: Int64?
        if magic == 1 {
            guard let value = entry.readInteger(endianness: .big, as: Int64.self) else {
                throw RecordBatchError(.truncated, "legacy message timestamp")
            }
            timestamp = value
        }
        let key = try self.bytes(&entry, "key")
        let value = try self.bytes(&entry, "value")
        guard entry.readableBytes == 0 else { throw RecordBatchError(.invalidLength, "bytes after a legacy message") }
        let timestampType: TimestampType = magic == 1 && attributes & 0x08 != 0 ? .logAppendTime : .createTime
        guard let codec = CompressionCodec(rawValue: attributes & 0x07), codec != .zstd else {
            throw RecordBatchError(.unsupportedCompression, "legacy compression code \(attributes & 0x07)")
        }
        if codec == .none {
            return [LegacyMessage(offset: offset, magic: magic, timestamp: timestamp, timestampType: timestampType, key: key, value: value)]
        }
        guard !nested, let value else { throw RecordBatchError(.malformedRecord, "nested or empty compressed wrapper") }
        let inner = try codec.decompress(value, maxOutputBytes: maxDecompressedBytes, legacyLZ4Checksum: magic == 0)
        var (messages, partial) = try self.decode(inner, maxDecompressedBytes: maxDecompressedBytes)
        guard partial == 0, let last = messages.last else {
            throw RecordBatchError(.malformedRecord, "compressed wrapper holds a partial or empty message set")
        }
        if magic == 1 {
            // Inner offsets are relative; the wrapper's is the absolute offset of the last inner message.
            let base = offset - last.offset
            for index in messages.indices { messages[index].offset += base }
        }
        if timestampType == .logAppendTime {
            for index in messages.indices {
                messages[index].timestamp = timestamp
                messages[index].timestampType = .logAppendTime
            }
        }
        return messages
    }

    private static func bytes(_ entry: inout ByteBuffer, _ field: String) throws -> ByteBuffer? {
        guard let length = entry.readInteger(endianness: .big, as: Int32.self) else {
            throw RecordBatchError(.truncated, "legacy message \(field) length")
        }
        if length == -1 { return nil }
        guard length >= 0, let bytes = entry.readSlice(length: Int(length)) else {
            throw RecordBatchError(.invalidLength, "legacy message \(field) length \(length)")
        }
        return bytes
    }

    /// Encodes messages as a magic 0 or 1 message set, in one compressed wrapper when `compression` is set.
    /// Offsets are `baseOffset`, `baseOffset + 1`, ... (relative inside a magic 1 wrapper, as Kafka writes them).
    public static func encode(
        _ messages: [(key: ByteBuffer?, value: ByteBuffer?, timestamp: Int64)],
        magic: Int8,
        compression: CompressionCodec = .none,
        baseOffset: Int64 = 0
    ) throws -> ByteBuffer {
        precondition(magic == 0 || magic == 1, "legacy message sets are magic 0 or 1")
        var plain = ByteBuffer()
        for (index, message) in messages.enumerated() {
            let offset = compression != .none && magic == 1 ? Int64(index) : baseOffset + Int64(index)
            self.writeEntry(&plain, offset: offset, magic: magic, attributes: 0, timestamp: message.timestamp, key: message.key, value: message.value)
        }
        guard compression != .none else { return plain }
        guard compression != .zstd else { throw RecordBatchError(.unsupportedCompression, "zstd needs magic 2") }
        let wrapped = try compression.compress(plain)
        var output = ByteBuffer()
        self.writeEntry(
            &output, offset: baseOffset + Int64(max(messages.count - 1, 0)), magic: magic, attributes: compression.rawValue,
            timestamp: messages.map(\.timestamp).max() ?? -1, key: nil, value: wrapped)
        return output
    }

    private static func writeEntry(
        _ buffer: inout ByteBuffer, offset: Int64, magic: Int8, attributes: Int8, timestamp: Int64, key: ByteBuffer?,
        value: ByteBuffer?
    ) {
        var body = ByteBuffer()
        body.writeInteger(magic)
        body.writeInteger(attributes)
        if magic == 1 { body.writeInteger(timestamp, endianness: .big) }
        for field in [key, value] {
            if var field {
                body.writeInteger(Int32(field.readableBytes), endianness: .big)
                body.writeBuffer(&field)
            } else {
                body.writeInteger(Int32(-1), endianness: .big)
            }
        }
        buffer.writeInteger(offset, endianness: .big)
        buffer.writeInteger(Int32(4 + body.readableBytes), endianness: .big)
        buffer.writeInteger(CRC32.checksum(body), endianness: .big)
        buffer.writeBuffer(&body)
    }
}

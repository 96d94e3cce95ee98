import NIOCore

/// One record of a v2 batch (protocol notes 7.3): offsets and timestamps are deltas from the batch header.
public struct Record: Hashable, Sendable {
    public var attributes: Int8
    public var timestampDelta: Int64
    public var offsetDelta: Int32
    /// `nil` is a null key.
    public var key: ByteBuffer?
    /// `nil` is a null value (a tombstone).
    public var value: ByteBuffer?
    public var headers: [RecordHeader]

    public init(
        attributes: Int8 = 0, timestampDelta: Int64 = 0, offsetDelta: Int32 = 0, key: ByteBuffer? = nil,
        value: ByteBuffer? = nil, headers: [RecordHeader] = []
    ) {
        self.attributes = attributes
        self.timestampDelta = timestampDelta
        self.offsetDelta = offsetDelta
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// Reads one length-prefixed record from `buffer`, which must hold all of it.
    init(from buffer: inout ByteBuffer) throws {
        let length = try Self.varint(&buffer, "length")
        guard length >= 0, var body = buffer.readSlice(length: Int(length)) else {
            throw RecordBatchError(.malformedRecord, "length \(length) exceeds the \(buffer.readableBytes) bytes left")
        }
        guard let attributes = body.readInteger(as: Int8.self) else {
            throw RecordBatchError(.malformedRecord, "no attributes")
        }
        self.attributes = attributes
        guard let timestampDelta = try? body.readVarlong() else {
            throw RecordBatchError(.malformedRecord, "bad timestampDelta")
        }
        self.timestampDelta = timestampDelta
        self.offsetDelta = try Self.varint(&body, "offsetDelta")
        self.key = try Self.bytes(&body, "key")
        self.value = try Self.bytes(&body, "value")
        let headerCount = try Self.varint(&body, "headerCount")
        guard headerCount >= 0, headerCount <= body.readableBytes else {
            throw RecordBatchError(.malformedRecord, "headerCount \(headerCount)")
        }
        var headers: [RecordHeader] = []
        headers.reserveCapacity(Int(headerCount))
        for _ in 0..<headerCount {
            guard let keyBytes = try Self.bytes(&body, "header key") else {
                throw RecordBatchError(.malformedRecord, "null header key")
            }
            headers.append(RecordHeader(key: String(buffer: keyBytes), value: try Self.bytes(&body, "header value")))
        }
        self.headers = headers
        guard body.readableBytes == 0 else {
            throw RecordBatchError(.malformedRecord, "\(body.readableBytes) bytes after the headers")
        }
    }

    private static func varint(_ buffer: inout ByteBuffer, _ field: String) throws -> Int32 {
        guard let value = try? buffer.readVarint() else { throw RecordBatchError(.malformedRecord, "bad \(field)") }
        return value
    }

    private static func bytes(_ buffer: inout ByteBuffer, _ field: String) throws -> ByteBuffer? {
        let length = try Self.varint(&buffer, "\(field) length")
        if length == -1 { return nil }
        guard length >= 0, let bytes = buffer.readSlice(length: Int(length)) else {
            throw RecordBatchError(.malformedRecord, "\(field) length \(length)")
        }
        return bytes
    }

    /// Appends the record, with its length prefix, to `buffer`.
    func write(to buffer: inout ByteBuffer) {
        var body = ByteBuffer()
        body.writeInteger(self.attributes)
        body.writeVarlong(self.timestampDelta)
        body.writeVarint(self.offsetDelta)
        Self.writeBytes(self.key, to: &body)
        Self.writeBytes(self.value, to: &body)
        body.writeVarint(Int32(self.headers.count))
        for header in self.headers {
            body.writeVarint(Int32(header.key.utf8.count))
            body.writeString(header.key)
            Self.writeBytes(header.value, to: &body)
        }
        buffer.writeVarint(Int32(body.readableBytes))
        buffer.writeBuffer(&body)
    }

    private static func writeBytes(_ bytes: ByteBuffer?, to buffer: inout ByteBuffer) {
        guard var bytes else { return buffer.writeVarint(-1) }
        buffer.writeVarint(Int32(bytes.readableBytes))
        buffer.writeBuffer(&bytes)
    }
}

/// A record header: a non-null UTF-8 key and a nullable value.
public struct RecordHeader: Hashable, Sendable {
    public var key: String
    public var value: ByteBuffer?

    public init(key: String, value: ByteBuffer?) {
        self.key = key
        self.value = value
    }
}

/// Builds a v2 record batch from records, compressing them and computing the CRC.
public struct RecordBatchBuilder: Sendable {
    public var baseOffset: Int64 = 0
    public var partitionLeaderEpoch: Int32 = -1
    public var compression: CompressionCodec
    public var timestampType: TimestampType = .createTime
    public var producerId: Int64 = -1
    public var producerEpoch: Int16 = -1
    public var baseSequence: Int32 = -1
    public var isTransactional = false
    public var isControl = false

    private var encodedRecords = ByteBuffer()
    private var count: Int32 = 0
    private var baseTimestamp: Int64 = -1
    private var maxTimestamp: Int64 = -1
    private var lastOffsetDelta: Int32 = -1

    public init(compression: CompressionCodec = .none) {
        self.compression = compression
    }

    /// The number of records appended so far.
    public var recordCount: Int { Int(self.count) }
    /// The uncompressed size of the records appended so far.
    public var uncompressedRecordBytes: Int { self.encodedRecords.readableBytes }

    /// Appends a record. Offsets are consecutive from the batch's base offset; the first record's timestamp
    /// becomes the batch's base timestamp.
    public mutating func append(timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader] = []) {
        if self.count == 0 { self.baseTimestamp = timestamp }
        self.lastOffsetDelta += 1
        let record = Record(
            timestampDelta: timestamp - self.baseTimestamp, offsetDelta: self.lastOffsetDelta, key: key, value: value,
            headers: headers)
        record.write(to: &self.encodedRecords)
        self.maxTimestamp = max(self.maxTimestamp, timestamp)
        self.count += 1
    }

    /// Appends a header-less record from byte arrays: the producer's hot path. The record is written straight into
    /// the batch (sizes computed first), with no intermediate buffer per record or per field.
    public mutating func append(timestamp: Int64, key: [UInt8]?, value: [UInt8]?) {
        if self.count == 0 { self.baseTimestamp = timestamp }
        self.lastOffsetDelta += 1
        let timestampDelta = timestamp - self.baseTimestamp
        let keyLength = key.map { Int64($0.count) } ?? -1
        let valueLength = value.map { Int64($0.count) } ?? -1
        let bodySize = 1 + Self.zigzagSize(timestampDelta) + Self.zigzagSize(Int64(self.lastOffsetDelta))
            + Self.zigzagSize(keyLength) + max(Int(keyLength), 0) + Self.zigzagSize(valueLength) + max(Int(valueLength), 0) + 1
        let total = Self.zigzagSize(Int64(bodySize)) + bodySize
        let offsetDelta = Int64(self.lastOffsetDelta)
        self.encodedRecords.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
            var at = 0
            func put(_ value: Int64) {
                var raw = UInt64(bitPattern: (value << 1) ^ (value >> 63))
                while raw >= 0x80 {
                    out[at] = UInt8(truncatingIfNeeded: raw) | 0x80
                    at += 1
                    raw >>= 7
                }
                out[at] = UInt8(raw)
                at += 1
            }
            func put(_ bytes: [UInt8]?) {
                put(Int64(bytes?.count ?? -1))
                guard let bytes, !bytes.isEmpty else { return }
                bytes.withUnsafeBytes { out.baseAddress!.advanced(by: at).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
                at += bytes.count
            }
            put(Int64(bodySize))
            out[at] = 0  // attributes
            at += 1
            put(timestampDelta)
            put(offsetDelta)
            put(key)
            put(value)
            out[at] = 0  // no headers (varint 0)
            at += 1
            return at
        }
        self.maxTimestamp = max(self.maxTimestamp, timestamp)
        self.count += 1
    }

    /// Reserves room for `bytes` more bytes of records, so a batch filled record by record does not regrow.
    public mutating func reserveCapacity(_ bytes: Int) {
        self.encodedRecords.reserveCapacity(self.encodedRecords.readableBytes + bytes)
    }

    /// The bytes of a zigzag varint.
    static func zigzagSize(_ value: Int64) -> Int {
        let raw = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        return raw == 0 ? 1 : (64 - raw.leadingZeroBitCount + 6) / 7
    }

    /// The finished batch.
    /// - Throws: `CompressionError` if compression fails.
    public func build() throws -> RecordBatch {
        let records = self.compression == .none ? self.encodedRecords : try self.compression.compress(self.encodedRecords)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(RecordBatch.headerSize + records.readableBytes)
        buffer.writeInteger(self.baseOffset, endianness: .big)
        buffer.writeInteger(Int32(RecordBatch.headerSize - 12 + records.readableBytes), endianness: .big)
        buffer.writeInteger(self.partitionLeaderEpoch, endianness: .big)
        buffer.writeInteger(Int8(2))
        buffer.writeInteger(UInt32(0), endianness: .big)  // CRC, filled in below
        let attributes = RecordBatchAttributes(
            compression: self.compression, timestampType: self.timestampType, isTransactional: self.isTransactional,
            isControl: self.isControl)
        buffer.writeInteger(attributes.rawValue, endianness: .big)
        buffer.writeInteger(max(self.lastOffsetDelta, 0), endianness: .big)
        buffer.writeInteger(self.baseTimestamp, endianness: .big)
        buffer.writeInteger(self.maxTimestamp, endianness: .big)
        buffer.writeInteger(self.producerId, endianness: .big)
        buffer.writeInteger(self.producerEpoch, endianness: .big)
        buffer.writeInteger(self.baseSequence, endianness: .big)
        buffer.writeInteger(self.count, endianness: .big)
        buffer.writeImmutableBuffer(records)
        let crc = CRC32C.checksum(buffer.getSlice(at: RecordBatch.attributesOffset, length: buffer.readableBytes - RecordBatch.attributesOffset)!)
        buffer.setInteger(crc, at: RecordBatch.crcOffset, endianness: .big)
        return try RecordBatch(buffer)
    }
}

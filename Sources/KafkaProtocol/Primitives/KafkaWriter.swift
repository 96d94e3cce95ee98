import KafkaModel
import KafkaRecords
import NIOCore

/// Writes Kafka primitive types into a `ByteBuffer`.
public struct KafkaWriter {
    public var buffer: ByteBuffer

    public init(_ buffer: ByteBuffer = ByteBuffer()) {
        self.buffer = buffer
    }

    public mutating func writeBool(_ value: Bool) { self.buffer.writeInteger(value ? 1 : 0, as: UInt8.self) }
    public mutating func writeInt8(_ value: Int8) { self.buffer.writeInteger(value) }
    public mutating func writeInt16(_ value: Int16) { self.buffer.writeInteger(value, endianness: .big) }
    public mutating func writeInt32(_ value: Int32) { self.buffer.writeInteger(value, endianness: .big) }
    public mutating func writeInt64(_ value: Int64) { self.buffer.writeInteger(value, endianness: .big) }
    public mutating func writeUInt16(_ value: UInt16) { self.buffer.writeInteger(value, endianness: .big) }
    public mutating func writeUInt32(_ value: UInt32) { self.buffer.writeInteger(value, endianness: .big) }
    public mutating func writeFloat64(_ value: Double) { self.buffer.writeInteger(value.bitPattern, endianness: .big) }

    public mutating func writeUUID(_ value: KafkaUUID) {
        self.buffer.writeInteger(value.high, endianness: .big)
        self.buffer.writeInteger(value.low, endianness: .big)
    }

    public mutating func writeUnsignedVarint(_ value: UInt32) { self.buffer.writeUnsignedVarint(value) }
    public mutating func writeVarint(_ value: Int32) { self.buffer.writeVarint(value) }
    public mutating func writeVarlong(_ value: Int64) { self.buffer.writeVarlong(value) }

    /// Writes a length prefix (`nil` = the null marker) in the field's encoding.
    private mutating func writeLength(_ length: Int?, _ field: StaticString, compact: Bool, wide: Bool) throws {
        guard let length else {
            if compact { self.writeUnsignedVarint(0) } else if wide { self.writeInt32(-1) } else { self.writeInt16(-1) }
            return
        }
        if compact {
            guard length < UInt32.max else { throw KafkaProtocolError(.valueTooLarge(length), field: "\(field)") }
            self.writeUnsignedVarint(UInt32(length + 1))
        } else if wide {
            guard length <= Int32.max else { throw KafkaProtocolError(.valueTooLarge(length), field: "\(field)") }
            self.writeInt32(Int32(length))
        } else {
            guard length <= Int16.max else { throw KafkaProtocolError(.valueTooLarge(length), field: "\(field)") }
            self.writeInt16(Int16(length))
        }
    }

    public mutating func writeString(_ value: String, _ field: StaticString, compact: Bool) throws {
        try self.writeLength(value.utf8.count, field, compact: compact, wide: false)
        self.buffer.writeString(value)
    }

    /// Writes a string that may be `nil`; `nullable` says whether this version may carry null.
    public mutating func writeNullableString(_ value: String?, _ field: StaticString, compact: Bool, nullable: Bool = true) throws {
        guard let value else {
            guard nullable else { throw KafkaProtocolError(.unexpectedNull, field: "\(field)") }
            return try self.writeLength(nil, field, compact: compact, wide: false)
        }
        try self.writeString(value, field, compact: compact)
    }

    public mutating func writeBytes(_ value: [UInt8], _ field: StaticString, compact: Bool) throws {
        try self.writeLength(value.count, field, compact: compact, wide: true)
        self.buffer.writeBytes(value)
    }

    public mutating func writeNullableBytes(_ value: [UInt8]?, _ field: StaticString, compact: Bool, nullable: Bool = true) throws {
        guard let value else {
            guard nullable else { throw KafkaProtocolError(.unexpectedNull, field: "\(field)") }
            return try self.writeLength(nil, field, compact: compact, wide: true)
        }
        try self.writeBytes(value, field, compact: compact)
    }

    public mutating func writeRecords(_ value: ByteBuffer?, _ field: StaticString, compact: Bool) throws {
        guard let value else { return try self.writeLength(nil, field, compact: compact, wide: true) }
        try self.writeLength(value.readableBytes, field, compact: compact, wide: true)
        self.buffer.writeImmutableBuffer(value)
    }

    public mutating func writeArray<Element>(
        _ value: [Element],
        _ field: StaticString,
        compact: Bool,
        _ element: (inout KafkaWriter, Element) throws -> Void
    ) throws {
        try self.writeLength(value.count, field, compact: compact, wide: true)
        for item in value { try element(&self, item) }
    }

    public mutating func writeNullableArray<Element>(
        _ value: [Element]?,
        _ field: StaticString,
        compact: Bool,
        nullable: Bool = true,
        _ element: (inout KafkaWriter, Element) throws -> Void
    ) throws {
        guard let value else {
            guard nullable else { throw KafkaProtocolError(.unexpectedNull, field: "\(field)") }
            return try self.writeLength(nil, field, compact: compact, wide: true)
        }
        try self.writeArray(value, field, compact: compact, element)
    }
}

/// Collects the tagged fields of one structure and writes them in ascending tag order, as KIP-482 requires.
public struct TaggedFieldsWriter {
    private var fields: [TaggedField] = []

    public init() {}

    /// Encodes one known tagged field with `body` and keeps it.
    public mutating func append(tag: UInt32, _ body: (inout KafkaWriter) throws -> Void) rethrows {
        var writer = KafkaWriter(ByteBuffer())
        try body(&writer)
        self.fields.append(TaggedField(tag: tag, data: Array(writer.buffer.readableBytesView)))
    }

    /// Keeps fields that were read but not understood, so they go out again unchanged.
    public mutating func append(unknown: [TaggedField]) {
        self.fields += unknown
    }

    public func write(to writer: inout KafkaWriter) {
        let sorted = self.fields.count > 1 ? self.fields.sorted { $0.tag < $1.tag } : self.fields
        writer.writeUnsignedVarint(UInt32(sorted.count))
        for field in sorted {
            writer.writeUnsignedVarint(field.tag)
            writer.writeUnsignedVarint(UInt32(field.data.count))
            writer.buffer.writeBytes(field.data)
        }
    }
}

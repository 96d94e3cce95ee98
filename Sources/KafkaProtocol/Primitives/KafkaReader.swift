import KafkaModel
import KafkaRecords
import NIOCore

/// Reads Kafka primitive types from a `ByteBuffer`, checking every length against the bytes that remain.
///
/// Every method takes the name of the field it reads, for the error it throws. Nothing is allocated on the
/// strength of a length prefix alone: a string, byte array or array count larger than the remaining input is
/// rejected before any allocation, so a hostile frame costs at most its own size.
public struct KafkaReader {
    public var buffer: ByteBuffer

    public init(_ buffer: ByteBuffer) {
        self.buffer = buffer
    }

    public var readableBytes: Int { self.buffer.readableBytes }

    @inline(__always)
    private mutating func integer<T: FixedWidthInteger>(_ field: StaticString, as: T.Type = T.self) throws -> T {
        guard let value = self.buffer.readInteger(endianness: .big, as: T.self) else {
            throw KafkaProtocolError(.truncated, field: "\(field)")
        }
        return value
    }

    public mutating func readBool(_ field: StaticString) throws -> Bool { try self.integer(field, as: UInt8.self) != 0 }
    public mutating func readInt8(_ field: StaticString) throws -> Int8 { try self.integer(field) }
    public mutating func readInt16(_ field: StaticString) throws -> Int16 { try self.integer(field) }
    public mutating func readInt32(_ field: StaticString) throws -> Int32 { try self.integer(field) }
    public mutating func readInt64(_ field: StaticString) throws -> Int64 { try self.integer(field) }
    public mutating func readUInt16(_ field: StaticString) throws -> UInt16 { try self.integer(field) }
    public mutating func readUInt32(_ field: StaticString) throws -> UInt32 { try self.integer(field) }
    public mutating func readFloat64(_ field: StaticString) throws -> Double {
        Double(bitPattern: try self.integer(field, as: UInt64.self))
    }

    public mutating func readUUID(_ field: StaticString) throws -> KafkaUUID {
        let high: UInt64 = try self.integer(field)
        let low: UInt64 = try self.integer(field)
        return KafkaUUID(high: high, low: low)
    }

    /// An unsigned varint of at most 5 bytes (compact lengths, tagged-field tags and sizes).
    public mutating func readUnsignedVarint(_ field: StaticString) throws -> UInt32 {
        do {
            guard let value = try self.buffer.readUnsignedVarint() else { throw KafkaProtocolError(.truncated, field: "\(field)") }
            return value
        } catch is VarintError {
            throw KafkaProtocolError(.invalidVarint, field: "\(field)")
        }
    }

    /// A zig-zag signed varint of at most 5 bytes.
    public mutating func readVarint(_ field: StaticString) throws -> Int32 {
        do {
            guard let value = try self.buffer.readVarint() else { throw KafkaProtocolError(.truncated, field: "\(field)") }
            return value
        } catch is VarintError {
            throw KafkaProtocolError(.invalidVarint, field: "\(field)")
        }
    }

    /// A zig-zag signed varlong of at most 10 bytes.
    public mutating func readVarlong(_ field: StaticString) throws -> Int64 {
        do {
            guard let value = try self.buffer.readVarlong() else { throw KafkaProtocolError(.truncated, field: "\(field)") }
            return value
        } catch is VarintError {
            throw KafkaProtocolError(.invalidVarint, field: "\(field)")
        }
    }

    /// Reads a length prefix: int16 (strings), int32 (bytes, arrays) or compact (unsigned varint N+1).
    /// - Returns: the length, or `nil` for the null marker.
    @inline(__always)
    private mutating func length(_ field: StaticString, compact: Bool, wide: Bool) throws -> Int? {
        let length: Int64
        if compact {
            length = Int64(try self.readUnsignedVarint(field)) - 1
        } else if wide {
            length = Int64(try self.readInt32(field))
        } else {
            length = Int64(try self.readInt16(field))
        }
        if length == -1 { return nil }
        guard length >= 0, length <= self.buffer.readableBytes else {
            if length > self.buffer.readableBytes && length >= 0 { throw KafkaProtocolError(.truncated, field: "\(field)") }
            throw KafkaProtocolError(.invalidLength(length), field: "\(field)")
        }
        return Int(length)
    }

    /// A string that must not be null.
    public mutating func readString(_ field: StaticString, compact: Bool) throws -> String {
        guard let string = try self.readNullableString(field, compact: compact, nullable: false) else {
            throw KafkaProtocolError(.unexpectedNull, field: "\(field)")
        }
        return string
    }

    /// A string that may be null when `nullable` (the field's nullable versions include this one).
    public mutating func readNullableString(_ field: StaticString, compact: Bool, nullable: Bool = true) throws -> String? {
        guard let length = try self.length(field, compact: compact, wide: false) else {
            if nullable { return nil }
            throw KafkaProtocolError(.unexpectedNull, field: "\(field)")
        }
        return self.buffer.readString(length: length)!
    }

    public mutating func readBytes(_ field: StaticString, compact: Bool) throws -> [UInt8] {
        guard let bytes = try self.readNullableBytes(field, compact: compact, nullable: false) else {
            throw KafkaProtocolError(.unexpectedNull, field: "\(field)")
        }
        return bytes
    }

    public mutating func readNullableBytes(_ field: StaticString, compact: Bool, nullable: Bool = true) throws -> [UInt8]? {
        guard let length = try self.length(field, compact: compact, wide: true) else {
            if nullable { return nil }
            throw KafkaProtocolError(.unexpectedNull, field: "\(field)")
        }
        return self.buffer.readBytes(length: length)!
    }

    /// A record set: nullable bytes returned as a slice of the input (no copy).
    public mutating func readRecords(_ field: StaticString, compact: Bool) throws -> ByteBuffer? {
        guard let length = try self.length(field, compact: compact, wide: true) else { return nil }
        return self.buffer.readSlice(length: length)!
    }

    /// The element count of an array, or `nil` for null. A count larger than the remaining bytes is rejected
    /// (every element takes at least one byte).
    public mutating func readArrayCount(_ field: StaticString, compact: Bool) throws -> Int? {
        try self.length(field, compact: compact, wide: true)
    }

    /// An array that must not be null.
    public mutating func readArray<Element>(
        _ field: StaticString,
        compact: Bool,
        _ element: (inout KafkaReader) throws -> Element
    ) throws -> [Element] {
        guard let array = try self.readNullableArray(field, compact: compact, nullable: false, element) else {
            throw KafkaProtocolError(.unexpectedNull, field: "\(field)")
        }
        return array
    }

    /// An array that may be null when `nullable`.
    public mutating func readNullableArray<Element>(
        _ field: StaticString,
        compact: Bool,
        nullable: Bool = true,
        _ element: (inout KafkaReader) throws -> Element
    ) throws -> [Element]? {
        guard let count = try self.readArrayCount(field, compact: compact) else {
            if nullable { return nil }
            throw KafkaProtocolError(.unexpectedNull, field: "\(field)")
        }
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try element(&self)) }
        return elements
    }

    /// Reads a tagged-field section, handing each field's tag and a reader over exactly its bytes to `body`.
    /// `body` returns `false` for a tag it does not know; those are returned to be kept verbatim.
    public mutating func readTaggedFields(
        _ field: StaticString,
        _ body: (UInt32, inout KafkaReader) throws -> Bool
    ) throws -> [TaggedField] {
        let count = try self.readUnsignedVarint(field)
        guard count <= self.buffer.readableBytes else {
            throw KafkaProtocolError(.invalidLength(Int64(count)), field: "\(field)")
        }
        var unknown: [TaggedField] = []
        for _ in 0..<count {
            let tag = try self.readUnsignedVarint(field)
            let size = Int(try self.readUnsignedVarint(field))
            guard let slice = self.buffer.readSlice(length: size) else {
                throw KafkaProtocolError(.truncated, field: "\(field)")
            }
            var value = KafkaReader(slice)
            if try !body(tag, &value) {
                unknown.append(TaggedField(tag: tag, data: Array(slice.readableBytesView)))
            }
        }
        return unknown
    }
}

/// A tagged field this version of Ferry does not know, kept so that re-encoding reproduces it.
public struct TaggedField: Hashable, Sendable {
    public var tag: UInt32
    public var data: [UInt8]

    public init(tag: UInt32, data: [UInt8]) {
        self.tag = tag
        self.data = data
    }
}

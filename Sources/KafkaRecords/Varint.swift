import NIOCore

/// Kafka's variable-length integers on `ByteBuffer`: unsigned varints (7 bits a byte, low group first) and
/// zig-zag signed varints/varlongs, as in protobuf. Reads return `nil` for input that ends inside the value
/// and throw `VarintError` for one longer than its type allows.
extension ByteBuffer {
    public mutating func readUnsignedVarint() throws(VarintError) -> UInt32? {
        var result: UInt32 = 0
        var index = self.readerIndex
        for shift in stride(from: UInt32(0), through: 28, by: 7) {
            guard let byte = self.getInteger(at: index, as: UInt8.self) else { return nil }
            index += 1
            if shift == 28 && byte > 0x0F { throw VarintError() }
            result |= UInt32(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                self.moveReaderIndex(to: index)
                return result
            }
        }
        throw VarintError()
    }

    public mutating func readVarint() throws(VarintError) -> Int32? {
        guard let raw = try self.readUnsignedVarint() else { return nil }
        return Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    public mutating func readVarlong() throws(VarintError) -> Int64? {
        var raw: UInt64 = 0
        var index = self.readerIndex
        for shift in stride(from: UInt64(0), through: 63, by: 7) {
            guard let byte = self.getInteger(at: index, as: UInt8.self) else { return nil }
            index += 1
            if shift == 63 && byte > 0x01 { throw VarintError() }
            raw |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                self.moveReaderIndex(to: index)
                return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
            }
        }
        throw VarintError()
    }

    public mutating func writeUnsignedVarint(_ value: UInt32) {
        var value = value
        while value >= 0x80 {
            self.writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        self.writeInteger(UInt8(value))
    }

    public mutating func writeVarint(_ value: Int32) {
        self.writeUnsignedVarint(UInt32(bitPattern: (value << 1) ^ (value >> 31)))
    }

    public mutating func writeVarlong(_ value: Int64) {
        var raw = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while raw >= 0x80 {
            self.writeInteger(UInt8(truncatingIfNeeded: raw) | 0x80)
            raw >>= 7
        }
        self.writeInteger(UInt8(raw))
    }
}

/// A varint longer than its type allows.
public struct VarintError: Error, Hashable, Sendable {}

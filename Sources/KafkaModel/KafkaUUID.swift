/// A Kafka UUID (topic ids, incarnation ids): 16 bytes on the wire, big-endian halves.
///
/// All zeroes means "no id". People see it as Kafka prints it: 22 characters of URL-safe base64 without padding.
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The all-zero id, meaning "none".
    public static let zero = KafkaUUID(high: 0, low: 0)

    /// A random version-4 UUID, as Kafka's `Uuid.randomUuid()` makes topic ids.
    public static func random() -> KafkaUUID {
        var generator = SystemRandomNumberGenerator()
        let high = (generator.next() as UInt64) & ~0xF000 | 0x4000
        let low = (generator.next() as UInt64) & ~(0xC000 << 48) | (0x8000 << 48)
        return KafkaUUID(high: high, low: low)
    }

    /// Parses Kafka's text form (22 characters of URL-safe base64, no padding).
    public init?(string: String) {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let characters = Array(string.utf8)
        guard characters.count == 22 else { return nil }
        var bits: [UInt8] = []
        for character in characters {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            for shift in stride(from: 5, through: 0, by: -1) { bits.append(UInt8((value >> shift) & 1)) }
        }
        var bytes: [UInt8] = []
        for byteIndex in 0..<16 {
            bytes.append(bits[(byteIndex * 8)..<(byteIndex * 8 + 8)].reduce(0) { $0 << 1 | $1 })
        }
        self.init(
            high: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) },
            low: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// The 16 bytes as on the wire.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: self.high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: self.low >> (56 - 8 * $0)) }
    }

    /// Kafka's text form: URL-safe base64 of the 16 bytes, without padding.
    public var description: String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let bytes = self.bytes
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0...chunk.count {
                output.append(alphabet[Int((value >> (18 - 6 * UInt32(position))) & 0x3F)])
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// Why bytes could not be decoded as a Kafka message, or a message could not be encoded at a version.
///
/// Every decoding failure names the field being read, so a rejected frame can be logged usefully. Decoders
/// never trap on input and never allocate more than the input could justify.
public struct KafkaProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The input ended inside the field.
        case truncated
        /// A length or count that is negative (other than the null marker) or larger than the input.
        case invalidLength(Int64)
        /// A varint longer than its type allows.
        case invalidVarint
        /// Null where this version does not allow it.
        case unexpectedNull
        /// The message has no such version.
        case unsupportedVersion(Int16)
        /// No API has this key.
        case unknownApiKey(Int16)
        /// A frame's size prefix is negative or above the limit.
        case invalidFrameSize(Int64, limit: Int64)
        /// The field is set to a non-default value but the chosen version cannot carry it and it is not ignorable.
        case fieldNotInVersion(Int16)
        /// A value that cannot be written (e.g. a string longer than its length prefix allows).
        case valueTooLarge(Int)
        /// Anything else structurally wrong, with a description.
        case malformed(String)
    }

    public var kind: Kind
    /// The field (or structure) being read or written.
    public var field: String

    public init(_ kind: Kind, field: String) {
        self.kind = kind
        self.field = field
    }

    public var description: String {
        switch self.kind {
        case .truncated: "input ends inside \(self.field)"
        case .invalidLength(let length): "invalid length \(length) for \(self.field)"
        case .invalidVarint: "varint too long in \(self.field)"
        case .unexpectedNull: "\(self.field) is null but this version does not allow null"
        case .unsupportedVersion(let version): "\(self.field) has no version \(version)"
        case .unknownApiKey(let key): "unknown API key \(key)"
        case .invalidFrameSize(let size, let limit): "frame size \(size) is outside 0...\(limit)"
        case .fieldNotInVersion(let version): "\(self.field) cannot be sent at version \(version)"
        case .valueTooLarge(let size): "\(self.field) is too large to encode (\(size))"
        case .malformed(let reason): "\(self.field): \(reason)"
        }
    }
}

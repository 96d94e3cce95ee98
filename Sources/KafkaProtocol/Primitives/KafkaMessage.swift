import KafkaModel

/// A structure of the Kafka protocol that can be read and written at a given version: every generated
/// message, nested struct and header.
public protocol KafkaStruct: Hashable, Sendable {
    /// Decodes the structure at `version`.
    /// - Throws: `KafkaProtocolError` naming the field that could not be read.
    init(from reader: inout KafkaReader, version: Int16) throws
    /// Encodes the structure at `version`.
    /// - Throws: `KafkaProtocolError` if a value cannot be represented at this version (null where the version
    ///   forbids it, a non-ignorable field set to a non-default value the version cannot carry).
    func encode(to writer: inout KafkaWriter, version: Int16) throws
}

/// A top-level message with its published version ranges.
public protocol KafkaMessage: KafkaStruct {
    /// The versions Apache Kafka 3.7 defines for this message.
    static var validVersions: ClosedRange<Int16> { get }
    /// The first version that uses compact encodings and tagged fields; `nil` if none does.
    static var lowestFlexibleVersion: Int16? { get }
}

extension KafkaMessage {
    /// True if `version` uses compact encodings and tagged fields.
    public static func isFlexible(_ version: Int16) -> Bool {
        Self.lowestFlexibleVersion.map { version >= $0 } ?? false
    }
}

/// A request body; its response type is fixed by the API.
public protocol KafkaRequest: KafkaMessage {
    associatedtype Response: KafkaResponse
    static var apiKey: ApiKey { get }
}

/// A response body.
public protocol KafkaResponse: KafkaMessage {
    static var apiKey: ApiKey { get }
}

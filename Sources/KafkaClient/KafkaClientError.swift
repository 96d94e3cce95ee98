import KafkaModel

/// Why a client operation failed: a Kafka error code the broker returned (with its message, if any), or a
/// client-side condition. `description` is one line fit for a tool's error output.
public struct KafkaClientError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The broker answered with this error code.
        case kafka(ErrorCode)
        /// No broker in the bootstrap list (or the metadata) could be reached.
        case noBrokerAvailable
        /// The operation did not finish in time.
        case timedOut
        /// The broker does not support any version of a request the client needs.
        case unsupportedVersion
        /// The caller asked for something invalid (a bad address, an unknown partition, ...).
        case invalidArgument
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The error for a non-zero error code from a response, with the broker's message or Kafka's text for the code.
    public static func kafka(_ code: ErrorCode, message: String? = nil) -> KafkaClientError {
        KafkaClientError(.kafka(code), message.flatMap { $0.isEmpty ? nil : $0 } ?? code.message)
    }

    /// The Kafka error code, if the broker sent one.
    public var code: ErrorCode? {
        if case .kafka(let code) = self.kind { return code }
        return nil
    }

    /// Whether trying again (after refreshing metadata) may succeed.
    public var isRetriable: Bool {
        switch self.kind {
        case .kafka(let code): code.isRetriable
        case .noBrokerAvailable, .timedOut: true
        case .unsupportedVersion, .invalidArgument: false
        }
    }

    public var description: String { self.message }
}

/// `host:port`, as in `bootstrap.servers` and `--broker-list`.
public struct BrokerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses a comma-separated list such as `node1:9092,node2:9092` (spaces allowed; IPv6 as `[::1]:9092`).
    /// - Throws: `KafkaClientError.invalidArgument` naming the entry that is not `host:port`.
    public static func parseList(_ text: String) throws(KafkaClientError) -> [BrokerAddress] {
        var result: [BrokerAddress] = []
        for entry in text.split(separator: ",") {
            let trimmed = String(entry).trimmingSpaces
            guard let colon = trimmed.lastIndex(of: ":"), let port = Int(trimmed[trimmed.index(after: colon)...]),
                  (1...65535).contains(port), colon != trimmed.startIndex
            else {
                throw KafkaClientError(.invalidArgument, "Invalid url in bootstrap.servers: \(trimmed)")
            }
            var host = String(trimmed[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            result.append(BrokerAddress(host: host, port: port))
        }
        guard !result.isEmpty else { throw KafkaClientError(.invalidArgument, "No resolvable bootstrap urls given in bootstrap.servers") }
        return result
    }

    public var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }
}

extension String {
    /// Without leading and trailing whitespace (property values and address lists as users type them).
    var trimmingSpaces: String {
        String(self.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

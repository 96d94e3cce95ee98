import CZooKeeper

/// An error from ZooKeeper or from this client, carrying the ZooKeeper result code.
///
/// Callers switch on `code` (`.noNode`, `.nodeExists`, `.badVersion`, `.sessionExpired`, ...); `path` and
/// `operation` say which request failed, for log lines that can be acted on.
public struct ZooKeeperError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A ZooKeeper result code (the C client's `ZOO_ERRORS`), or one of this client's own conditions.
    public enum Code: Hashable, Sendable, CustomStringConvertible {
        case systemError
        case runtimeInconsistency
        case dataInconsistency
        case connectionLoss
        case marshallingError
        case unimplemented
        case operationTimeout
        case badArguments
        case invalidState
        case newConfigNoQuorum
        case reconfigInProgress
        case sslConnectionError
        case apiError
        case noNode
        case noAuth
        case badVersion
        case noChildrenForEphemerals
        case nodeExists
        case notEmpty
        case sessionExpired
        case invalidCallback
        case invalidACL
        case authFailed
        case closing
        case sessionMoved
        case notReadOnly
        case ephemeralOnLocalSession
        case noWatcher
        case reconfigDisabled
        case sessionClosedRequireSASLAuth
        case throttled
        /// The first connection was not established within the configured connection timeout.
        case connectionTimeout
        /// The client was closed; no further requests are possible.
        case closed
        /// A code this client does not name.
        case other(Int32)

        private static let table: [(Code, Int32, String)] = [
            (.systemError, -1, "systemError"),
            (.runtimeInconsistency, -2, "runtimeInconsistency"),
            (.dataInconsistency, -3, "dataInconsistency"),
            (.connectionLoss, -4, "connectionLoss"),
            (.marshallingError, -5, "marshallingError"),
            (.unimplemented, -6, "unimplemented"),
            (.operationTimeout, -7, "operationTimeout"),
            (.badArguments, -8, "badArguments"),
            (.invalidState, -9, "invalidState"),
            (.newConfigNoQuorum, -13, "newConfigNoQuorum"),
            (.reconfigInProgress, -14, "reconfigInProgress"),
            (.sslConnectionError, -15, "sslConnectionError"),
            (.apiError, -100, "apiError"),
            (.noNode, -101, "noNode"),
            (.noAuth, -102, "noAuth"),
            (.badVersion, -103, "badVersion"),
            (.noChildrenForEphemerals, -108, "noChildrenForEphemerals"),
            (.nodeExists, -110, "nodeExists"),
            (.notEmpty, -111, "notEmpty"),
            (.sessionExpired, -112, "sessionExpired"),
            (.invalidCallback, -113, "invalidCallback"),
            (.invalidACL, -114, "invalidACL"),
            (.authFailed, -115, "authFailed"),
            (.closing, -116, "closing"),
            (.sessionMoved, -118, "sessionMoved"),
            (.notReadOnly, -119, "notReadOnly"),
            (.ephemeralOnLocalSession, -120, "ephemeralOnLocalSession"),
            (.noWatcher, -121, "noWatcher"),
            (.reconfigDisabled, -123, "reconfigDisabled"),
            (.sessionClosedRequireSASLAuth, -124, "sessionClosedRequireSASLAuth"),
            (.throttled, -127, "throttled"),
        ]

        /// Maps a C client result code (never `ZOK`) to its case.
        public init(rawValue: Int32) {
            self = Self.table.first { $0.1 == rawValue }?.0 ?? .other(rawValue)
        }

        /// The C client's number for this code; `nil` for this client's own conditions.
        public var rawValue: Int32? {
            switch self {
            case .connectionTimeout, .closed: return nil
            case .other(let raw): return raw
            default: return Self.table.first { $0.0 == self }?.1
            }
        }

        /// True for codes after which the same request may succeed on retry within the same session.
        public var isRetriable: Bool {
            switch self {
            case .connectionLoss, .operationTimeout, .throttled, .sessionMoved: true
            default: false
            }
        }

        public var description: String {
            switch self {
            case .other(let raw): return "zookeeper error \(raw)"
            case .connectionTimeout: return "connectionTimeout"
            case .closed: return "closed"
            default: return Self.table.first { $0.0 == self }?.2 ?? "unknown"
            }
        }
    }

    public var code: Code
    /// The znode the failed request named, if any.
    public var path: String?
    /// The request that failed (`create`, `getData`, `multi`, ...).
    public var operation: String?
    /// For a failed `multi`, the index of the operation ZooKeeper rejected.
    public var failedOperationIndex: Int?

    public init(_ code: Code, path: String? = nil, operation: String? = nil, failedOperationIndex: Int? = nil) {
        self.code = code
        self.path = path
        self.operation = operation
        self.failedOperationIndex = failedOperationIndex
    }

    init(rawValue: Int32, path: String?, operation: String) {
        self.init(Code(rawValue: rawValue), path: path, operation: operation)
    }

    public var description: String {
        var text = "ZooKeeper \(self.operation ?? "request") failed: \(self.code)"
        if let path = self.path { text += " (path \(path))" }
        if let index = self.failedOperationIndex { text += " at operation \(index)" }
        return text
    }
}

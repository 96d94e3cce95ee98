/// A storage failure, with the file involved and the errno where a system call failed.
public struct LogStorageError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        /// A system call failed (`errno` says why).
        case io
        /// An index or checkpoint file is not in the expected format (indexes are then rebuilt).
        case corruptFile
        /// The offset is outside the log (`OFFSET_OUT_OF_RANGE` to clients).
        case offsetOutOfRange
        /// A batch was rejected for append (bad CRC, wrong magic, out-of-order offsets).
        case invalidBatch
        /// The log directory belongs to another broker.
        case foreignLogDirectory
        /// A configuration value is unusable.
        case invalidConfig
        /// An idempotent batch does not continue its producer's sequence (`OUT_OF_ORDER_SEQUENCE_NUMBER`).
        case outOfOrderSequence
        /// An idempotent batch from an older epoch of its producer (`INVALID_PRODUCER_EPOCH`).
        case invalidProducerEpoch
    }

    public var code: Code
    public var message: String
    public var path: String?
    public var errno: Int32?

    public init(_ code: Code, _ message: String, path: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
    }

    public var description: String {
        var text = self.message
        if let path = self.path { text += " (\(path))" }
        if let errno = self.errno { text += ": errno \(errno)" }
        return text
    }
}

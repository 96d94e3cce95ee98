import KafkaProtocol
import LogStorage
import NIOCore

/// The records of one partition in a Fetch response: log file regions (sent with `sendfile`), or bytes (records
/// converted for old versions).
enum PartitionRecords: Sendable {
    case slices([LogReadSlice])
    case bytes(ByteBuffer)

    static let empty = PartitionRecords.bytes(ByteBuffer())

    var count: Int {
        switch self {
        case .slices(let slices): slices.reduce(0) { $0 + $1.length }
        case .bytes(let buffer): buffer.readableBytes
        }
    }
}

/// Writes a Fetch response frame (v0-11, the non-flexible versions) as parts, so that each partition's records go
/// from the page cache to the socket (Kafka's zero-copy `FileRecords` send) instead of being copied into the
/// response. The layout is the generated `FetchResponse` encoder's; a test checks they agree byte for byte.
enum FetchResponseParts {
    static let versions: ClosedRange<Int16> = 0...11

    /// - Parameter records: each partition's records, in response order (topics, then their partitions).
    static func encode(_ response: FetchResponse, records: [PartitionRecords], version: Int16, correlationId: Int32) -> [ResponsePart] {
        precondition(Self.versions.contains(version), "Fetch v\(version) is flexible; use the generated encoder")
        var parts: [ResponsePart] = []
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(0), endianness: .big)  // frame size, filled in at the end
        buffer.writeInteger(correlationId, endianness: .big)  // response header v0
        if version >= 1 { buffer.writeInteger(response.throttleTimeMs, endianness: .big) }
        if version >= 7 {
            buffer.writeInteger(response.errorCode, endianness: .big)
            buffer.writeInteger(response.sessionId, endianness: .big)
        }
        buffer.writeInteger(Int32(response.responses.count), endianness: .big)
        var next = records.makeIterator()
        for topic in response.responses {
            buffer.writeInteger(Int16(topic.topic.utf8.count), endianness: .big)
            buffer.writeString(topic.topic)
            buffer.writeInteger(Int32(topic.partitions.count), endianness: .big)
            for partition in topic.partitions {
                buffer.writeInteger(partition.partitionIndex, endianness: .big)
                buffer.writeInteger(partition.errorCode, endianness: .big)
                buffer.writeInteger(partition.highWatermark, endianness: .big)
                if version >= 4 { buffer.writeInteger(partition.lastStableOffset, endianness: .big) }
                if version >= 5 { buffer.writeInteger(partition.logStartOffset, endianness: .big) }
                if version >= 4 {
                    if let aborted = partition.abortedTransactions {
                        buffer.writeInteger(Int32(aborted.count), endianness: .big)
                        for transaction in aborted {
                            buffer.writeInteger(transaction.producerId, endianness: .big)
                            buffer.writeInteger(transaction.firstOffset, endianness: .big)
                        }
                    } else {
                        buffer.writeInteger(Int32(-1), endianness: .big)
                    }
                }
                if version >= 11 { buffer.writeInteger(partition.preferredReadReplica, endianness: .big) }
                let partitionRecords = next.next() ?? .empty
                buffer.writeInteger(Int32(partitionRecords.count), endianness: .big)
                switch partitionRecords {
                case .bytes(var bytes):
                    buffer.writeBuffer(&bytes)
                case .slices(let slices):
                    guard !slices.isEmpty else { break }
                    parts.append(.bytes(buffer))
                    buffer = ByteBuffer()
                    parts += slices.map { .file($0) }
                }
            }
        }
        parts.append(.bytes(buffer))
        let size = parts.reduce(0) { $0 + $1.count } - 4
        if case .bytes(var first) = parts[0] {
            first.setInteger(Int32(size), at: first.readerIndex, endianness: .big)
            parts[0] = .bytes(first)
        }
        return parts
    }
}

@testable import BrokerServer
import Foundation
import KafkaProtocol
import KafkaRecords
import LogStorage
import NIOCore
import Testing

@Suite struct FetchResponsePartsTests {
    /// The parts, with file regions read, are exactly what the generated encoder writes for the same response.
    @Test(arguments: Array(FetchResponseParts.versions))
    func partsAreTheGeneratedEncodingByteForByte(version: Int16) throws {
        let directory = NSTemporaryDirectory() + "ferry-fetch-parts-\(version)-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try PartitionLog.open(directory: directory)
        for value in ["first", "second", "third"] {
            var builder = RecordBatchBuilder()
            builder.append(timestamp: 1_700_000_000_000, key: nil, value: ByteBuffer(string: value))
            try log.append(try builder.build(), leaderEpoch: 3)
        }
        let slices = try log.read(from: 1, maxBytes: 1 << 20)
        var fileBytes = ByteBuffer()
        for slice in slices { try slice.read(appendingTo: &fileBytes) }
        let converted = ByteBuffer(string: "legacy bytes")

        var response = FetchResponse()
        response.throttleTimeMs = 5
        response.responses = [
            .init(topic: "orders", partitions: [
                .init(partitionIndex: 0, errorCode: 0, highWatermark: 3, lastStableOffset: 3, logStartOffset: 0, records: nil),
                .init(partitionIndex: 1, errorCode: 6, highWatermark: -1, records: nil),
            ]),
            .init(topic: "payments", partitions: [.init(partitionIndex: 4, errorCode: 0, highWatermark: 9, records: nil)]),
        ]
        let records: [PartitionRecords] = [.slices(slices), .empty, .bytes(converted)]
        let parts = FetchResponseParts.encode(response, records: records, version: version, correlationId: 77)
        #expect(parts.contains { if case .file = $0 { true } else { false } })
        var flattened = ByteBuffer()
        for part in parts {
            switch part {
            case .bytes(var bytes): flattened.writeBuffer(&bytes)
            case .file(let slice): try slice.read(appendingTo: &flattened)
            }
        }

        var expected = response
        expected.responses[0].partitions[0].records = fileBytes
        expected.responses[0].partitions[1].records = ByteBuffer()
        expected.responses[1].partitions[0].records = converted
        var generated = ByteBuffer()
        try KafkaFrameEncoder.encodeResponse(expected, version: version, correlationId: 77, into: &generated)
        #expect(flattened == generated)
    }
}

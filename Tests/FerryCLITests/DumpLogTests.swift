import Foundation
@testable import FerryCLI
import KafkaModel
import KafkaRecords
import LogStorage
import NIOCore
import Testing

@Suite struct DumpLogTests {
    @Test func printsBatchesAndRecordsLikeKafkaDumpLog() throws {
        let directory = NSTemporaryDirectory() + "ferry-dump-\(UUID().uuidString.prefix(8))/t-0"
        let log = try PartitionLog.open(directory: directory)
        var builder = RecordBatchBuilder(compression: .gzip)
        builder.append(timestamp: 1_700_000_000_000, key: ByteBuffer(string: "k1"), value: ByteBuffer(string: "hello"),
                       headers: [RecordHeader(key: "trace", value: nil)])
        builder.append(timestamp: 1_700_000_000_005, key: nil, value: ByteBuffer(string: "world"))
        try log.append(try builder.build(), leaderEpoch: 3)
        try log.close()
        let lines = try DumpLogCommand.dump(path: directory + "/00000000000000000000.log", records: true, payload: true)
        #expect(lines[0] == "Dumping \(directory)/00000000000000000000.log")
        #expect(lines[1] == "Log starting offset: 0")
        #expect(lines[2].hasPrefix("baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 3 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1700000000005 size: "))
        #expect(lines[2].hasSuffix("magic: 2 compresscodec: gzip crc: \(try RecordSet(try log.read(from: 0, maxBytes: 100)[0].bytes()).batches()[0].crc) isvalid: true"))
        #expect(lines[3] == "| offset: 0 CreateTime: 1700000000000 keySize: 2 valueSize: 5 sequence: -1 headerKeys: [trace] key: k1 payload: hello")
        #expect(lines[4] == "| offset: 1 CreateTime: 1700000000005 keySize: -1 valueSize: 5 sequence: -1 headerKeys: [] payload: world")
        #expect(lines.count == 5)
    }
}

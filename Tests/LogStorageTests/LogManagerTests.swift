import Foundation
import KafkaModel
import KafkaRecords
@testable import LogStorage
import NIOCore
import Testing

@Suite struct LogManagerTests {
    func root(_ name: String = #function) -> String {
        NSTemporaryDirectory() + "ferry-manager-\(name.prefix { $0 != "(" })-\(UUID().uuidString.prefix(8))"
    }

    @Test func newPartitionsGoToTheDirectoryWithFewestAndReloadFromBoth() throws {
        let root = self.root()
        let dirs = [root + "/a", root + "/b"]
        var manager = try LogManager(logDirectories: dirs, brokerId: 1)
        for partition in 0..<6 {
            let log = try manager.getOrCreateLog(TopicPartition("orders", Int32(partition)))
            try log.append(try batch(2, timestamp: 1), leaderEpoch: 0)
        }
        let inA = try FileManager.default.contentsOfDirectory(atPath: dirs[0]).filter { $0.hasPrefix("orders-") }
        let inB = try FileManager.default.contentsOfDirectory(atPath: dirs[1]).filter { $0.hasPrefix("orders-") }
        #expect(inA.count == 3 && inB.count == 3)
        try manager.shutdown()
        manager = try LogManager(logDirectories: dirs, brokerId: 1)
        #expect(manager.partitions == (0..<6).map { TopicPartition("orders", Int32($0)) })
        #expect(manager.log(TopicPartition("orders", 4))?.logEndOffset == 2)
    }

    @Test func aDirectoryOfAnotherBrokerIsRefused() throws {
        let dir = self.root() + "/logs"
        try LogManager(logDirectories: [dir], brokerId: 1).shutdown()
        #expect(try String(contentsOfFile: dir + "/meta.properties", encoding: .utf8).contains("broker.id=1"))
        #expect(throws: LogStorageError.self) { try LogManager(logDirectories: [dir], brokerId: 2) }
        #expect(try LogManager(logDirectories: [dir], brokerId: 1).partitions.isEmpty)
    }

    @Test func checkpointsUseKafkasFormat() throws {
        let dir = self.root() + "/logs"
        let manager = try LogManager(logDirectories: [dir], brokerId: 3)
        let log = try manager.getOrCreateLog(TopicPartition("t", 0))
        try log.append(try batch(5, timestamp: 1), leaderEpoch: 0)
        try manager.checkpointHighWatermarks([TopicPartition("t", 0): 5])
        try manager.shutdown()
        #expect(try String(contentsOfFile: dir + "/recovery-point-offset-checkpoint", encoding: .utf8) == "0\n1\nt 0 5\n")
        #expect(try String(contentsOfFile: dir + "/replication-offset-checkpoint", encoding: .utf8) == "0\n1\nt 0 5\n")
        #expect(try String(contentsOfFile: dir + "/log-start-offset-checkpoint", encoding: .utf8) == "0\n1\nt 0 0\n")
        #expect(FileManager.default.fileExists(atPath: dir + "/.kafka_cleanshutdown"))
        let reopened = try LogManager(logDirectories: [dir], brokerId: 3)
        #expect(try reopened.savedHighWatermarks() == [TopicPartition("t", 0): 5])
        #expect(!FileManager.default.fileExists(atPath: dir + "/.kafka_cleanshutdown"))
    }

    @Test func afterACrashLogsAreRecoveredFromTheirCheckpointedRecoveryPoints() throws {
        let dir = self.root() + "/logs"
        let manager = try LogManager(logDirectories: [dir], brokerId: 1)
        let log = try manager.getOrCreateLog(TopicPartition("t", 0))
        for round in 0..<4 { try log.append(try batch(1, timestamp: Int64(round)), leaderEpoch: 0) }
        try log.flush()
        try manager.checkpoint()
        try log.append(try batch(1, timestamp: 9), leaderEpoch: 0)
        // Crash: no shutdown, and the last batch is torn.
        let path = dir + "/t-0/00000000000000000000.log"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 3).write(to: URL(fileURLWithPath: path))
        let recovered = try LogManager(logDirectories: [dir], brokerId: 1)
        #expect(recovered.log(TopicPartition("t", 0))?.logEndOffset == 4)
    }

    @Test func topicNamesWithDashesParseFromDirectoryNames() {
        #expect(TopicPartition(directoryName: "my-topic-12") == TopicPartition("my-topic", 12))
        #expect(TopicPartition(directoryName: "topic") == nil)
        #expect(TopicPartition(directoryName: "-3") == nil)
    }
}

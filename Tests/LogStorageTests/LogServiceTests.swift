import Foundation
import KafkaModel
import KafkaRecords
@testable import LogStorage
import NIOCore
import Testing

@Suite struct LogServiceTests {
    @Test func retentionRunsOnTheMaintenanceIntervalWithoutAnyAppend() async throws {
        let clock = ManualClock()
        let dir = NSTemporaryDirectory() + "ferry-service-\(UUID().uuidString.prefix(8))"
        var config = LogConfig()
        config.segmentBytes = 1500
        config.retentionMs = 60_000
        let manager = try LogManager(logDirectories: [dir], brokerId: 1, defaultConfig: config, clock: { clock.read() })
        let service = LogService(manager: manager, maintenanceInterval: .milliseconds(20))
        let partition = TopicPartition("t", 0)
        let segments = try await service.withLog(partition, create: true) { log in
            for round in 0..<10 { try log.append(try batch(1, timestamp: clock.read() + Int64(round), valueSize: 400), leaderEpoch: 0) }
            return log.segmentBaseOffsets.count
        }
        #expect((segments ?? 0) > 2)
        let running = Task { await service.run() }
        clock.advance(120_000)
        let deadline = ContinuousClock.now + .seconds(10)
        while try await service.withLog(partition, { $0.segmentBaseOffsets.count }) != 1 {
            #expect(ContinuousClock.now < deadline, "retention did not run")
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        running.cancel()
        await running.value
        #expect(try await service.withLog(partition) { $0.logStartOffset } == 9)
        #expect(try String(contentsOfFile: dir + "/log-start-offset-checkpoint", encoding: .utf8) == "0\n1\nt 0 9\n")
        try await service.shutdown()
    }

    @Test func flushMsFlushesOnTheNextMaintenanceWithoutAnAppend() throws {
        let clock = ManualClock()
        var config = LogConfig()
        config.flushMs = 1000
        let dir = NSTemporaryDirectory() + "ferry-flush-\(UUID().uuidString.prefix(8))"
        let manager = try LogManager(logDirectories: [dir], brokerId: 1, defaultConfig: config, clock: { clock.read() })
        let log = try manager.getOrCreateLog(TopicPartition("t", 0))
        try log.append(try batch(3, timestamp: 1), leaderEpoch: 0)
        #expect(log.recoveryPoint == 0)
        try manager.runMaintenance()
        #expect(log.recoveryPoint == 0)  // not due yet
        clock.advance(1500)
        try manager.runMaintenance()
        #expect(log.recoveryPoint == 3)
    }
}

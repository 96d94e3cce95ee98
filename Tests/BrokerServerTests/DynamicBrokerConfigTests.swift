@testable import BrokerServer
import LogStorage
import Testing

@Suite struct DynamicBrokerConfigTests {
    let file = "broker.id=1\nzookeeper.connect=127.0.0.1:2181\nlog.retention.hours=24\nmessage.max.bytes=5000\n"

    @Test func thisBrokersValueWinsOverTheClusterDefaultWhichWinsOverTheFile() throws {
        let dynamic = DynamicBrokerConfig(static: try BrokerConfig.parse(self.file))
        #expect(dynamic.current.messageMaxBytes == 5000 && dynamic.current.log.retentionMs == 86_400_000)

        #expect(dynamic.update(.clusterDefault, to: ["message.max.bytes": "2000", "log.retention.ms": "1000"]))
        #expect(dynamic.current.messageMaxBytes == 2000 && dynamic.current.log.retentionMs == 1000)
        #expect(dynamic.update(.broker, to: ["message.max.bytes": "9000"]))
        #expect(dynamic.current.messageMaxBytes == 9000 && dynamic.current.log.retentionMs == 1000)
        #expect(!dynamic.update(.broker, to: ["message.max.bytes": "9000"]))  // the same values: nothing changes

        // Removing a level's value falls back to the next level down.
        dynamic.update(.broker, to: [:])
        #expect(dynamic.current.messageMaxBytes == 2000)
        dynamic.update(.clusterDefault, to: [:])
        #expect(dynamic.current.messageMaxBytes == 5000 && dynamic.current.log.retentionMs == 86_400_000)
        #expect(dynamic.staticConfig.given["message.max.bytes"] == "5000")
    }

    @Test func aKeyThatCannotChangeOrAnUnusableValueIsLeftOutAndTheRestApplies() throws {
        let dynamic = DynamicBrokerConfig(static: try BrokerConfig.parse(self.file))
        dynamic.update(.broker, to: ["num.partitions": "7", "min.insync.replicas": "many", "unclean.leader.election.enable": "true"])
        #expect(dynamic.values(.broker) == ["unclean.leader.election.enable": "true"])
        #expect(dynamic.current.uncleanLeaderElectionEnable && dynamic.current.numPartitions == 1 && dynamic.current.minInsyncReplicas == 1)
    }

    @Test func onlyTheDynamicKeysCanBeApplied() throws {
        let config = try BrokerConfig.parse(self.file)
        #expect(throws: BrokerConfigError.self) { try config.applyingDynamic(["listeners": "PLAINTEXT://:9093"]) }
        #expect(throws: BrokerConfigError.self) { try config.applyingDynamic(["log.segment.bytes": "10"]) }
        let changed = try config.applyingDynamic(["log.roll.ms": "60000", "compression.type": "zstd", "log.segment.bytes": "4096"])
        #expect(changed.log.segmentMs == 60_000 && changed.compressionType == "zstd" && changed.log.segmentBytes == 4096)
        // The cleaner's defaults too, as in Kafka, and every dynamic key is one a broker can apply.
        let cleaner = try config.applyingDynamic([
            "log.cleanup.policy": "compact,delete", "log.cleaner.min.compaction.lag.ms": "5000", "log.cleaner.max.compaction.lag.ms": "90000",
            "log.cleaner.delete.retention.ms": "1000", "log.cleaner.min.cleanable.ratio": "0.2",
        ])
        #expect(cleaner.log.compacts && cleaner.log.deletesByRetention && cleaner.log.minCompactionLagMs == 5000)
        #expect(cleaner.log.maxCompactionLagMs == 90_000 && cleaner.log.deleteRetentionMs == 1000 && cleaner.log.minCleanableDirtyRatio == 0.2)
        #expect(throws: BrokerConfigError.self) { try config.applyingDynamic(["log.cleaner.max.compaction.lag.ms": "0"]) }
        for key in BrokerConfig.dynamicKeys {
            #expect(config.describedValues().contains { $0.key == key }, "\(key) is described")
        }
    }
}

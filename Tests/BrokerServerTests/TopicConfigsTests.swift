@testable import BrokerServer
import Coordination
import LogStorage
import Testing

@Suite struct TopicConfigsTests {
    @Test func kafkasThirtyOneTopicConfigsWithTheirBrokerFallbacks() throws {
        #expect(TopicConfigs.all.count == 31)
        let config = try BrokerConfig.parse("zookeeper.connect=127.0.0.1:2181\nlog.retention.hours=24\nmessage.max.bytes=5000\n")
        #expect(TopicConfigs.byName["retention.ms"]?.brokerValue(config) == "86400000")
        #expect(TopicConfigs.byName["max.message.bytes"]?.brokerValue(config) == "5000")
        #expect(TopicConfigs.byName["cleanup.policy"]?.brokerValue(config) == "delete")
    }

    @Test func validationRefusesWhatKafkaRefusesWithItsMessages() {
        func message(_ overrides: [String: String]) -> String? {
            do {
                try TopicConfigs.validate(overrides, topic: "t")
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message(["retention.ms": "-1", "cleanup.policy": "compact,delete", "min.cleanable.dirty.ratio": "0.3"]) == nil)
        #expect(message(["retention.mss": "1"]) == "Unknown topic config name: retention.mss")
        #expect(message(["retention.ms": "soon"])
            == "Invalid config value for resource ConfigResource(type=TOPIC, name='t'): Invalid value soon for configuration retention.ms: Not a number of type LONG")
        #expect(message(["segment.bytes": "13"])?.hasSuffix("Value must be at least 14") == true)
        #expect(message(["segment.bytes": "3000000000"])?.hasSuffix("Not a number of type INT") == true)
        #expect(message(["cleanup.policy": "forever"]) != nil)
        #expect(message(["message.timestamp.type": "LogAppendTime"]) == nil)
        #expect(message(["min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"])
            == "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)")
    }

    @Test func overridesShapeTheLogConfig() {
        var broker = LogConfig()
        broker.retentionBytes = 100
        let config = TopicConfigs.logConfig(["segment.bytes": "1024", "retention.ms": "-1", "message.timestamp.type": "LogAppendTime"], broker: broker)
        #expect(config.segmentBytes == 1024 && config.retentionMs == -1 && config.useLogAppendTime && config.retentionBytes == 100)
        #expect(config.deletesByRetention)
        #expect(!TopicConfigs.logConfig(["cleanup.policy": "compact"], broker: broker).deletesByRetention)
        #expect(TopicConfigs.logConfig(["cleanup.policy": "compact, delete"], broker: broker).deletesByRetention)
    }

    @Test func theBrokersCleanupPolicyIsTheDefaultOfEveryLog() throws {
        let compact = try BrokerConfig.parse("zookeeper.connect=127.0.0.1:2181\nlog.cleanup.policy=compact\n")
        #expect(!compact.log.deletesByRetention)
        #expect(TopicConfigs.byName["cleanup.policy"]?.brokerValue(compact) == "compact")
        #expect(TopicConfigs.logConfig(["cleanup.policy": "delete"], broker: compact.log).deletesByRetention)
        #expect(try BrokerConfig.parse("zookeeper.connect=127.0.0.1:2181\n").log.deletesByRetention)
        #expect(throws: BrokerConfigError.self) { try BrokerConfig.parse("zookeeper.connect=127.0.0.1:2181\nlog.cleanup.policy=forever\n") }
    }
}

@testable import BrokerServer
import KafkaModel
import Testing

/// When a replica fetcher's long poll is cut short: only for partitions it must start following, never for those it
/// stops following (a shutting-down leader hands its partitions away one state write after another).
@Suite struct InterruptibleConnectionTests {
    let a = TopicPartition("t", 0)
    let b = TopicPartition("__consumer_offsets", 7)
    let c = TopicPartition("t", 1)

    @Test func partitionsLeavingTheSetDoNotInterrupt() {
        let interruptible = InterruptibleConnection<String>()
        interruptible.use("connection", for: [self.a: 3, self.b: 5])
        #expect(interruptible.interrupt(unless: [self.a: 3, self.b: 5]) == nil)
        #expect(interruptible.interrupt(unless: [self.a: 3]) == nil)
        #expect(interruptible.interrupt(unless: [:]) == nil)
        #expect(!interruptible.takeInterruption())
    }

    @Test func aNewPartitionOrEpochInterruptsOnce() {
        let interruptible = InterruptibleConnection<String>()
        interruptible.use("first", for: [self.a: 3])
        #expect(interruptible.interrupt(unless: [self.a: 3, self.c: 0]) == "first")
        #expect(interruptible.interrupt(unless: [self.a: 3, self.c: 0]) == nil)  // already handed out for closing
        #expect(interruptible.takeInterruption())
        #expect(!interruptible.takeInterruption())

        interruptible.use("second", for: [self.a: 3, self.c: 0])
        #expect(interruptible.interrupt(unless: [self.a: 4, self.c: 0]) == "second")
        #expect(interruptible.takeInterruption())
    }

    @Test func nothingInUseNothingToInterrupt() {
        let interruptible = InterruptibleConnection<String>()
        #expect(interruptible.interrupt(unless: [self.a: 1]) == nil)
        interruptible.use(nil, for: [:])
        #expect(interruptible.interrupt(unless: [self.a: 1]) == nil)
    }
}

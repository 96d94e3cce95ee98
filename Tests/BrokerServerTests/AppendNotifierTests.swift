@testable import BrokerServer
import KafkaModel
import Testing

/// Fetch long polls: what ends a consumer's wait and what ends a follower's.
@Suite struct AppendNotifierTests {
    let partition = TopicPartition("t", 0)

    @Test func aHighWatermarkMoveEndsAConsumersWaitButNotAFollowers() async {
        let notifier = AppendNotifier()
        let consumer = await notifier.mark([self.partition], highWatermarkToo: true)
        let follower = await notifier.mark([self.partition], highWatermarkToo: false)
        await notifier.highWatermarkAdvanced(of: self.partition)
        let clock = ContinuousClock()
        // The consumer's mark is behind: its wait returns at once, long before the timeout.
        #expect(await clock.measure { await notifier.wait(since: consumer, timeout: .seconds(30)) } < .seconds(10))
        // The follower's is not: it waits out its (short) timeout.
        #expect(await clock.measure { await notifier.wait(since: follower, timeout: .milliseconds(200)) } >= .milliseconds(200))
    }

    @Test func anAppendEndsEveryWaitEvenOneThatBeganAfterIt() async {
        let notifier = AppendNotifier()
        let consumer = await notifier.mark([self.partition], highWatermarkToo: true)
        let follower = await notifier.mark([self.partition], highWatermarkToo: false)
        await notifier.appended(to: self.partition)
        let clock = ContinuousClock()
        #expect(await clock.measure { await notifier.wait(since: consumer, timeout: .seconds(30)) } < .seconds(10))
        #expect(await clock.measure { await notifier.wait(since: follower, timeout: .seconds(30)) } < .seconds(10))
        // A follower already waiting is woken by an append.
        let waiting = await notifier.mark([self.partition], highWatermarkToo: false)
        async let waited = clock.measure { await notifier.wait(since: waiting, timeout: .seconds(30)) }
        while await notifier.waiterCount == 0 { await Task.yield() }
        await notifier.appended(to: self.partition)
        #expect(await waited < .seconds(10))
    }
}

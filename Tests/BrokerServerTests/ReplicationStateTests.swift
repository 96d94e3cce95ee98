@testable import BrokerServer
import KafkaModel
import Testing

/// The leader's bookkeeping for acks=all: how a waiting produce ends.
@Suite struct ReplicationStateTests {
    let partition = TopicPartition("t", 0)

    @Test func aWaitEndsWhenTheSlowestIsrMemberHasTheRecords() async {
        let state = ReplicationState(brokerId: 1, checkpointedHighWatermarks: [:])
        await state.leaderUpdate(self.partition, leaderEpoch: 0, isr: [1, 2], logEndOffset: 10, logStartOffset: 0, nowMs: 0)
        async let wait = state.waitForHighWatermark(self.partition, atLeast: 10, timeout: .seconds(30))
        _ = await state.followerFetched(
            self.partition, replica: 2, fetchOffset: 10, leaderEpoch: 0, leaderLogEndOffset: 10, logStartOffset: 0, nowMs: 1)
        await state.leaderUpdate(self.partition, leaderEpoch: 0, isr: [1, 2], logEndOffset: 10, logStartOffset: 0, nowMs: 1)
        #expect(await wait == .replicated(isrSize: 2))
    }

    @Test func aShrunkIsrLetsTheWaitEndWithTheSmallerIsr() async {
        // The follower never fetches; once the leader drops it, the high watermark passes with an ISR of one,
        // which the produce path answers NOT_ENOUGH_REPLICAS_AFTER_APPEND under min.insync.replicas=2.
        let state = ReplicationState(brokerId: 1, checkpointedHighWatermarks: [:])
        await state.leaderUpdate(self.partition, leaderEpoch: 0, isr: [1, 2], logEndOffset: 5, logStartOffset: 0, nowMs: 0)
        async let wait = state.waitForHighWatermark(self.partition, atLeast: 5, timeout: .seconds(30))
        await state.leaderUpdate(self.partition, leaderEpoch: 0, isr: [1], logEndOffset: 5, logStartOffset: 0, nowMs: 1)
        #expect(await wait == .replicated(isrSize: 1))
    }

    @Test func losingTheLeadershipEndsTheWaitAtOnceAndKeepsTheHighWatermark() async {
        let state = ReplicationState(brokerId: 1, checkpointedHighWatermarks: [:])
        await state.leaderUpdate(self.partition, leaderEpoch: 3, isr: [1, 2], logEndOffset: 7, logStartOffset: 0, nowMs: 0)
        let other = TopicPartition("t", 1)
        await state.leaderUpdate(other, leaderEpoch: 3, isr: [1], logEndOffset: 4, logStartOffset: 0, nowMs: 0)
        let started = ContinuousClock.now
        async let wait = state.waitForHighWatermark(self.partition, atLeast: 7, timeout: .seconds(30))
        // Let the wait register before the leadership goes (a wait that starts later also sees notLeader).
        while await !state.hasWaiters(self.partition) { await Task.yield() }
        await state.stopLeading(allBut: [other])
        #expect(await wait == .notLeader)
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(await state.allHighWatermarks() == [self.partition: 0, other: 4])
        #expect(await state.highWatermark(other) == 4)
    }

    @Test func aWaitThatNobodyAnswersTimesOut() async {
        let state = ReplicationState(brokerId: 1, checkpointedHighWatermarks: [:])
        await state.leaderUpdate(self.partition, leaderEpoch: 0, isr: [1, 2], logEndOffset: 3, logStartOffset: 0, nowMs: 0)
        #expect(await state.waitForHighWatermark(self.partition, atLeast: 3, timeout: .milliseconds(50)) == .timedOut)
    }
}

import Testing
@testable import ZooKeeper

@Suite struct RepeatSuppressorTests {
    @Test func saysALineOncePerWindowAndCountsTheRepeats() {
        let suppressor = RepeatSuppressor(window: 10)
        let start = ContinuousClock.now
        #expect(suppressor.admit("refused", now: start) == 0)
        #expect(suppressor.admit("refused", now: start + .milliseconds(100)) == nil)
        #expect(suppressor.admit("refused", now: start + .seconds(9)) == nil)
        #expect(suppressor.admit("another line", now: start + .seconds(9)) == 0)
        #expect(suppressor.admit("refused", now: start + .seconds(10)) == 2)
        #expect(suppressor.admit("refused", now: start + .seconds(21)) == 0)
    }
}

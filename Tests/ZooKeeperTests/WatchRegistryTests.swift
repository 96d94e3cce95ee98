import Testing
@testable import ZooKeeper

@Suite struct WatchRegistryTests {
    @Test func eventsFireTheWatchKindsZooKeeperFires() {
        #expect(WatchKind.triggered(by: .nodeCreated) == [.data, .exists])
        #expect(WatchKind.triggered(by: .nodeDataChanged) == [.data, .exists])
        #expect(WatchKind.triggered(by: .nodeChildrenChanged) == [.children])
        #expect(WatchKind.triggered(by: .nodeDeleted) == [.data, .exists, .children])
    }

    @Test func dispatchFiresMatchingRegistrationsOnce() async throws {
        let registry = WatchRegistry()
        let data = registry.register(path: "/a", kind: .data)
        let children = registry.register(path: "/a", kind: .children)
        let other = registry.register(path: "/b", kind: .data)
        registry.dispatch(WatchEvent(kind: .nodeDataChanged, path: "/a"))
        #expect(try await data.event() == WatchEvent(kind: .nodeDataChanged, path: "/a"))
        #expect(data.trigger.result != nil)
        #expect(children.trigger.result == nil)
        #expect(other.trigger.result == nil)
        #expect(registry.count == 2)
        // The data registration is gone: a second change reaches only what is still registered.
        registry.dispatch(WatchEvent(kind: .nodeDeleted, path: "/a"))
        #expect(try await children.event() == WatchEvent(kind: .nodeDeleted, path: "/a"))
        #expect(registry.count == 1)
    }

    @Test func failAllFailsPendingAndLaterRegistrations() async {
        let registry = WatchRegistry()
        let pending = registry.register(path: "/a", kind: .exists)
        registry.failAll(ZooKeeperError(.sessionExpired))
        let late = registry.register(path: "/a", kind: .data)
        for watch in [pending, late] {
            await #expect(throws: ZooKeeperError(.sessionExpired)) { try await watch.event() }
        }
        #expect(registry.count == 0)
    }
}

@Suite struct OneShotTests {
    @Test func completesOnceForEveryWaiter() async throws {
        let shot = OneShot<Int>()
        async let first = shot.value()
        async let second = shot.value()
        #expect(shot.complete(.success(1)))
        #expect(!shot.complete(.success(2)))
        #expect(try await first == 1)
        #expect(try await second == 1)
        #expect(try await shot.value() == 1)
    }

    @Test func cancelledWaiterStopsWaitingAndOthersStillGetTheValue() async throws {
        let shot = OneShot<Int>()
        let cancelled = Task { try await shot.value() }
        let patient = Task { try await shot.value() }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        shot.complete(.success(7))
        #expect(try await patient.value == 7)
    }

    @Test func deliversFailures() async {
        let shot = OneShot<Int>()
        shot.complete(.failure(ZooKeeperError(.closed)))
        await #expect(throws: ZooKeeperError(.closed)) { try await shot.value() }
    }
}

@Suite struct SessionEventBroadcasterTests {
    @Test func everySubscriberSeesEveryEventThenClosed() async {
        let broadcaster = SessionEventBroadcaster()
        let first = broadcaster.subscribe()
        let second = broadcaster.subscribe()
        broadcaster.emit(.connected(sessionID: 5))
        broadcaster.emit(.disconnected)
        broadcaster.finish()
        for stream in [first, second] {
            var events: [SessionEvent] = []
            for await event in stream { events.append(event) }
            #expect(events == [.connected(sessionID: 5), .disconnected, .closed])
        }
        var late: [SessionEvent] = []
        for await event in broadcaster.subscribe() { late.append(event) }
        #expect(late == [.closed])
    }
}

@Suite struct WatchRegistrySharingTests {
    @Test func registrationsOfOneNodeAndKindShareATriggerSoAbandonedOnesDoNotAccumulate() async throws {
        let registry = WatchRegistry()
        for _ in 0..<1000 { _ = registry.register(path: "/quiet", kind: .data) }
        #expect(registry.count == 1)
        let kept = registry.register(path: "/quiet", kind: .data)
        registry.dispatch(WatchEvent(kind: .nodeDataChanged, path: "/quiet"))
        #expect(try await kept.event() == WatchEvent(kind: .nodeDataChanged, path: "/quiet"))
        #expect(registry.count == 0)
    }
}

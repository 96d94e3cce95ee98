import Testing
@testable import ZooKeeper
import FerryTestKit

/// Behaviour of the client against the real 3-node ensemble. Serialized: two of these tests kill a ZooKeeper
/// server or a session, and the others should not see that as noise.
@Suite(.serialized, .enabled(if: TestEnsemble.isAvailable, "needs ZK_CONNECT; scripts/test.sh starts an ensemble"))
struct ZooKeeperClientTests {
    @Test func createsReadsUpdatesAndDeletesUnderAChroot() async throws {
        try await EnsembleAccess.shared.shared {
            let root = try await TestEnsemble.client()
            let base = try await scratchPath(root)
            let client = try await TestEnsemble.client(chroot: base)

            #expect(try await client.create("/plain", data: Array("v0".utf8)) == "/plain")
            let sequential = try await client.create("/plain/item-", mode: .persistentSequential)
            #expect(sequential == "/plain/item-0000000000")
            #expect(try await client.children("/plain") == ["item-0000000000"])

            // The chroot is transparent to the chrooted client and real for everyone else (after a sync: the two
            // clients may read from different servers).
            try await root.sync(base + "/plain")
            #expect(try await root.get(base + "/plain").string == "v0")
            let stat = try await client.set("/plain", data: Array("v1".utf8))
            #expect(stat.version == 1)
            #expect(try await client.get("/plain") == NodeData(data: Array("v1".utf8), stat: stat))

            await #expect(throws: ZooKeeperError(.nodeExists, path: "/plain", operation: "create")) {
                try await client.create("/plain")
            }
            await #expect(throws: ZooKeeperError(.notEmpty, path: "/plain", operation: "delete")) {
                try await client.delete("/plain")
            }
            try await client.deleteRecursively("/plain")
            #expect(try await client.exists("/plain") == nil)
            await #expect(throws: ZooKeeperError(.noNode, path: "/plain", operation: "getData")) {
                try await client.get("/plain")
            }
            await #expect(throws: ZooKeeperError.self) { try await client.get("no-slash") }

            // Watch events and multi results come back with the chroot stripped, like every other path.
            let (_, watch) = try await client.existsAndWatch("/watched")
            let results = try await client.multi([.create(path: "/watched", data: [], mode: .persistent)])
            #expect(results == [.created(path: "/watched")])
            #expect(try await watch.event() == WatchEvent(kind: .nodeCreated, path: "/watched"))
            try await client.delete("/watched")

            await client.close()
            try await root.deleteRecursively(base)
            await root.close()
        }
    }

    @Test func ephemeralNodeIsGoneWhenItsSessionCloses() async throws {
        try await EnsembleAccess.shared.shared {
            let observer = try await TestEnsemble.client()
            let base = try await scratchPath(observer)
            let owner = try await TestEnsemble.client()
            try await owner.create(base + "/alive", data: Array("1".utf8), mode: .ephemeral)

            try await observer.sync(base)
            let (stat, watch) = try await observer.existsAndWatch(base + "/alive")
            #expect(stat?.ephemeralOwner == owner.sessionID)
            await #expect(throws: ZooKeeperError(.noChildrenForEphemerals, path: base + "/alive/child", operation: "create")) {
                try await owner.create(base + "/alive/child")
            }

            await owner.close()
            #expect(try await watch.event() == WatchEvent(kind: .nodeDeleted, path: base + "/alive"))
            #expect(try await observer.exists(base + "/alive") == nil)
            await #expect(throws: ZooKeeperError(.closed)) { try await owner.exists(base) }

            try await observer.deleteRecursively(base)
            await observer.close()
        }
    }

    @Test func aWatchFiresOncePerRegistration() async throws {
        try await EnsembleAccess.shared.shared {
            let client = try await TestEnsemble.client()
            let base = try await scratchPath(client)
            let node = base + "/watched"

            // exists-watch on an absent node fires on creation; a child watch on the parent fires too.
            let (absent, creation) = try await client.existsAndWatch(node)
            let (_, _, childList) = try await client.childrenAndWatch(base)
            #expect(absent == nil)
            try await client.create(node, data: Array("0".utf8))
            #expect(try await creation.event() == WatchEvent(kind: .nodeCreated, path: node))
            #expect(try await childList.event() == WatchEvent(kind: .nodeChildrenChanged, path: base))

            // Two changes, one event: the watch is spent after the first.
            let (_, first) = try await client.getAndWatch(node)
            try await client.set(node, data: Array("1".utf8))
            try await client.set(node, data: Array("2".utf8))
            #expect(try await first.event() == WatchEvent(kind: .nodeDataChanged, path: node))

            // Re-arming reads the latest data; both earlier changes were delivered before this read completed,
            // so the new watch has not fired and waits for the next change.
            let (latest, second) = try await client.getAndWatch(node)
            #expect(latest.string == "2")
            #expect(second.trigger.result == nil)
            let (_, _, childrenOfNode) = try await client.childrenAndWatch(node)
            try await client.delete(node)
            #expect(try await second.event() == WatchEvent(kind: .nodeDeleted, path: node))
            #expect(try await childrenOfNode.event() == WatchEvent(kind: .nodeDeleted, path: node))

            try await client.deleteRecursively(base)
            await client.close()
        }
    }

    @Test func followSeesEveryLaterChangeInOrder() async throws {
        try await EnsembleAccess.shared.shared {
            let client = try await TestEnsemble.client()
            let base = try await scratchPath(client)
            let node = base + "/followed"
            let values = Recorder(client.follow(node: node).map { $0?.string })
            let children = Recorder(client.follow(children: base))

            try await values.waitForLast(nil)
            try await children.waitForLast([])
            try await client.create(node, data: Array("0".utf8))
            try await values.waitForLast("0")
            try await children.waitForLast(["followed"])
            for index in 1...10 {
                try await client.set(node, data: Array("\(index)".utf8))
                try await values.waitForLast("\(index)")
                try await client.create(base + "/child-\(index)")
                try await children.waitForLast((["followed"] + (1...index).map { "child-\($0)" }).sorted())
            }
            try await client.delete(node)
            try await values.waitForLast(nil)
            #expect(values.values == [nil] + (0...10).map { "\($0)" } + [nil])
            #expect(children.values.count == 13)  // [], [followed], ten additions, the deletion

            // A burst faster than re-arming: the follower may skip intermediate values but yields only real
            // states, in order, and always the last one.
            try await client.create(node, data: Array("burst-0".utf8))
            for index in 1...30 { try await client.set(node, data: Array("burst-\(index)".utf8)) }
            try await values.waitForLast("burst-30")
            let burst = values.values.compactMap { $0 }.filter { $0.hasPrefix("burst-") }.map { Int($0.dropFirst(6))! }
            #expect(burst == burst.sorted() && Set(burst).count == burst.count)

            values.stop()
            children.stop()
            try await client.deleteRecursively(base)
            await client.close()
        }
    }

    @Test func staleVersionGivesBadVersion() async throws {
        try await EnsembleAccess.shared.shared {
            let client = try await TestEnsemble.client()
            let base = try await scratchPath(client)
            let node = base + "/cas"
            try await client.create(node, data: Array("a".utf8))
            let updated = try await client.set(node, data: Array("b".utf8), version: 0)
            #expect(updated.version == 1)
            await #expect(throws: ZooKeeperError(.badVersion, path: node, operation: "setData")) {
                try await client.set(node, data: Array("c".utf8), version: 0)
            }
            await #expect(throws: ZooKeeperError(.badVersion, path: node, operation: "delete")) {
                try await client.delete(node, version: 0)
            }
            #expect(try await client.get(node).string == "b")
            try await client.delete(node, version: 1)
            try await client.deleteRecursively(base)
            await client.close()
        }
    }

    @Test func multiWithOneFailingOperationChangesNothing() async throws {
        try await EnsembleAccess.shared.shared {
            let client = try await TestEnsemble.client()
            let base = try await scratchPath(client)
            try await client.create(base + "/existing", data: Array("old".utf8))

            do {
                _ = try await client.multi([
                    .create(path: base + "/new", data: [], mode: .persistent),
                    .setData(path: base + "/existing", data: Array("new".utf8), version: -1),
                    .create(path: base + "/existing", data: [], mode: .persistent),
                ])
                Issue.record("the multi should have failed")
            } catch let error as ZooKeeperError {
                #expect(error.code == .nodeExists)
                #expect(error.failedOperationIndex == 2)
                #expect(error.path == base + "/existing")
            }
            #expect(try await client.exists(base + "/new") == nil)
            #expect(try await client.get(base + "/existing").string == "old")

            let results = try await client.multi([
                .check(path: base + "/existing", version: 0),
                .create(path: base + "/seq-", data: [], mode: .persistentSequential),
                .setData(path: base + "/existing", data: Array("new".utf8), version: 0),
                .delete(path: base + "/seq-0000000001", version: -1),
            ])
            #expect(results.count == 4)
            #expect(results[0] == .checked)
            #expect(results[1] == .created(path: base + "/seq-0000000001"))
            if case .dataSet(let stat) = results[2] { #expect(stat.version == 1) } else { Issue.record("\(results[2])") }
            #expect(results[3] == .deleted)
            #expect(try await client.get(base + "/existing").string == "new")

            try await client.deleteRecursively(base)
            await client.close()
        }
    }

    @Test func keepsWorkingWhenItsServerIsKilled() async throws {
        try await EnsembleAccess.shared.exclusive {
            let client = try await TestEnsemble.client(sessionTimeout: .seconds(15))
            let events = Recorder(client.sessionEvents())
            let base = try await scratchPath(client)
            try await client.create(base + "/mine", mode: .ephemeral)
            let sessionID = try #require(client.sessionID)
            let server = try #require(client.currentServer)
            let killed = try TestEnsemble.nodeID(serving: server)

            try TestEnsemble.script("kill", "\(killed)")
            do {
                // Requests made while the client moves to another server wait for it rather than fail.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<20 {
                        group.addTask { try await client.set(base, data: Array("after-\(index)".utf8)) }
                        group.addTask { _ = try await client.get(base) }
                    }
                    try await group.waitForAll()
                }
                #expect(client.sessionID == sessionID)
                #expect(client.currentServer != server)
                #expect(try await client.exists(base + "/mine")?.ephemeralOwner == sessionID)
                #expect(events.values.contains(.disconnected))
                try await eventually("the client reports the reconnect") {
                    events.values.last == .connected(sessionID: sessionID)
                }
            } catch {
                try TestEnsemble.script("start", "\(killed)")
                throw error
            }
            try TestEnsemble.script("start", "\(killed)")
            events.stop()
            try await client.deleteRecursively(base)
            await client.close()
        }
    }

    @Test func closingWithRequestsInFlightSettlesEveryRequest() async throws {
        try await EnsembleAccess.shared.shared {
            let client = try await TestEnsemble.client()
            let base = try await scratchPath(client)
            try await client.create(base + "/n", data: Array("x".utf8))
            // Hundreds of requests race the close; each must finish (value or error), none may hang or leak.
            let outcomes = try await withDeadline(.seconds(30)) {
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<400 {
                        group.addTask {
                            do {
                                if index % 2 == 0 { _ = try await client.get(base + "/n") } else { _ = try await client.exists(base) }
                                return true
                            } catch let error as ZooKeeperError {
                                #expect([.closing, .closed, .connectionLoss].contains(error.code), "\(error)")
                                return false
                            }
                        }
                        if index == 200 { group.addTask { await client.close(); return true } }
                    }
                    return try await group.reduce(into: 0) { count, _ in count += 1 }
                }
            }
            #expect(outcomes == 401)
            let cleaner = try await TestEnsemble.client()
            try await cleaner.sync(base)
            try await cleaner.deleteRecursively(base)
            await cleaner.close()
        }
    }

    @Test func requestsRacingAnExpiryAllFinish() async throws {
        try await EnsembleAccess.shared.shared {
            let client = try await TestEnsemble.client()
            let base = try await scratchPath(client)
            let credentials = try #require(client.sessionCredentials)
            let finished = try await withDeadline(.seconds(30)) {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    group.addTask {
                        try await TestEnsemble.expireSession(credentials)
                        return 0
                    }
                    for worker in 0..<4 {
                        group.addTask {
                            var done = 0
                            for index in 0..<50 {
                                do {
                                    try await client.set(base, data: Array("\(worker)-\(index)".utf8))
                                } catch let error as ZooKeeperError {
                                    #expect([.sessionExpired, .connectionLoss, .closing].contains(error.code), "\(error)")
                                }
                                done += 1
                            }
                            return done
                        }
                    }
                    return try await group.reduce(0, +)
                }
            }
            #expect(finished == 200)
            // The client ends up on a new session that works.
            try await eventually("the replacement session serves requests") {
                (try? await client.set(base, data: Array("after".utf8))) != nil
            }
            #expect(client.sessionID != credentials.sessionID)
            try await client.deleteRecursively(base)
            await client.close()
        }
    }

    @Test func expiredSessionIsReportedAndReplaced() async throws {
        try await EnsembleAccess.shared.shared {
            let client = try await TestEnsemble.client()
            let events = Recorder(client.sessionEvents())
            let base = try await scratchPath(client)
            let ephemeral = base + "/registration"
            try await client.create(ephemeral, data: Array("first".utf8), mode: .ephemeral)
            let followed = Recorder(client.follow(node: ephemeral).map { $0?.string })
            try await followed.waitForLast("first")
            let (_, pendingWatch) = try await client.getAndWatch(base)
            let oldSession = try #require(client.sessionCredentials)

            try await TestEnsemble.expireSession(oldSession)

            try await eventually("the client reports expiry and a new session") {
                events.values.contains(.expired(sessionID: oldSession.sessionID))
                    && events.values.contains { if case .newSession = $0 { true } else { false } }
            }
            guard case .newSession(let newID) = events.values.last(where: { if case .newSession = $0 { true } else { false } })
            else { return }
            #expect(newID != oldSession.sessionID)
            #expect(client.sessionID == newID)
            // Watches of the old session fail; its ephemeral node is gone; the new session can re-create it.
            await #expect(throws: ZooKeeperError.self) { try await pendingWatch.event() }
            #expect(try await client.exists(ephemeral) == nil)
            try await client.create(ephemeral, data: Array("second".utf8), mode: .ephemeral)
            #expect(try await client.exists(ephemeral)?.ephemeralOwner == newID)
            // The follower carried on across the expiry.
            try await followed.waitForLast("second")

            followed.stop()
            events.stop()
            try await client.deleteRecursively(base)
            await client.close()
        }
    }
}

/// Connecting where no ZooKeeper listens: needs no ensemble, only the C client.
@Suite struct ZooKeeperConnectFailureTests {
    @Test func connectGivesUpAfterTheConnectionTimeout() async throws {
        try await EnsembleAccess.shared.shared {
            let started = ContinuousClock.now
            let configuration = ZooKeeperClient.Configuration(
                connectString: try ConnectString(parsing: "127.0.0.1:1,127.0.0.1:2"),
                sessionTimeout: .seconds(6),
                connectionTimeout: .milliseconds(500)
            )
            await #expect(throws: ZooKeeperError(.connectionTimeout, path: "127.0.0.1:1,127.0.0.1:2", operation: "connect")) {
                try await ZooKeeperClient.connect(configuration)
            }
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }
}

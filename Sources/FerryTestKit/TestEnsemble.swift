// FerryTestKit: helpers for tests that use the real ZooKeeper ensemble scripts/test.sh starts. Linked by test
// targets only.
import CZooKeeper
import Foundation
import Synchronization
import ZooKeeper

/// The real ZooKeeper ensemble `scripts/test.sh` starts for the tests, described by environment variables:
/// `ZK_CONNECT` (all client addresses) and `ZK_ENSEMBLE_CONF_DIR` (the zoo<N>.cfg files the ensemble script
/// was started with, so a test can kill and restart one node).
public enum TestEnsemble {
    public static var connect: String? { ProcessInfo.processInfo.environment["ZK_CONNECT"] }
    public static var confDir: String? { ProcessInfo.processInfo.environment["ZK_ENSEMBLE_CONF_DIR"] }
    public static var isAvailable: Bool { connect != nil }

    /// The repository: `FERRY_ROOT` (exported by the scripts), else found from this file's place in it.
    public static let repositoryRoot: URL = {
        if let root = ProcessInfo.processInfo.environment["FERRY_ROOT"] { return URL(fileURLWithPath: root) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()

    /// Runs `scripts/zk-ensemble.sh --conf-dir <test conf> <arguments>` and fails the test if it fails.
    public static func script(_ arguments: String...) throws {
        let confDir = try require(self.confDir, "ZK_ENSEMBLE_CONF_DIR is not set")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [self.repositoryRoot.appendingPathComponent("scripts/zk-ensemble.sh").path, "--conf-dir", confDir]
            + arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestKitError("zk-ensemble.sh \(arguments) exited \(process.terminationStatus)") }
    }

    /// The node id whose `clientPort` is the port of `hostPort` (`127.0.0.1:12182` → 2).
    public static func nodeID(serving hostPort: String) throws -> Int {
        let confDir = try require(self.confDir, "ZK_ENSEMBLE_CONF_DIR is not set")
        let port = try require(hostPort.split(separator: ":").last.map(String.init), "no port in \(hostPort)")
        for file in try FileManager.default.contentsOfDirectory(atPath: confDir) where file.hasPrefix("zoo") {
            let text = try String(contentsOfFile: confDir + "/" + file, encoding: .utf8)
            if text.split(separator: "\n").contains(where: { $0.trimmingCharacters(in: .whitespaces) == "clientPort=\(port)" }) {
                return try require(Int(file.dropFirst(3).dropLast(4)), "bad config name \(file)")
            }
        }
        throw TestKitError("no node serves \(hostPort)")
    }

    /// A connected client with a short session timeout, so failure tests finish quickly.
    public static func client(chroot: String = "", sessionTimeout: Duration = .seconds(8)) async throws -> ZooKeeperClient {
        let connect = try require(self.connect, "ZK_CONNECT is not set")
        return try await ZooKeeperClient.connect(connect + chroot, sessionTimeout: sessionTimeout)
    }

    /// Ends `credentials`' session from outside, as a server-side expiry would: attaches a second C handle to
    /// the same session and closes it. The original client then learns on reconnect that its session expired.
    ///
    /// The original client may reconnect between the attach and the close and take the session back; the
    /// second handle's close then never reaches the server and the session lives on. So this attaches again
    /// until the server itself answers that the session is gone.
    public static func expireSession(_ credentials: SessionCredentials) async throws {
        let connect = try require(self.connect, "ZK_CONNECT is not set")
        var id = clientid_t()
        id.client_id = credentials.sessionID
        withUnsafeMutableBytes(of: &id.passwd) { $0.copyBytes(from: credentials.password.prefix(16)) }
        let noWatcher: watcher_fn = { _, _, _, _, _ in }
        for _ in 0..<20 {
            let raw = try require(zookeeper_init(connect, noWatcher, 8000, &id, nil, 0), "zookeeper_init failed")
            let handle = UncheckedHandle(raw: raw)
            try await eventually("a second handle attaches to session \(credentials.sessionID) or finds it expired") {
                let state = zoo_state(handle.raw)
                return state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_CONNECTED_STATE
            }
            // Expiry is final, so this reads what ended the wait.
            let expired = zoo_state(handle.raw) == ZOO_EXPIRED_SESSION_STATE
            zookeeper_close(handle.raw)
            if expired { return }
        }
        throw TestKitError("session \(credentials.sessionID) still alive after 20 attempts to end it")
    }
}

/// A raw handle shared with the polling closure; only `zoo_state` (thread-safe) is called on it.
private struct UncheckedHandle: @unchecked Sendable {
    let raw: OpaquePointer
}

/// A test-kit failure with a message.
public struct TestKitError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

func require<T>(_ value: T?, _ message: String) throws -> T {
    guard let value else { throw TestKitError(message) }
    return value
}

public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public var description: String { "timed out waiting until \(self.what)" }
}

/// Waits until `condition` holds, checking every 20 ms, or fails after `timeout`.
public func eventually(
    _ what: String,
    timeout: Duration = .seconds(30),
    _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Collects what an async sequence yields, so a test can wait for a given value with a deadline.
public final class Recorder<Element: Sendable & Equatable>: Sendable {
    private final class Storage: Sendable {
        let state = Mutex<(values: [Element], error: (any Error)?)>(([], nil))
    }

    private let storage = Storage()
    private let task: Task<Void, Never>

    public init<S: AsyncSequence & Sendable>(_ sequence: S) where S.Element == Element {
        let storage = self.storage
        self.task = Task {
            do {
                for try await value in sequence { storage.state.withLock { $0.values.append(value) } }
            } catch {
                storage.state.withLock { $0.error = error }
            }
        }
    }

    public var values: [Element] { self.storage.state.withLock { $0.values } }

    /// Waits until the last recorded value is `expected`.
    public func waitForLast(_ expected: Element, timeout: Duration = .seconds(30)) async throws {
        try await eventually("the stream yields \(expected)", timeout: timeout) {
            if let error = self.storage.state.withLock({ $0.error }) { throw error }
            return self.values.last == expected
        }
    }

    public func stop() { self.task.cancel() }
}

/// A unique scratch path for one test, created (with parents) on `client`.
public func scratchPath(_ client: ZooKeeperClient, _ name: String = #function) async throws -> String {
    let path = "/ferry-tests/\(name.prefix { $0 != "(" })-\(UInt32.random(in: 0...UInt32.max))"
    try await client.createRecursively(path)
    return path
}

/// Orders tests that disrupt the shared ensemble (killing a server) against all other tests that use it, across
/// suites: `.serialized` orders tests within one suite only. Disruptive tests take the lock exclusively, the rest
/// share it.
public actor EnsembleAccess {
    public static let shared = EnsembleAccess()

    private var readers = 0
    private var writer = false
    private var waiting: [(exclusive: Bool, continuation: CheckedContinuation<Void, Never>)] = []

    /// Runs `body` while no disruptive test runs.
    public func shared<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await self.acquire(exclusive: false)
        defer { self.release(exclusive: false) }
        return try await body()
    }

    /// Runs `body` while no other test uses the ensemble.
    public func exclusive<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await self.acquire(exclusive: true)
        defer { self.release(exclusive: true) }
        return try await body()
    }

    private func acquire(exclusive: Bool) async {
        if self.canEnter(exclusive: exclusive) && self.waiting.isEmpty {
            self.enter(exclusive: exclusive)
            return
        }
        await withCheckedContinuation { self.waiting.append((exclusive, $0)) }
    }

    private func canEnter(exclusive: Bool) -> Bool { exclusive ? !self.writer && self.readers == 0 : !self.writer }

    private func enter(exclusive: Bool) {
        if exclusive { self.writer = true } else { self.readers += 1 }
    }

    private func release(exclusive: Bool) {
        if exclusive { self.writer = false } else { self.readers -= 1 }
        while let next = self.waiting.first, self.canEnter(exclusive: next.exclusive) {
            self.waiting.removeFirst()
            self.enter(exclusive: next.exclusive)
            next.continuation.resume()
        }
    }
}

import ArgumentParser
import Foundation
import ZooKeeper

/// `zookeeper-shell.sh host:port[/chroot] [command args...]`: Kafka's wrapper around ZooKeeper's shell, for
/// looking at and repairing the znodes a cluster keeps. With a command it runs that one command; without,
/// it reads one command per line from standard input.
///
/// Commands (ZooKeeper's `zkCli` spelling): `ls [-s] path`, `get [-s] path`, `stat path`,
/// `create [-e] [-s] path [data]`, `set [-v version] path data`, `delete [-v version] path`,
/// `deleteall path` (alias `rmr`). Output follows zkCli: `ls` prints `[a, b]`, `get` the data, `stat` the
/// `cZxid = 0x...` lines, `create` `Created /path`.
struct ZooKeeperShellCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zookeeper-shell",
        abstract: "Run ZooKeeper shell commands against the ensemble (zookeeper-shell.sh).",
        discussion: "Commands: ls [-s] path | get [-s] path | stat path | create [-e] [-s] path [data] | "
            + "set [-v version] path data | delete [-v version] path | deleteall path"
    )

    @Argument(help: "ZooKeeper connect string: host:port[,host:port...][/chroot].")
    var server: String

    @Argument(parsing: .captureForPassthrough, help: "A command and its arguments; none reads commands from stdin.")
    var command: [String] = []

    @Option(name: .customLong("zk-session-timeout-ms"), help: "Session timeout in milliseconds.")
    var sessionTimeoutMs: Int = 30_000

    func run() async throws {
        let connectString: ConnectString
        do {
            connectString = try ConnectString(parsing: self.server)
        } catch {
            throw ValidationError(error.description)
        }
        print("Connecting to \(self.server)")
        let client: ZooKeeperClient
        do {
            client = try await ZooKeeperClient.connect(
                .init(connectString: connectString, sessionTimeout: .milliseconds(self.sessionTimeoutMs)))
        } catch {
            FileHandle.standardError.write(Data("Unable to connect to \(self.server): \(error)\n".utf8))
            throw ExitCode(1)
        }
        var failed = false
        if self.command.isEmpty {
            while let line = readLine() {
                let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
                if words.isEmpty { continue }
                if ["quit", "exit"].contains(words[0]) { break }
                failed = await Self.execute(words, on: client) == false || failed
            }
        } else {
            failed = await Self.execute(self.command, on: client) == false
        }
        await client.close()
        if failed { throw ExitCode(1) }
    }

    /// Runs one shell command and prints its result; problems go to stderr.
    /// - Returns: whether the command succeeded.
    static func execute(_ words: [String], on client: ZooKeeperClient) async -> Bool {
        var arguments = Array(words.dropFirst())
        let name = words[0]
        func flag(_ flag: String) -> Bool {
            guard let index = arguments.firstIndex(of: flag) else { return false }
            arguments.remove(at: index)
            return true
        }
        func option(_ option: String) -> String? {
            guard let index = arguments.firstIndex(of: option), index + 1 < arguments.count else { return nil }
            let value = arguments[index + 1]
            arguments.removeSubrange(index...(index + 1))
            return value
        }
        do {
            switch name {
            case "ls":
                let withStat = flag("-s")
                guard let path = arguments.first else { return usage("ls [-s] path") }
                let children = try await client.children(path)
                print("[" + children.sorted().joined(separator: ", ") + "]")
                if withStat, let stat = try await client.exists(path) { print(Self.format(stat)) }
            case "get":
                let withStat = flag("-s")
                guard let path = arguments.first else { return usage("get [-s] path") }
                let node = try await client.get(path)
                print(node.data.isEmpty ? "null" : node.string)
                if withStat { print(Self.format(node.stat)) }
            case "stat":
                guard let path = arguments.first else { return usage("stat path") }
                guard let stat = try await client.exists(path) else {
                    throw ZooKeeperError(.noNode, path: path, operation: "stat")
                }
                print(Self.format(stat))
            case "create":
                let ephemeral = flag("-e")
                let sequential = flag("-s")
                guard let path = arguments.first else { return usage("create [-e] [-s] path [data]") }
                let data = Array(arguments.dropFirst().joined(separator: " ").utf8)
                let mode: CreateMode =
                    switch (ephemeral, sequential) {
                    case (true, true): .ephemeralSequential
                    case (true, false): .ephemeral
                    case (false, true): .persistentSequential
                    case (false, false): .persistent
                    }
                print("Created " + (try await client.create(path, data: data, mode: mode)))
            case "set":
                let version = option("-v").flatMap { Int32($0) } ?? -1
                guard arguments.count >= 2 else { return usage("set [-v version] path data") }
                try await client.set(arguments[0], data: Array(arguments.dropFirst().joined(separator: " ").utf8), version: version)
            case "delete":
                let version = option("-v").flatMap { Int32($0) } ?? -1
                guard let path = arguments.first else { return usage("delete [-v version] path") }
                try await client.delete(path, version: version)
            case "deleteall", "rmr":
                guard let path = arguments.first else { return usage("deleteall path") }
                try await client.deleteRecursively(path)
            default:
                FileHandle.standardError.write(Data("Unknown command: \(name)\n".utf8))
                return false
            }
            return true
        } catch let error as ZooKeeperError {
            FileHandle.standardError.write(Data((Self.message(for: error) + "\n").utf8))
            return false
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return false
        }
    }

    private static func usage(_ text: String) -> Bool {
        FileHandle.standardError.write(Data("Usage: \(text)\n".utf8))
        return false
    }

    /// zkCli's wording for the common failures.
    static func message(for error: ZooKeeperError) -> String {
        let path = error.path ?? ""
        switch error.code {
        case .noNode: return "Node does not exist: \(path)"
        case .nodeExists: return "Node already exists: \(path)"
        case .notEmpty: return "Node not empty: \(path)"
        case .badVersion: return "version No is not valid : \(path)"
        case .noChildrenForEphemerals: return "Ephemerals cannot have children: \(path)"
        default: return error.description
        }
    }

    /// A stat the way zkCli prints it.
    static func format(_ stat: Stat) -> String {
        func hex(_ value: Int64) -> String { "0x" + String(UInt64(bitPattern: value), radix: 16) }
        func time(_ millis: Int64) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "EEE MMM dd HH:mm:ss zzz yyyy"
            return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
        }
        return [
            "cZxid = \(hex(stat.czxid))", "ctime = \(time(stat.ctime))", "mZxid = \(hex(stat.mzxid))",
            "mtime = \(time(stat.mtime))", "pZxid = \(hex(stat.pzxid))", "cversion = \(stat.cversion)",
            "dataVersion = \(stat.version)", "aclVersion = \(stat.aversion)",
            "ephemeralOwner = \(hex(stat.ephemeralOwner))", "dataLength = \(stat.dataLength)",
            "numChildren = \(stat.numChildren)",
        ].joined(separator: "\n")
    }
}

import ArgumentParser
import Foundation
import KafkaClient
import KafkaModel

/// `ferry top`: a live view of the cluster, refreshed every interval — per topic and partition the leader, ISR, log
/// end offset and produce rate (from the log end's growth), and per consumer group its state, members, lag and consume
/// rate (from the committed offsets' growth). What the seeds' users build by hand with pykafka.
struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Show produce/consume rates, leaders, ISR, log end offsets and group lag, refreshed every second."
    )

    @Option(name: .customLong("bootstrap-server"), help: "The broker(s) to connect to, host:port[,host:port].")
    var bootstrapServer: String

    @Option(help: "Milliseconds between refreshes.")
    var interval: Int = 1_000

    @Option(help: "Stop after this many refreshes (default: until interrupted).")
    var iterations: Int?

    @Flag(name: .customLong("include-internal"), help: "Show internal topics (__consumer_offsets) too.")
    var includeInternal = false

    func validate() throws {
        guard self.interval >= 100 else { throw ValidationError("--interval must be at least 100 ms") }
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1") }
    }

    func run() async throws {
        let cluster: KafkaCluster
        do {
            cluster = try KafkaCluster(bootstrapServers: self.bootstrapServer, clientId: "ferry-top")
        } catch {
            ToolOutput.error("\(error)")
            throw ExitCode(1)
        }
        let admin = KafkaAdmin(cluster: cluster)
        let interactive = isatty(STDOUT_FILENO) == 1
        let stop = StopSignal()
        var previous: TopSnapshot?
        var frame = 0
        while !stop.requested {
            let started = ContinuousClock.now
            do {
                let snapshot = try await TopSnapshot.take(admin, includeInternal: self.includeInternal)
                let text = snapshot.render(since: previous, server: self.bootstrapServer)
                FileHandle.standardOutput.write(Data(((interactive ? "\u{1B}[H\u{1B}[2J" : (frame > 0 ? "\n" : "")) + text).utf8))
                previous = snapshot
            } catch {
                ToolOutput.error("ferry top: \(error)")
            }
            frame += 1
            if let iterations, frame >= iterations { break }
            let elapsed = ContinuousClock.now - started
            if elapsed < .milliseconds(self.interval) { try await Task.sleep(for: .milliseconds(self.interval) - elapsed) }
        }
        await cluster.close()
    }
}

/// One reading of the cluster.
struct TopSnapshot {
    struct Group {
        var listing: KafkaAdmin.GroupListing
        var members: Int
        var committed: [TopicPartition: Int64]
    }

    var taken: ContinuousClock.Instant
    var metadata: ClusterMetadata
    var logEnd: [TopicPartition: Int64]
    var groups: [Group]

    static func take(_ admin: KafkaAdmin, includeInternal: Bool) async throws -> TopSnapshot {
        let metadata = try await admin.describeCluster()
        let partitions = metadata.topics.values.filter { includeInternal || !$0.isInternal }.flatMap { topic in
            topic.partitions.filter { $0.leader >= 0 }.map { TopicPartition(topic.name, $0.id) }
        }
        let ends = partitions.isEmpty ? [:] : try await admin.listOffsets(partitions, timestamp: KafkaAdmin.latest)
        var groups: [Group] = []
        for listing in try await admin.listGroups() where listing.protocolType == "consumer" || listing.protocolType.isEmpty {
            let description = try? await admin.describeGroup(listing.groupId)
            let committed = (try? await admin.groupOffsets(listing.groupId)) ?? [:]
            var current = listing
            if let description { current.state = description.state }
            groups.append(Group(listing: current, members: description?.members.count ?? 0, committed: committed))
        }
        return TopSnapshot(taken: .now, metadata: metadata, logEnd: ends.compactMapValues { $0?.offset }, groups: groups)
    }

    func render(since previous: TopSnapshot?, server: String) -> String {
        let seconds = previous.map { Double((self.taken - $0.taken).components.attoseconds) / 1e18 + Double((self.taken - $0.taken).components.seconds) }
        func rate(_ now: Int64, _ before: Int64?) -> String {
            guard let seconds, seconds > 0, let before else { return "-" }
            return String(format: "%.1f", Double(max(now - before, 0)) / seconds)
        }
        let time = ISO8601DateFormatter().string(from: Date())
        var lines = ["ferry top — \(server)   brokers: \(self.metadata.brokers.keys.sorted().map(String.init).joined(separator: ","))   controller: \(self.metadata.controllerId)   \(time)", ""]
        var table: [[String]] = [["TOPIC", "PARTITION", "LEADER", "ISR", "LOG-END-OFFSET", "PRODUCE/S"]]
        for name in self.metadata.topics.keys.sorted() {
            guard let topic = self.metadata.topics[name] else { continue }
            let partitions = topic.partitions.sorted { $0.id < $1.id }
            let ends = partitions.map { self.logEnd[TopicPartition(name, $0.id)] }
            guard ends.contains(where: { $0 != nil }) else { continue }
            let total = ends.compactMap { $0 }.reduce(0, +)
            let before = previous.map { old in partitions.compactMap { old.logEnd[TopicPartition(name, $0.id)] }.reduce(0, +) }
            table.append([name, "*", "", "", String(total), rate(total, before)])
            for (partition, end) in zip(partitions, ends) {
                let tp = TopicPartition(name, partition.id)
                table.append(["", String(partition.id), partition.leader >= 0 ? String(partition.leader) : "none",
                              partition.isr.map(String.init).joined(separator: ","), end.map(String.init) ?? "-",
                              end.map { rate($0, previous?.logEnd[tp]) } ?? "-"])
            }
        }
        lines += Self.format(table)
        lines.append("")
        var groupTable: [[String]] = [["GROUP", "STATE", "MEMBERS", "TOPIC", "COMMITTED", "LAG", "CONSUME/S"]]
        for group in self.groups {
            let byTopic = Dictionary(grouping: group.committed, by: \.key.topic)
            if byTopic.isEmpty { groupTable.append([group.listing.groupId, group.listing.state, String(group.members), "-", "-", "-", "-"]) }
            for topic in byTopic.keys.sorted() {
                let entries = byTopic[topic]!
                let committed = entries.map(\.value).reduce(0, +)
                let lag = entries.map { entry in self.logEnd[entry.key].map { max($0 - entry.value, 0) } ?? 0 }.reduce(0, +)
                let before = previous?.groups.first { $0.listing.groupId == group.listing.groupId }.map { old in
                    old.committed.filter { $0.key.topic == topic }.map(\.value).reduce(0, +)
                }
                groupTable.append([group.listing.groupId, group.listing.state, String(group.members), topic, String(committed), String(lag), rate(committed, before)])
            }
        }
        lines += Self.format(groupTable)
        return lines.joined(separator: "\n") + "\n"
    }

    /// Columns left-aligned, two spaces apart.
    private static func format(_ rows: [[String]]) -> [String] {
        guard let columns = rows.first?.count else { return [] }
        let widths = (0..<columns).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            var line = ""
            for (column, field) in row.enumerated() {
                line += column == columns - 1 ? field : field + String(repeating: " ", count: widths[column] - field.count + 2)
            }
            return line
        }
    }
}

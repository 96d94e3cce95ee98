import ArgumentParser
import Foundation
import KafkaClient
import KafkaModel

/// `kafka-consumer-groups.sh` (Kafka 2.8's ConsumerGroupCommand): list, describe (offsets and lag, members, state),
/// reset offsets and delete groups, through the admin API. ZooKeeper-balanced groups are described by the brokers like
/// any other (their registered members and owned partitions), so both kinds print alike.
struct ConsumerGroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consumer-groups",
        abstract: "List, describe, reset and delete consumer groups (kafka-consumer-groups.sh).",
        discussion: "Takes Kafka's options, with one dash or two; see --help."
    )

    @Argument(parsing: .captureForPassthrough, help: "Kafka's kafka-consumer-groups.sh options.")
    var arguments: [String] = []

    static let specs: [KafkaOptions.Spec] = [
        .value("bootstrap-server", "String: server to connect to", "REQUIRED: The server(s) to connect to."),
        .value("group", "String: consumer group", "The consumer group we wish to act on."),
        .value("topic", "String: topic", "The topic whose consumer group information should be deleted or topic whose should be included in the reset offset process. In `reset-offsets` case, partitions can be specified using this format: `topic1:0,1,2`, where 0,1,2 are the partition to be included in the process. Reset-offsets also supports multiple topic inputs."),
        .flag("all-topics", "Consider all topics assigned to a group in the `reset-offsets` process."),
        .flag("list", "List all consumer groups."),
        .flag("describe", "Describe consumer group and list offset lag (number of messages not yet processed) related to given group."),
        .flag("all-groups", "Apply to all consumer groups."),
        .flag("delete", "Pass in groups to delete topic partition offsets and ownership information over the entire consumer group. For instance --group g1 --group g2"),
        .flag("reset-offsets", "Reset offsets of consumer group. Supports one consumer group at the time, and instances should be inactive"),
        .flag("dry-run", "Only show results without executing changes on Consumer Groups. Supported operations: reset-offsets."),
        .flag("execute", "Execute operation. Supported operations: reset-offsets."),
        .value("to-offset", "Long: offset", "Reset offsets to a specific offset."),
        .value("to-datetime", "String: datetime", "Reset offsets to offset from datetime. Format: 'YYYY-MM-DDTHH:mm:SS.sss'"),
        .flag("to-earliest", "Reset offsets to earliest offset."),
        .flag("to-latest", "Reset offsets to latest offset."),
        .flag("to-current", "Reset offsets to current offset."),
        .value("shift-by", "Long: number-of-offsets", "Reset offsets shifting current offset by 'n', where 'n' can be positive or negative."),
        .flag("members", "Describe members of the group. This option may be used with '--describe' and '--bootstrap-server' options only."),
        .flag("verbose", "Provide additional information, if any, when describing the group. This option may be used with '--offsets'/'--members'/'--state' and '--bootstrap-server' options only."),
        .flag("offsets", "Describe the group and list all topic partitions in the group along with their offset lag. This is the default sub-action of and may be used with '--describe' and '--bootstrap-server' options only."),
        .optionalValue("state", "String", "When specified with '--describe', includes the state of the group. When specified with '--list', it displays the state of all groups. It can also be used to list groups with specific states."),
        .value("timeout", "Long: timeout (ms)", "The timeout that can be set for some use cases.", default: "5000"),
        .value("command-config", "String: command config property file", "Property file containing configs to be passed to Admin Client and Consumer."),
    ]

    func run() async throws {
        guard let options = try KafkaOptions.parseTool(
            self.arguments, specs: Self.specs,
            about: "This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets.",
            check: Self.check)
        else { return }
        do {
            let cluster = try KafkaCluster(bootstrapServers: options.value("bootstrap-server")!, clientId: "consumer-groups")
            defer { Task { await cluster.close() } }
            let service = ConsumerGroupService(admin: KafkaAdmin(cluster: cluster), options: options)
            try await service.run()
        } catch let failure as ToolFailure {
            print("\nError: \(failure.message)")
            throw ExitCode(1)
        } catch {
            print("\nError: Executing consumer group command failed due to \(error)")
            throw ExitCode(1)
        }
    }

    /// Kafka 2.8's `ConsumerGroupCommandOptions.checkArgs`, the checks a user meets.
    static func check(_ options: KafkaOptions) throws(KafkaOptions.UsageError) {
        _ = try options.require("bootstrap-server")
        let actions = ["list", "describe", "delete", "reset-offsets"].filter(options.has)
        guard actions.count == 1 else {
            throw KafkaOptions.UsageError(message: "Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets")
        }
        let action = actions[0]
        if action == "describe" || action == "delete" || action == "reset-offsets" {
            if options.has("group") == options.has("all-groups") {
                throw KafkaOptions.UsageError(message: "Option [\(action)] takes one of these options: [group], [all-groups]")
            }
        }
        for option in ["members", "offsets"] where options.has(option) && action != "describe" {
            throw KafkaOptions.UsageError(message: "Option [\(option)] can be used only with [describe]")
        }
        if action == "reset-offsets" {
            let scenarios = ["to-offset", "to-datetime", "to-earliest", "to-latest", "to-current", "shift-by"].filter(options.has)
            guard scenarios.count == 1 else {
                throw KafkaOptions.UsageError(message: "Option [reset-offsets] takes exactly one of these options: [to-offset], [to-datetime], [to-earliest], [to-latest], [to-current], [shift-by]")
            }
            if options.has("dry-run") && options.has("execute") {
                throw KafkaOptions.UsageError(message: "Option [reset-offsets] takes at most one of these options: [dry-run], [execute]")
            }
            if !options.has("all-topics") && !options.has("topic") {
                throw KafkaOptions.UsageError(message: "One of the reset scopes should be defined: --all-topics, --topic.")
            }
            _ = try options.integer("to-offset")
            _ = try options.integer("shift-by")
        } else {
            for option in ["to-offset", "to-datetime", "to-earliest", "to-latest", "to-current", "shift-by", "dry-run", "execute", "all-topics"] where options.has(option) {
                throw KafkaOptions.UsageError(message: "Option [\(option)] can be used only with [reset-offsets]")
            }
        }
    }
}

/// The actions, against the admin client.
struct ConsumerGroupService {
    let admin: KafkaAdmin
    let options: KafkaOptions

    func run() async throws {
        if self.options.has("list") {
            try await self.list()
        } else if self.options.has("describe") {
            for group in try await self.groups() { try await self.describe(group) }
        } else if self.options.has("reset-offsets") {
            try await self.resetOffsets()
        } else if self.options.has("delete") {
            try await self.delete()
        }
    }

    private func groups() async throws -> [String] {
        self.options.has("all-groups") ? try await self.admin.listGroups().map(\.groupId) : self.options.all("group")
    }

    private func list() async throws {
        let listings = try await self.admin.listGroups().filter { $0.protocolType == "consumer" || $0.protocolType.isEmpty }
        guard let states = self.options.values["state"]?.last else {
            for listing in listings { print(listing.groupId) }
            return
        }
        let wanted = Set(states.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        let shown = listings.filter { wanted.isEmpty || wanted.contains($0.state.lowercased()) }
        let width = max(15, shown.map(\.groupId.count).max() ?? 0)
        print(Self.pad("GROUP", width) + " STATE")
        for listing in shown { print(Self.pad(listing.groupId, width) + " " + listing.state) }
    }

    /// Kafka's `shouldPrintMemberState`: says why a group prints nothing, and whether it prints.
    private func shouldPrint(_ group: KafkaAdmin.GroupDescription, rows: Int) -> Bool {
        switch group.state {
        case "Dead": print("\nError: Consumer group '\(group.groupId)' does not exist.")
        case "Empty": ToolOutput.error("\nConsumer group '\(group.groupId)' has no active members.")
        case "PreparingRebalance", "CompletingRebalance": ToolOutput.error("\nWarning: Consumer group '\(group.groupId)' is rebalancing.")
        default: break
        }
        return group.state != "Dead" && rows > 0
    }

    private func describe(_ groupId: String) async throws {
        let group = try await self.admin.describeGroup(groupId)
        if self.options.has("members") && !self.options.has("offsets") {
            self.printMembers(group)
        } else if self.options.has("state") && !self.options.has("offsets") {
            self.printState(group)
        } else {
            try await self.printOffsets(group)
        }
    }

    private func printOffsets(_ group: KafkaAdmin.GroupDescription) async throws {
        let committed = group.state == "Dead" ? [:] : try await self.admin.groupOffsets(group.groupId)
        // Members with partitions, the most partitions first, then committed partitions nobody owns.
        var rows: [(partition: TopicPartition, member: KafkaAdmin.GroupMember?)] = []
        for member in group.members.filter({ !$0.assignment.isEmpty }).sorted(by: { $0.assignment.count > $1.assignment.count }) {
            rows += member.assignment.sorted().map { ($0, member) }
        }
        let assigned = Set(rows.map(\.partition))
        rows += committed.keys.filter { !assigned.contains($0) }.sorted().map { ($0, nil) }
        guard self.shouldPrint(group, rows: rows.count) else { return }
        let ends = try await self.admin.listOffsets(rows.map(\.partition), timestamp: KafkaAdmin.latest)
        let table = rows.map { row -> [String] in
            let current = committed[row.partition]
            let end = ends[row.partition]??.offset
            let lag = current.flatMap { current in end.map { String($0 - current) } } ?? "-"
            return [group.groupId, row.partition.topic, String(row.partition.partition), current.map(String.init) ?? "-", end.map(String.init) ?? "-",
                    lag, row.member?.memberId ?? "-", row.member?.host ?? "-", row.member?.clientId ?? "-"]
        }
        let widths = [15, 15, 10, 15, 15, 15, 15, 15, 0].enumerated().map { column, minimum in
            [0, 1, 6, 7].contains(column) ? max(minimum, table.map { $0[column].count }.max() ?? 0) : minimum
        }
        print("\n" + Self.row(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"], widths))
        for line in table { print(Self.row(line, widths)) }
    }

    private func printMembers(_ group: KafkaAdmin.GroupDescription) {
        guard self.shouldPrint(group, rows: group.members.count) else { return }
        let verbose = self.options.has("verbose")
        let withInstance = group.members.contains { !($0.groupInstanceId ?? "").isEmpty }
        let table = group.members.map { member -> [String] in
            var fields = [group.groupId, member.memberId]
            if withInstance { fields.append(member.groupInstanceId ?? "") }
            fields += [member.host, member.clientId, String(member.assignment.count)]
            return fields
        }
        let minimums = withInstance ? [15, 15, 17, 15, 15, 15] : [15, 15, 15, 15, 15]
        let widths = minimums.enumerated().map { column, minimum in
            column == minimums.count - 1 ? minimum : max(minimum, table.map { $0[column].count }.max() ?? 0)
        }
        let header = withInstance ? ["GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS"] : ["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"]
        // Kafka pads the last column too and puts ASSIGNMENT right after it.
        print("\n" + Self.row(header, widths, padLast: true) + (verbose ? "ASSIGNMENT" : ""))
        for (member, fields) in zip(group.members, table) {
            var line = Self.row(fields, widths, padLast: true)
            if verbose {
                let byTopic = Dictionary(grouping: member.assignment, by: \.topic)
                line += byTopic.isEmpty ? "-" : byTopic.map { "\($0.key)(\($0.value.map(\.partition).sorted().map(String.init).joined(separator: ",")))" }.sorted().joined(separator: ", ")
            }
            print(line)
        }
    }

    private func printState(_ group: KafkaAdmin.GroupDescription) {
        guard self.shouldPrint(group, rows: 1) else { return }
        let coordinator = group.coordinator.map { "\($0.address.host):\($0.address.port) (\($0.id))" } ?? ":-1 (-1)"
        let width = max(25, coordinator.count)
        let format = { (fields: [String]) in Self.row(fields, [width, 25, 20, 15, 0]) }
        print("\n" + format(["GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"]))
        print(format([group.groupId, coordinator, group.assignmentStrategy, group.state, String(group.members.count)]))
    }

    private func resetOffsets() async throws {
        if !self.options.has("dry-run") && !self.options.has("execute") {
            ToolOutput.error("WARN: No action will be performed as the --execute option is missing.In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.")
        }
        var planned: [(group: String, offsets: [TopicPartition: Int64])] = []
        for groupId in try await self.groups() {
            let group = try await self.admin.describeGroup(groupId)
            guard group.state == "Empty" || group.state == "Dead" else {
                print("\nError: Assignments can only be reset if the group '\(groupId)' is inactive, but the current state is \(group.state).")
                planned.append((groupId, [:]))
                continue
            }
            let committed = try await self.admin.groupOffsets(groupId)
            let partitions = try await self.partitionsToReset(committed: committed)
            let offsets = try await self.newOffsets(partitions, committed: committed)
            if self.options.has("execute") { try await self.admin.alterGroupOffsets(groupId, offsets) }
            planned.append((groupId, offsets))
        }
        guard !planned.isEmpty else { return }
        // Kafka's "%-30s %-30s %-10s %-15s".
        let format = { (fields: [String]) in zip(fields, [30, 30, 10, 15]).map { Self.pad($0, $1) }.joined(separator: " ") }
        print("\n" + format(["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"]))
        for (group, offsets) in planned {
            for (partition, offset) in offsets.sorted(by: { $0.key < $1.key }) {
                print(format([group, partition.topic, String(partition.partition), String(offset)]))
            }
        }
    }

    /// `--all-topics` (every committed partition) or `--topic t` / `--topic t:0,1`.
    private func partitionsToReset(committed: [TopicPartition: Int64]) async throws -> [TopicPartition] {
        if self.options.has("all-topics") { return committed.keys.sorted() }
        var result: [TopicPartition] = []
        var whole: [String] = []
        for argument in self.options.all("topic") {
            let parts = argument.split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                for entry in parts[1].split(separator: ",") {
                    guard let partition = Int32(entry) else { throw ToolFailure("Invalid partition '\(entry)' specified in topic arg '\(argument)''") }
                    result.append(TopicPartition(parts[0], partition))
                }
            } else {
                whole.append(argument)
            }
        }
        if !whole.isEmpty {
            let metadata = try await self.admin.cluster.refreshMetadata(topics: whole)
            for topic in whole {
                guard let entry = metadata.topics[topic], entry.error == .none else {
                    throw ToolFailure("Executing consumer group command failed due to org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.")
                }
                result += entry.partitions.map { TopicPartition(topic, $0.id) }
            }
        }
        return result.sorted()
    }

    /// The scenario's offsets, kept within each partition's log as Kafka's `checkOffsetsRange` does.
    private func newOffsets(_ partitions: [TopicPartition], committed: [TopicPartition: Int64]) async throws -> [TopicPartition: Int64] {
        let earliest = try await self.admin.listOffsets(partitions, timestamp: KafkaAdmin.earliest)
        let latest = try await self.admin.listOffsets(partitions, timestamp: KafkaAdmin.latest)
        var result: [TopicPartition: Int64] = [:]
        var requested: [TopicPartition: Int64] = [:]
        if self.options.has("to-earliest") {
            for partition in partitions { result[partition] = earliest[partition]??.offset ?? 0 }
        } else if self.options.has("to-latest") {
            for partition in partitions { result[partition] = latest[partition]??.offset ?? 0 }
        } else if self.options.has("to-current") {
            for partition in partitions { result[partition] = committed[partition] ?? latest[partition]??.offset ?? 0 }
        } else if let offset = try self.options.integer("to-offset") {
            for partition in partitions { requested[partition] = Int64(offset) }
        } else if let shift = try self.options.integer("shift-by") {
            for partition in partitions {
                requested[partition] = (committed[partition] ?? latest[partition]??.offset ?? 0) + Int64(shift)
            }
        } else if let text = self.options.value("to-datetime") {
            guard let timestamp = Self.parseDateTime(text) else {
                throw ToolFailure("Error parsing timestamp. It does not match format 'YYYY-MM-DDTHH:mm:SS.sss' with optional timezone: \(text)")
            }
            let found = try await self.admin.listOffsets(partitions, timestamp: timestamp)
            for partition in partitions {
                if let offset = found[partition]??.offset {
                    result[partition] = offset
                } else {
                    print("\nWarn: Partition \(partition.partition) from topic \(partition.topic) is empty. Falling back to latest known offset.")
                    result[partition] = latest[partition]??.offset ?? 0
                }
            }
        }
        for (partition, offset) in requested {
            let low = earliest[partition]??.offset ?? 0
            let high = latest[partition]??.offset ?? 0
            if offset < low {
                print("New offset (\(offset)) is lower than earliest offset for topic partition \(partition). Value will be set to \(low)")
                result[partition] = low
            } else if offset > high {
                print("New offset (\(offset)) is higher than latest offset for topic partition \(partition). Value will be set to \(high)")
                result[partition] = high
            } else {
                result[partition] = offset
            }
        }
        return result
    }

    private func delete() async throws {
        let groups = try await self.groups()
        let results = try await self.admin.deleteGroups(groups)
        let failed = results.filter { $0.value != .none }
        if failed.isEmpty {
            print("Deletion of requested consumer groups (\(groups.map { "'\($0)'" }.joined(separator: ", "))) was successful.")
            return
        }
        print("Deletion of some consumer groups failed:")
        for (group, code) in failed.sorted(by: { $0.key < $1.key }) {
            let reason = switch code {
            case .nonEmptyGroup: "org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty."
            case .groupIdNotFound: "org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist."
            default: code.message
            }
            print("* Group '\(group)' could not be deleted due to: \(reason)")
        }
        let succeeded = groups.filter { results[$0] == ErrorCode.none }
        if !succeeded.isEmpty {
            print("\nThese consumer groups were deleted successfully: \(succeeded.map { "'\($0)'" }.joined(separator: ", "))")
        }
    }

    /// Kafka's `Utils.getDateTime`: `yyyy-MM-dd'T'HH:mm:ss.SSS` with an optional zone (`Z`, `+hh:mm`); local time without.
    static func parseDateTime(_ text: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        for format in ["yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "yyyy-MM-dd'T'HH:mm:ss.SSSXX", "yyyy-MM-dd'T'HH:mm:ss.SSS"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        }
        return nil
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Fields left-aligned in columns of `widths`, one space apart, as `%-Ns %-Ns ... %s`.
    private static func row(_ fields: [String], _ widths: [Int], padLast: Bool = false) -> String {
        var line = ""
        for (index, field) in fields.enumerated() {
            let last = index == fields.count - 1
            line += last && !padLast ? field : self.pad(field, widths[index]) + " "
        }
        return line
    }
}

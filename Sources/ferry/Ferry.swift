import ArgumentParser
import FerryCLI
import Logging

/// `ferry`: the one Ferry binary. `scripts/kafka-*.sh` and `scripts/zookeeper-shell.sh` call its subcommands.
@main
struct Ferry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "Ferry: a Kafka-compatible commit log coordinated by ZooKeeper.",
        version: FerryTools.version,
        subcommands: [ServerCommand.self] + FerryTools.subcommands
    )

    static func main() async {
        // The broker logs its state changes; the tools only their problems.
        FerryTools.bootstrapLogging(defaultLevel: CommandLine.arguments.dropFirst().first == "server" ? .info : .warning)
        do {
            var command = try self.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            self.exit(withError: error)
        }
    }
}

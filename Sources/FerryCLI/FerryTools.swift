import ArgumentParser
import Foundation
import Logging

/// The tool subcommands of the `ferry` binary (everything but `ferry server`, which the executable adds so
/// that this library never links the broker).
public enum FerryTools {
    public static let subcommands: [any ParsableCommand.Type] = [
        ZooKeeperShellCommand.self,
        TopicsCommand.self,
        ConsoleProducerCommand.self,
        ConsoleConsumerCommand.self,
        ConsumerGroupsCommand.self,
        ConfigsCommand.self,
        LogDirsCommand.self,
        GetOffsetsCommand.self,
        ProducerPerfCommand.self,
        ConsumerPerfCommand.self,
        EndToEndLatencyCommand.self,
        DumpLogCommand.self,
        TopCommand.self,
    ]

    public static let version = "0.1.0"

    /// Sends swift-log output to stderr (`ConsoleLogHandler`) at `defaultLevel`, or at `FERRY_LOG_LEVEL` when set
    /// (trace, debug, info, notice, warning, error, critical). Call once, before anything logs.
    public static func bootstrapLogging(defaultLevel: Logger.Level) {
        let level = ProcessInfo.processInfo.environment["FERRY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
            ?? defaultLevel
        LoggingSystem.bootstrap { label in ConsoleLogHandler(label: label, logLevel: level) }
    }
}

/// A failure a tool reports as one line, as it stands, and exits 1 on.
struct ToolFailure: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { self.message }
}

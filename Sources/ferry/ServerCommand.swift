import ArgumentParser
import BrokerServer
import Foundation

/// `ferry server <server.properties> [--override key=value]...`: runs a broker (`kafka-server-start.sh`).
/// A configuration problem is one line on stderr and exit status 1.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run a broker from a server.properties file (kafka-server-start.sh)."
    )

    @Argument(help: "The broker's server.properties.")
    var propertiesFile: String

    @Option(name: .customLong("override"), parsing: .singleValue, help: "key=value, applied after the file (repeatable).")
    var overrides: [String] = []

    func run() async throws {
        let config: BrokerConfig
        do {
            guard let text = try? String(contentsOfFile: self.propertiesFile, encoding: .utf8) else {
                throw ServerStartError("cannot read \(self.propertiesFile)")
            }
            var pairs: [String: String] = [:]
            for override in self.overrides {
                guard let equals = override.firstIndex(of: "="), equals != override.startIndex else {
                    throw ServerStartError("--override takes key=value, got '\(override)'")
                }
                pairs[String(override[..<equals])] = String(override[override.index(after: equals)...])
            }
            config = try BrokerConfig.parse(text, overrides: pairs)
        } catch {
            Self.fail("\(error)")
        }
        do {
            try await Broker.run(config: config)
        } catch {
            Self.fail("\(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("ferry server: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

struct ServerStartError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

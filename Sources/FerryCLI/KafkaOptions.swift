import ArgumentParser

/// Command lines as Kafka's tools read them (jopt-simple): every long option may be written with one dash or two
/// (`-topic t` as the seeds do, `--topic t`), a value may follow as the next word or after `=`, options come in any
/// order and may repeat, and nothing is abbreviated. Errors and the help table read as Kafka's do, so a user's
/// habits and scripts carry over.
struct KafkaOptions {
    /// One option a tool accepts.
    struct Spec {
        var name: String
        /// What the value is, as the help shows it (`Integer: # of partitions`); `nil` for a flag.
        var argument: String?
        var description: String
        var defaultValue: String?
        /// The value may be left out (jopt's `withOptionalArg`): a following word that starts with `-` is not taken.
        var valueIsOptional = false

        static func flag(_ name: String, _ description: String) -> Spec {
            Spec(name: name, argument: nil, description: description)
        }

        static func value(_ name: String, _ argument: String, _ description: String, default defaultValue: String? = nil) -> Spec {
            Spec(name: name, argument: argument, description: description, defaultValue: defaultValue)
        }

        static func optionalValue(_ name: String, _ argument: String, _ description: String) -> Spec {
            Spec(name: name, argument: argument, description: description, defaultValue: nil, valueIsOptional: true)
        }
    }

    /// A command line that does not fit the tool: the message, then the help, then exit 1 (Kafka's
    /// `CommandLineUtils.printUsageAndDie`).
    struct UsageError: Error, Equatable, CustomStringConvertible {
        var message: String
        var description: String { self.message }
    }

    let specs: [Spec]
    private(set) var values: [String: [String]] = [:]

    /// Parses `arguments` against `specs` (plus `help` and `version`, which every Kafka tool has).
    init(_ arguments: [String], specs: [Spec]) throws(UsageError) {
        self.specs = specs + [.flag("help", "Print usage information."), .flag("version", "Display Kafka version.")]
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            guard word.hasPrefix("-"), word.count > 1 else {
                throw UsageError(message: "Found non-option argument \(word)")  // jopt's text for a stray word
            }
            var name = String(word.drop { $0 == "-" })
            var inline: String?
            if let equals = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let spec = self.specs.first(where: { $0.name == name }) else {
                throw UsageError(message: "\(name) is not a recognized option")
            }
            if spec.argument == nil {
                guard inline == nil else { throw UsageError(message: "Option \(name) does not take an argument") }
                self.values[name, default: []].append("")
                continue
            }
            if let inline {
                self.values[name, default: []].append(inline)
            } else if spec.valueIsOptional && (index == arguments.count || arguments[index].hasPrefix("-")) {
                self.values[name, default: []].append("")
            } else if index < arguments.count {
                self.values[name, default: []].append(arguments[index])
                index += 1
            } else {
                throw UsageError(message: "Option \(name) requires an argument")
            }
        }
    }

    func has(_ name: String) -> Bool { self.values[name] != nil }

    /// The option's last value, or its default.
    func value(_ name: String) -> String? {
        self.values[name]?.last ?? self.specs.first { $0.name == name }?.defaultValue
    }

    /// Every value given for a repeatable option, in order.
    func all(_ name: String) -> [String] { self.values[name] ?? [] }

    /// An integer option; a value that is not one is a usage error naming it, as jopt's converters report.
    func integer(_ name: String) throws(UsageError) -> Int? {
        guard let text = self.value(name) else { return nil }
        guard let number = Int(text) else {
            throw UsageError(message: "Cannot parse argument '\(text)' of option \(name)")
        }
        return number
    }

    /// Kafka's `Missing required argument "[name]"` unless the option is there.
    func require(_ name: String) throws(UsageError) -> String {
        guard let value = self.value(name) else { throw UsageError(message: "Missing required argument \"[\(name)]\"") }
        return value
    }

    /// jopt's help table: options sorted by name, the option column as wide as needed up to half the line, the
    /// descriptions wrapped beside it, defaults appended.
    func help() -> String {
        let rows = self.specs.sorted { $0.name < $1.name }.map { spec -> (String, String) in
            let option = "--\(spec.name)" + (spec.argument.map { " <\($0)>" } ?? "")
            let description = spec.description + (spec.defaultValue.map { " (default: \($0))" } ?? "")
            return (option, description)
        }
        let optionWidth = min(max(rows.map(\.0.count).max() ?? 6, 6), 38) + 2
        let descriptionWidth = max(80 - optionWidth, 30)
        var lines = [Self.pad("Option", optionWidth) + "Description", Self.pad("------", optionWidth) + "-----------"]
        for (option, description) in rows {
            let wrapped = Self.wrap(description, width: descriptionWidth)
            if option.count + 2 > optionWidth {
                lines.append(option)
                lines += wrapped.map { String(repeating: " ", count: optionWidth) + $0 }
            } else {
                lines.append(Self.pad(option, optionWidth) + (wrapped.first ?? ""))
                lines += wrapped.dropFirst().map { String(repeating: " ", count: optionWidth) + $0 }
            }
        }
        return lines.map { $0.trailingSpacesRemoved }.joined(separator: "\n")
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(width - text.count, 1))
    }

    private static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}

extension String {
    fileprivate var trailingSpacesRemoved: String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}

extension KafkaOptions {
    /// How every Kafka tool starts: parse, answer `--version`, and on `--help`, no arguments or a failed `check` print
    /// the message and the help table, then exit 1. Returns `nil` when there is nothing left to do (`--version`).
    static func parseTool(
        _ arguments: [String], specs: [Spec], about: String, check: (KafkaOptions) throws(UsageError) -> Void = { _ in }
    ) throws -> KafkaOptions? {
        do throws(UsageError) {
            let options = try KafkaOptions(arguments, specs: specs)
            if options.has("version") {
                print(FerryTools.version)
                return nil
            }
            if arguments.isEmpty || options.has("help") { throw UsageError(message: about) }
            try check(options)
            return options
        } catch {
            ToolOutput.usage(error.message, help: (try? KafkaOptions([], specs: specs))?.help() ?? "")
            throw ExitCode(1)
        }
    }
}

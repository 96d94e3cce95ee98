@testable import FerryCLI
import Testing

/// Command lines as Kafka's tools (jopt-simple) read them.
@Suite struct KafkaOptionsTests {
    let specs: [KafkaOptions.Spec] = [
        .value("topic", "String: topic", "The topic."),
        .value("partitions", "Integer: # of partitions", "How many."),
        .value("config", "String: name=value", "An override."),
        .flag("list", "List."),
    ]

    @Test func oneDashTwoDashesAndEqualsAllNameTheSameOption() throws {
        #expect(try KafkaOptions(["-topic", "a"], specs: self.specs).value("topic") == "a")
        #expect(try KafkaOptions(["--topic", "a"], specs: self.specs).value("topic") == "a")
        #expect(try KafkaOptions(["--topic=a=b"], specs: self.specs).value("topic") == "a=b")
        let repeated = try KafkaOptions(["--config", "x=1", "--list", "-config", "y=2"], specs: self.specs)
        #expect(repeated.all("config") == ["x=1", "y=2"] && repeated.has("list") && !repeated.has("topic"))
    }

    @Test func badCommandLinesAreKafkasErrors() {
        #expect(throws: KafkaOptions.UsageError(message: "topc is not a recognized option")) {
            try KafkaOptions(["--topc", "a"], specs: self.specs)
        }
        #expect(throws: KafkaOptions.UsageError(message: "Option topic requires an argument")) {
            try KafkaOptions(["--topic"], specs: self.specs)
        }
        #expect(throws: KafkaOptions.UsageError(message: "Cannot parse argument 'three' of option partitions")) {
            try KafkaOptions(["--partitions", "three"], specs: self.specs).integer("partitions")
        }
        #expect(throws: KafkaOptions.UsageError(message: "Missing required argument \"[topic]\"")) {
            try KafkaOptions(["--list"], specs: self.specs).require("topic")
        }
    }

    @Test func theHelpTableIsSortedAndWrapped() throws {
        let help = try KafkaOptions([], specs: self.specs).help().split(separator: "\n").map(String.init)
        #expect(help[0] == "Option                                  Description")
        #expect(help[1] == "------                                  -----------")
        #expect(help[2] == "--config <String: name=value>           An override.")
        #expect(help.dropFirst(2).filter { $0.hasPrefix("--") }.map { String($0.prefix { $0 != " " }) }
            == ["--config", "--help", "--list", "--partitions", "--topic", "--version"])
    }
}

// swift-tools-version: 6.1
// Ferry: a Kafka-compatible commit log coordinated by ZooKeeper. See docs/ARCHITECTURE.md for what each target
// does and which targets it may import; the dependency arrows below are that document's, enforced by the compiler.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "Ferry",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ferry", targets: ["ferry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // ZooKeeper: the C client and our async Swift wrapper. Knows nothing about Kafka.
        .systemLibrary(name: "CZooKeeper", providers: [.apt(["libzookeeper-mt-dev"])]),
        .target(name: "ZooKeeper", dependencies: ["CZooKeeper", logging], swiftSettings: swiftSettings),

        // Kafka vocabulary and wire format: pure values and codecs, no I/O.
        .target(name: "KafkaModel", swiftSettings: swiftSettings),
        // Record batches (v2) and legacy message sets, their checksums and compression codecs. No I/O.
        .target(name: "CFerryChecksums", cSettings: [.unsafeFlags(["-O3"])]),
        .systemLibrary(
            name: "CCompression", providers: [.apt(["zlib1g-dev", "libsnappy-dev", "liblz4-dev", "libzstd-dev"])]),
        .target(
            name: "KafkaRecords",
            dependencies: ["KafkaModel", "CFerryChecksums", "CCompression", nioCore],
            swiftSettings: swiftSettings
        ),
        .target(name: "KafkaProtocol", dependencies: ["KafkaModel", "KafkaRecords", nioCore], swiftSettings: swiftSettings),

        // Partition logs on disk; knows record batches, not requests or ZooKeeper.
        .target(name: "LogStorage", dependencies: ["KafkaModel", "KafkaRecords", nioCore, logging], swiftSettings: swiftSettings),

        // Kafka's znode layout and cluster metadata on top of the ZooKeeper client.
        .target(name: "Coordination", dependencies: ["KafkaModel", "ZooKeeper", logging], swiftSettings: swiftSettings),

        // The cluster controller: election and leadership decisions, through ZooKeeper.
        .target(name: "Controller", dependencies: ["Coordination", "KafkaModel", "ZooKeeper", logging], swiftSettings: swiftSettings),

        // Consumer groups: membership, generations and rebalances as Kafka's group coordinator runs them; offsets
        // are kept by a store the broker provides (ZooKeeper). No I/O of its own.
        .target(name: "GroupCoordinator", dependencies: ["KafkaModel", logging], swiftSettings: swiftSettings),

        // The broker composes codec, storage and coordination behind a SwiftNIO listener.
        .target(
            name: "BrokerServer",
            dependencies: [
                "KafkaModel", "KafkaProtocol", "KafkaRecords", "LogStorage", "Coordination", "Controller", "ZooKeeper", "KafkaClient",
                "GroupCoordinator", nioCore, nioPosix, logging,
            ],
            swiftSettings: swiftSettings
        ),

        // Async Kafka client used by the command-line tools and tests.
        .target(
            name: "KafkaClient",
            dependencies: ["KafkaModel", "KafkaProtocol", "KafkaRecords", "Coordination", "ZooKeeper", nioCore, nioPosix, logging],
            swiftSettings: swiftSettings
        ),

        // The Kafka-style tools (topics, console producer/consumer, zookeeper-shell, ...), one file per subcommand.
        .target(
            name: "FerryCLI",
            dependencies: ["ZooKeeper", "Coordination", "KafkaClient", "KafkaModel", "KafkaRecords", "LogStorage", argumentParser, logging],
            swiftSettings: swiftSettings
        ),

        // The one binary: `ferry server ...` plus every tool subcommand.
        .executableTarget(
            name: "ferry",
            dependencies: ["FerryCLI", "BrokerServer", argumentParser, logging],
            swiftSettings: swiftSettings
        ),

        // Benchmarks behind scripts/bench-*.sh; not shipped.
        .executableTarget(
            name: "ferry-bench",
            dependencies: ["KafkaModel", "KafkaProtocol", "KafkaRecords", "LogStorage", "CFerryChecksums", nioCore],
            swiftSettings: swiftSettings
        ),

        // Helpers for tests against the real ZooKeeper ensemble; linked by test targets only.
        .target(name: "FerryTestKit", dependencies: ["ZooKeeper", "CZooKeeper"], swiftSettings: swiftSettings),

        .testTarget(name: "ZooKeeperTests", dependencies: ["ZooKeeper", "CZooKeeper", "FerryTestKit"], swiftSettings: swiftSettings),
        .testTarget(
            name: "LogStorageTests",
            dependencies: ["LogStorage", "KafkaModel", "KafkaRecords", nioCore],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "GroupCoordinatorTests", dependencies: ["GroupCoordinator", "KafkaModel"], swiftSettings: swiftSettings),
        .testTarget(
            name: "BrokerServerTests", dependencies: ["BrokerServer", "Coordination", "LogStorage", "ZooKeeper", "KafkaProtocol", "KafkaRecords", nioCore],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CoordinationTests", dependencies: ["Coordination", "Controller", "KafkaModel", "ZooKeeper", "FerryTestKit"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "FerryCLITests",
            dependencies: ["FerryCLI", "LogStorage", "KafkaRecords", "KafkaModel", nioCore],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KafkaClientTests",
            dependencies: ["KafkaClient", "KafkaModel", "KafkaRecords", nioCore],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KafkaRecordsTests",
            dependencies: ["KafkaRecords", "CFerryChecksums", nioCore],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KafkaProtocolTests",
            dependencies: ["KafkaProtocol", "KafkaModel", "KafkaRecords", nioCore],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
    ]
)

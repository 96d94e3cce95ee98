import KafkaModel

/// The states of a classic consumer group, named as Kafka names them (DescribeGroups, ListGroups,
/// `kafka-consumer-groups.sh --state`).
public enum GroupState: String, Hashable, Sendable, CaseIterable {
    /// No members; offsets may still be committed (a standalone consumer) and fetched.
    case empty = "Empty"
    /// Waiting for every member to (re)join before the next generation.
    case preparingRebalance = "PreparingRebalance"
    /// The generation is formed; waiting for the leader's assignment in SyncGroup.
    case completingRebalance = "CompletingRebalance"
    /// Every member has its assignment; heartbeats keep the generation alive.
    case stable = "Stable"
    /// The group is gone (deleted, or its coordinator moved away).
    case dead = "Dead"
}

/// One protocol a member offers in JoinGroup (an assignor for consumers: range, roundrobin, ...), with its opaque
/// subscription metadata, which the coordinator relays to the leader without reading it.
public struct GroupProtocol: Hashable, Sendable {
    public var name: String
    public var metadata: [UInt8]

    public init(name: String, metadata: [UInt8]) {
        self.name = name
        self.metadata = metadata
    }
}

/// A JoinGroup request as the coordinator needs it.
public struct JoinGroupCall: Sendable {
    public var groupId: String
    /// Empty for a member joining for the first time.
    public var memberId: String
    public var groupInstanceId: String?
    public var clientId: String
    public var clientHost: String
    public var sessionTimeoutMs: Int32
    public var rebalanceTimeoutMs: Int32
    public var protocolType: String
    public var protocols: [GroupProtocol]
    /// JoinGroup v4+: a new member first gets its id with MEMBER_ID_REQUIRED and joins again with it.
    public var requireKnownMemberId: Bool

    public init(
        groupId: String, memberId: String, groupInstanceId: String?, clientId: String, clientHost: String,
        sessionTimeoutMs: Int32, rebalanceTimeoutMs: Int32, protocolType: String, protocols: [GroupProtocol],
        requireKnownMemberId: Bool
    ) {
        self.groupId = groupId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.protocolType = protocolType
        self.protocols = protocols
        self.requireKnownMemberId = requireKnownMemberId
    }
}

/// The JoinGroup answer: the generation, the chosen protocol, the leader, and (for the leader only) every member's
/// metadata for that protocol.
public struct JoinGroupResult: Hashable, Sendable {
    public struct Member: Hashable, Sendable {
        public var memberId: String
        public var groupInstanceId: String?
        public var metadata: [UInt8]
    }

    public var error: ErrorCode = .none
    public var generationId: Int32 = -1
    public var protocolType: String?
    public var protocolName: String?
    public var leaderId: String = ""
    public var memberId: String = ""
    public var members: [Member] = []

    static func failed(_ error: ErrorCode, memberId: String = "") -> JoinGroupResult {
        JoinGroupResult(error: error, memberId: memberId)
    }
}

/// The SyncGroup answer: this member's assignment, opaque bytes the leader computed.
public struct SyncGroupResult: Hashable, Sendable {
    public var error: ErrorCode = .none
    public var protocolType: String?
    public var protocolName: String?
    public var assignment: [UInt8] = []
}

/// A member as DescribeGroups shows it.
public struct GroupMemberDescription: Hashable, Sendable {
    public var memberId: String
    public var groupInstanceId: String?
    public var clientId: String
    public var clientHost: String
    /// The member's metadata for the group's protocol (its subscription).
    public var metadata: [UInt8]
    public var assignment: [UInt8]
}

/// A group as DescribeGroups shows it.
public struct GroupDescription: Hashable, Sendable {
    public var groupId: String
    public var state: GroupState
    public var protocolType: String
    public var protocolName: String
    public var generationId: Int32
    public var members: [GroupMemberDescription]
}

/// Who is asking to commit offsets: a group member of a generation, or a standalone consumer (generation -1, no
/// member id) that only stores offsets.
public struct OffsetCommitter: Hashable, Sendable {
    public var memberId: String
    public var generationId: Int32
    public var groupInstanceId: String?

    public init(memberId: String, generationId: Int32, groupInstanceId: String?) {
        self.memberId = memberId
        self.generationId = generationId
        self.groupInstanceId = groupInstanceId
    }
}

/// Settings from server.properties, Kafka's names and defaults.
public struct GroupCoordinatorSettings: Sendable {
    /// `group.min.session.timeout.ms`
    public var minSessionTimeoutMs: Int32 = 6_000
    /// `group.max.session.timeout.ms`
    public var maxSessionTimeoutMs: Int32 = 1_800_000
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group waits for more members.
    public var initialRebalanceDelayMs: Int64 = 3_000
    /// `group.max.size`
    public var maxGroupSize: Int = Int(Int32.max)
    /// How often timers (sessions, rebalance deadlines) are checked.
    public var tickInterval: Duration = .milliseconds(50)

    public init() {}
}

/// Kafka's group-to-partition mapping: `Utils.abs(groupId.hashCode) % offsets.topic.num.partitions`, with Java's
/// `String.hashCode` over UTF-16 code units, so a group has the same coordinator partition as in Kafka.
public enum GroupPartitioner {
    public static func partition(of groupId: String, partitionCount: Int32) -> Int32 {
        var hash: Int32 = 0
        for unit in groupId.utf16 {
            hash = hash &* 31 &+ Int32(unit)
        }
        return (hash & 0x7fff_ffff) % max(partitionCount, 1)
    }
}

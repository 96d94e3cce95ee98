/// Kafka's replica placement for new topics and partitions (`AdminUtils.assignReplicasToBrokers`, 3.7).
///
/// Rack-unaware: first replicas round-robin over the sorted broker list from a start index; each further
/// replica of a partition follows at a shift that grows by one every time the round-robin wraps, so replicas
/// spread evenly. Rack-aware (when every broker has a rack): the same over a broker list that alternates racks,
/// skipping a broker whose rack (or itself) already holds a replica of the partition while another rack (or
/// broker) holds none. The start index and shift are random unless fixed (tests, and to match Kafka's tests).
public enum ReplicaAssignment {
    public struct Broker: Hashable, Sendable {
        public var id: Int32
        public var rack: String?

        public init(id: Int32, rack: String? = nil) {
            self.id = id
            self.rack = rack
        }
    }

    /// Why no assignment exists; the broker answers with the matching Kafka error code.
    public enum Failure: Error, Hashable, Sendable, CustomStringConvertible {
        /// `INVALID_PARTITIONS`.
        case invalidPartitions(String)
        /// `INVALID_REPLICATION_FACTOR` (e.g. more replicas than live brokers).
        case invalidReplicationFactor(String)
        /// `INVALID_REPLICA_ASSIGNMENT` (racks on some brokers only).
        case invalidReplicaAssignment(String)

        public var description: String {
            switch self {
            case .invalidPartitions(let text), .invalidReplicationFactor(let text), .invalidReplicaAssignment(let text): text
            }
        }
    }

    /// Assigns `partitions` partitions of `replicationFactor` replicas, numbered from `firstPartition`.
    /// - Parameters:
    ///   - fixedStartIndex: the start index and shift to use instead of random ones (-1: random).
    /// - Returns: partition id to its ordered replica list.
    public static func assign(
        brokers: [Broker], partitions: Int, replicationFactor: Int, fixedStartIndex: Int = -1, firstPartition: Int = 0
    ) throws(Failure) -> [Int32: [Int32]] {
        guard partitions > 0 else { throw .invalidPartitions("Number of partitions must be larger than 0.") }
        guard replicationFactor > 0 else { throw .invalidReplicationFactor("Replication factor must be larger than 0.") }
        guard replicationFactor <= brokers.count else {
            throw .invalidReplicationFactor(
                "Replication factor: \(replicationFactor) larger than available brokers: \(brokers.count).")
        }
        if brokers.allSatisfy({ $0.rack == nil }) {
            return self.rackUnaware(
                brokerIds: brokers.map(\.id).sorted(), partitions: partitions, replicationFactor: replicationFactor,
                fixedStartIndex: fixedStartIndex, firstPartition: firstPartition)
        }
        guard brokers.allSatisfy({ $0.rack != nil }) else {
            throw .invalidReplicaAssignment("Not all brokers have rack information for replica rack aware assignment.")
        }
        return self.rackAware(
            brokers: brokers, partitions: partitions, replicationFactor: replicationFactor, fixedStartIndex: fixedStartIndex,
            firstPartition: firstPartition)
    }

    private static func start(_ fixed: Int, _ count: Int) -> Int { fixed >= 0 ? fixed : Int.random(in: 0..<count) }

    /// The broker index of replica `replica` (0 = the second replica) of a partition whose first replica is at
    /// `first`, with the current shift.
    private static func replicaIndex(first: Int, shift: Int, replica: Int, brokers: Int) -> Int {
        let step = 1 + (shift + replica) % (brokers - 1)
        return (first + step) % brokers
    }

    /// Kafka's partition loop, shared by both placements: partition by partition from `firstPartition`, the first
    /// replica's index round-robins from a start index, and the shift for further replicas grows by one each
    /// time the round-robin wraps. `replicas` places one partition given (first index, shift).
    private static func eachPartition(
        count: Int, brokers: Int, fixedStartIndex: Int, firstPartition: Int, _ replicas: (_ first: Int, _ shift: Int) -> [Int32]
    ) -> [Int32: [Int32]] {
        var result: [Int32: [Int32]] = [:]
        let startIndex = self.start(fixedStartIndex, brokers)
        var shift = self.start(fixedStartIndex, brokers)
        var partition = max(0, firstPartition)
        for _ in 0..<count {
            if partition > 0 && partition % brokers == 0 { shift += 1 }
            result[Int32(partition)] = replicas((partition + startIndex) % brokers, shift)
            partition += 1
        }
        return result
    }

    static func rackUnaware(
        brokerIds: [Int32], partitions: Int, replicationFactor: Int, fixedStartIndex: Int, firstPartition: Int
    ) -> [Int32: [Int32]] {
        let count = brokerIds.count
        return self.eachPartition(count: partitions, brokers: count, fixedStartIndex: fixedStartIndex, firstPartition: firstPartition) { first, shift in
            [brokerIds[first]] + (0..<(replicationFactor - 1)).map {
                brokerIds[self.replicaIndex(first: first, shift: shift, replica: $0, brokers: count)]
            }
        }
    }

    /// Brokers ordered so that consecutive ones sit on different racks: racks in name order, brokers in id
    /// order within a rack, taking one broker from each rack in turn.
    static func rackAlternatedBrokers(_ brokers: [Broker]) -> [Int32] {
        let byRack = Dictionary(grouping: brokers, by: { $0.rack ?? "" }).mapValues { $0.map(\.id).sorted() }
        let racks = byRack.keys.sorted()
        var positions = Dictionary(uniqueKeysWithValues: racks.map { ($0, 0) })
        var result: [Int32] = []
        var rackIndex = 0
        while result.count < brokers.count {
            let rack = racks[rackIndex]
            if let position = positions[rack], position < byRack[rack]!.count {
                result.append(byRack[rack]![position])
                positions[rack] = position + 1
            }
            rackIndex = (rackIndex + 1) % racks.count
        }
        return result
    }

    static func rackAware(
        brokers: [Broker], partitions: Int, replicationFactor: Int, fixedStartIndex: Int, firstPartition: Int
    ) -> [Int32: [Int32]] {
        let rackOf = Dictionary(uniqueKeysWithValues: brokers.map { ($0.id, $0.rack ?? "") })
        let rackCount = Set(rackOf.values).count
        let arranged = self.rackAlternatedBrokers(brokers)
        let count = arranged.count
        return self.eachPartition(count: partitions, brokers: count, fixedStartIndex: fixedStartIndex, firstPartition: firstPartition) { first, shift in
            let leader = arranged[first]
            var replicas = [leader]
            var racksWithReplicas: Set<String> = [rackOf[leader]!]
            var brokersWithReplicas: Set<Int32> = [leader]
            var k = 0
            for _ in 0..<(replicationFactor - 1) {
                while true {
                    let broker = arranged[self.replicaIndex(first: first, shift: shift * rackCount, replica: k, brokers: count)]
                    let rack = rackOf[broker]!
                    k += 1
                    // Skip a broker whose rack already has a replica while some rack has none, or which has a
                    // replica itself while some broker has none.
                    if (!racksWithReplicas.contains(rack) || racksWithReplicas.count == rackCount)
                        && (!brokersWithReplicas.contains(broker) || brokersWithReplicas.count == count)
                    {
                        replicas.append(broker)
                        racksWithReplicas.insert(rack)
                        brokersWithReplicas.insert(broker)
                        break
                    }
                }
            }
            return replicas
        }
    }
}

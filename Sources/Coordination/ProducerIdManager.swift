import Logging
import ZooKeeper

/// Hands out producer ids for idempotent producers from blocks of 1000 reserved in `/latest_producer_id_block`
/// (Kafka's ZooKeeper-mode `ProducerIdManager`): a broker reads the last block, writes the next one with a
/// compare-and-set on the znode version, and retries if another broker got there first. Ids are therefore unique
/// across the cluster and never reused.
public actor ProducerIdManager {
    public static let blockSize: Int64 = 1000
    private let brokerId: Int32
    private let client: ZooKeeperClient
    private let logger: Logger
    private var next: Int64 = 0
    private var end: Int64 = -1

    public init(brokerId: Int32, client: ZooKeeperClient, logger: Logger = Logger(label: "ferry.producer-ids")) {
        self.brokerId = brokerId
        self.client = client
        self.logger = logger
    }

    public func nextProducerId() async throws -> Int64 {
        if self.next > self.end { try await self.reserveBlock() }
        defer { self.next += 1 }
        return self.next
    }

    private func reserveBlock() async throws {
        while true {
            try await self.client.createRecursively(ZNodes.producerIdBlock)
            let node = try await self.client.get(ZNodes.producerIdBlock)
            let start = node.data.isEmpty ? 0 : (try ProducerIdBlockZNode.decode(node.data).range?.upperBound ?? -1) + 1
            let block = ProducerIdBlockZNode(broker: self.brokerId, start: start, end: start + Self.blockSize - 1)
            do {
                try await self.client.set(ZNodes.producerIdBlock, data: block.zNodeData(), version: node.stat.version)
                (self.next, self.end) = (start, start + Self.blockSize - 1)
                self.logger.info("reserved producer ids \(start)...\(start + Self.blockSize - 1)")
                return
            } catch let error as ZooKeeperError where error.code == .badVersion {
                continue  // another broker took this block; read again
            }
        }
    }
}

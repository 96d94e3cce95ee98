import Coordination
import Logging
import ZooKeeper

/// The controller election of Kafka's ZooKeeper mode (`KafkaZkClient.registerControllerAndIncrementControllerEpoch`).
///
/// A broker becomes controller by creating the ephemeral `/controller` and bumping `/controller_epoch` in one
/// atomic multi, conditional on the epoch znode's version it read. The new epoch znode version is the fencing
/// token: every later controller write carries a check on it, so a deposed controller whose successor bumped the
/// epoch cannot overwrite anything.
public struct ControllerElection: Sendable {
    /// A won election.
    public struct Term: Hashable, Sendable {
        public var epoch: Int32
        /// `/controller_epoch`'s version after the bump; the check op of every fenced write.
        public var epochZNodeVersion: Int32
    }

    public let brokerId: Int32
    let client: ZooKeeperClient

    public init(brokerId: Int32, client: ZooKeeperClient) {
        self.brokerId = brokerId
        self.client = client
    }

    /// Tries once to become controller.
    /// - Returns: the term if this broker won; `nil` if another broker is controller or won the race.
    public func attempt(timestamp: Int64) async throws -> Term? {
        let (epoch, version) = try await self.currentEpoch()
        do {
            let results = try await self.client.multi([
                .create(path: ZNodes.controller, data: ControllerZNode(brokerId: self.brokerId, timestamp: timestamp).zNodeData(), mode: .ephemeral),
                .setData(path: ZNodes.controllerEpoch, data: ControllerEpochZNode.encode(epoch + 1), version: version),
            ])
            guard case .dataSet(let stat) = results[1] else { return nil }
            return Term(epoch: epoch + 1, epochZNodeVersion: stat.version)
        } catch let error as ZooKeeperError where error.code == .nodeExists || error.code == .badVersion {
            return try await self.wonBeforeReconnect()
        }
    }

    /// After a lost connection the client sends the election again, and the first attempt may have won: then
    /// `/controller` is our session's own node (Kafka's `checkedEphemeralCreate` checks the owner the same way).
    private func wonBeforeReconnect() async throws -> Term? {
        guard let node = try await self.client.getIfExists(ZNodes.controller),
              node.stat.ephemeralOwner == self.client.sessionID,
              (try? ControllerZNode.decode(node.data).brokerid) == self.brokerId
        else { return nil }
        let (epoch, version) = try await self.currentEpoch()
        return Term(epoch: epoch, epochZNodeVersion: version)
    }

    /// The epoch and its znode version, creating `/controller_epoch` as 0 if it is missing.
    private func currentEpoch() async throws -> (Int32, Int32) {
        do {
            let node = try await self.client.get(ZNodes.controllerEpoch)
            return (try ControllerEpochZNode.decode(node.data), node.stat.version)
        } catch let error as ZooKeeperError where error.code == .noNode {
            do {
                try await self.client.create(ZNodes.controllerEpoch, data: ControllerEpochZNode.encode(0))
            } catch let error as ZooKeeperError where error.code == .nodeExists {}
            return try await self.currentEpoch()
        }
    }

    /// The broker id in `/controller` and a watch on the node, or `nil` and a watch that fires when one is elected.
    public func currentController() async throws -> (Int32?, Watch) {
        do {
            let (node, watch) = try await self.client.getAndWatch(ZNodes.controller)
            return (try? ControllerZNode.decode(node.data).brokerid, watch)
        } catch let error as ZooKeeperError where error.code == .noNode {
            let (stat, watch) = try await self.client.existsAndWatch(ZNodes.controller)
            if stat != nil { return try await self.currentController() }
            return (nil, watch)
        }
    }
}

import Coordination
import ZooKeeper

/// Finds the brokers the way pykafka and the old Kafka tools do: the registrations under `/brokers/ids`.
public enum ZooKeeperBootstrap {
    /// Every registered broker's PLAINTEXT address (or its first endpoint), ordered by broker id.
    /// - Throws: `KafkaClientError(.noBrokerAvailable)` when no broker is registered.
    public static func brokers(_ zooKeeper: ZooKeeperClient) async throws -> [BrokerAddress] {
        let ids = (try? await zooKeeper.children("/brokers/ids")) ?? []
        var addresses: [BrokerAddress] = []
        for id in ids.compactMap(Int32.init).sorted() {
            guard let node = try await zooKeeper.getIfExists("/brokers/ids/\(id)"),
                  let registration = try? BrokerRegistration.decode(node.data, id: id)
            else { continue }
            let endpoints = registration.parsedEndpoints
            guard let endpoint = endpoints.first(where: { $0.listener == "PLAINTEXT" }) ?? endpoints.first else { continue }
            addresses.append(BrokerAddress(host: endpoint.host, port: Int(endpoint.port)))
        }
        guard !addresses.isEmpty else {
            throw KafkaClientError(.noBrokerAvailable, "No brokers are registered in ZooKeeper under /brokers/ids")
        }
        return addresses
    }
}

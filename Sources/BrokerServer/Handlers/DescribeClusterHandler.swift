import Coordination
import KafkaModel
import KafkaProtocol

// DescribeCluster (API key 60). Supported: v0...v1.
// Behaviour: the cluster id, the controller and the live brokers, as Metadata reports them. Deviation: authorized
// operations are not computed (no ACLs yet) and stay "not requested".
struct DescribeClusterHandler: KafkaRequestHandler {
    typealias Request = DescribeClusterRequest
    static let versions: ClosedRange<Int16> = 0...1

    let cache: MetadataCache
    let clusterId: String

    func handle(_ request: DescribeClusterRequest, context: RequestContext) async throws -> DescribeClusterResponse? {
        let brokers = await self.cache.brokers
        return DescribeClusterResponse(
            clusterId: self.clusterId, controllerId: await self.cache.advertisedControllerId ?? -1,
            brokers: brokers.keys.sorted().compactMap { id in
                guard let endpoint = brokers[id]!.parsedEndpoints.first else { return nil }
                return .init(brokerId: id, host: endpoint.host, port: endpoint.port, rack: brokers[id]!.rack)
            })
    }
}

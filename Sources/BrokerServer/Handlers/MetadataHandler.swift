import Coordination
import KafkaModel
import KafkaProtocol

// Metadata (API key 3). Supported: v0...v12.
// Behaviour: brokers are the live registrations in ZooKeeper (their PLAINTEXT endpoint), the controller is
// `/controller`, topics and partitions come from `/brokers/topics` and the partition state znodes. A partition
// without a state or whose leader is not live reports LEADER_NOT_AVAILABLE with leader -1; replicas that are not
// live are listed as offline (v5+). v0 treats an empty topic list as "all topics", v1+ a null one.
// Unknown topics are created when auto.create.topics.enable and the request allows it (always before v4), with
// num.partitions and default.replication.factor, and reported as LEADER_NOT_AVAILABLE until the controller has
// elected their leaders; otherwise they get UNKNOWN_TOPIC_OR_PARTITION.
struct MetadataHandler: KafkaRequestHandler {
    typealias Request = MetadataRequest
    static let versions: ClosedRange<Int16> = 0...12

    let cache: MetadataCache
    let clusterId: String
    let topicAdmin: TopicAdmin
    let config: BrokerConfig

    func handle(_ request: MetadataRequest, context: RequestContext) async throws -> MetadataResponse? {
        let brokers = await self.cache.brokers
        let controllerId = await self.cache.advertisedControllerId
        let topics = await self.cache.topics
        var response = MetadataResponse()
        response.brokers = brokers.keys.sorted().compactMap { id in
            let registration = brokers[id]!
            guard let endpoint = registration.clientEndpoint
            else { return nil }
            return .init(nodeId: id, host: endpoint.host, port: endpoint.port, rack: registration.rack)
        }
        response.clusterId = self.clusterId
        response.controllerId = controllerId ?? -1
        let requested: [String]
        if let names = request.topics?.compactMap(\.name), !(context.version == 0 && names.isEmpty) {
            requested = names
        } else {
            requested = topics.keys.sorted()
        }
        let autoCreate = self.config.autoCreateTopicsEnable && (context.version < 4 || request.allowAutoTopicCreation)
        var created: [String: ErrorCode] = [:]
        if autoCreate {
            var candidates: [ReplicaAssignment.Broker]?
            for name in requested where topics[name] == nil {
                do {
                    if candidates == nil { candidates = try await self.topicAdmin.liveBrokers() }
                    try await self.topicAdmin.create(
                        name: name, partitions: Int(self.config.numPartitions),
                        replicationFactor: Int(self.config.defaultReplicationFactor), brokers: candidates ?? [])
                    created[name] = .leaderNotAvailable
                } catch let failure as TopicAdmin.Failure {
                    created[name] = failure.code == .topicAlreadyExists ? .leaderNotAvailable : failure.code
                } catch {
                    // ZooKeeper out of reach: the client retries its metadata request, as it does while leaders are elected.
                    created[name] = .leaderNotAvailable
                }
            }
        }
        response.topics = requested.map { name in
            if let code = created[name] { return .init(errorCode: code.rawValue, name: name) }
            guard let topic = topics[name] else {
                return .init(errorCode: ErrorCode.unknownTopicOrPartition.rawValue, name: name)
            }
            return .init(
                name: name, topicId: topic.assignment.topicId.flatMap(KafkaUUID.init(string:)) ?? .zero,
                isInternal: name == GroupCoordination.offsetsTopic,
                partitions: topic.assignment.partitions.keys.sorted().map { partition in
                    Self.describe(partition, replicas: topic.assignment.partitions[partition]!, state: topic.states[partition], live: brokers)
                })
        }
        return response
    }

    static func describe(
        _ partition: Int32, replicas: [Int32], state: PartitionStateZNode?, live: [Int32: BrokerRegistration]
    ) -> MetadataResponse.MetadataResponseTopic.MetadataResponsePartition {
        let offline = replicas.filter { live[$0] == nil }
        guard let state, state.leader >= 0, live[state.leader] != nil else {
            return .init(
                errorCode: ErrorCode.leaderNotAvailable.rawValue, partitionIndex: partition, leaderId: -1,
                leaderEpoch: state?.leaderEpoch ?? -1, replicaNodes: replicas, isrNodes: state?.isr ?? [], offlineReplicas: offline)
        }
        return .init(
            partitionIndex: partition, leaderId: state.leader, leaderEpoch: state.leaderEpoch, replicaNodes: replicas,
            isrNodes: state.isr, offlineReplicas: offline)
    }
}

import Controller
import Coordination
import KafkaModel
import KafkaProtocol

// CreateTopics (API key 19). Supported: v0...v7.
// Behaviour (Kafka's ZooKeeper mode): only the controller answers; other brokers reply NOT_CONTROLLER so clients
// go to Metadata's controller id. Each topic is validated (name, partitions, replication factor against the live
// brokers, explicit assignments) and written as `kafka-topics.sh --zookeeper` writes it; -1 partitions or
// replication factor mean num.partitions and default.replication.factor. The request then waits, up to
// timeout_ms, for the new partitions to get leaders; a timeout of 0 or less answers at once with
// REQUEST_TIMED_OUT for the topics written. validate_only checks without writing.
// Topic configs are validated as AlterConfigs validates them (INVALID_CONFIG) and stored in /config/topics/<t>.
struct CreateTopicsHandler: KafkaRequestHandler {
    typealias Request = CreateTopicsRequest
    static let versions: ClosedRange<Int16> = 0...7

    let controller: Controller
    let cache: MetadataCache
    let admin: TopicAdmin
    let config: BrokerConfig

    func handle(_ request: CreateTopicsRequest, context: RequestContext) async throws -> CreateTopicsResponse? {
        var response = CreateTopicsResponse()
        let isController = await self.controller.isActive
        var written: [String] = []
        var liveBrokers: [ReplicaAssignment.Broker]?  // read once per request, when a topic first needs it
        for topic in request.topics {
            var result = CreateTopicsResponse.CreatableTopicResult(name: topic.name, errorMessage: nil)
            guard isController else {
                result.errorCode = ErrorCode.notController.rawValue
                response.topics.append(result)
                continue
            }
            let explicit = topic.assignments.isEmpty ? nil : Dictionary(
                topic.assignments.map { ($0.partitionIndex, $0.brokerIds) }, uniquingKeysWith: { first, _ in first })
            let partitions = topic.numPartitions == -1 ? Int(self.config.numPartitions) : Int(topic.numPartitions)
            let replicationFactor = topic.replicationFactor == -1 ? Int(self.config.defaultReplicationFactor) : Int(topic.replicationFactor)
            let configs = Dictionary(topic.configs.compactMap { config in config.value.map { (config.name, $0) } }, uniquingKeysWith: { _, last in last })
            do {
                try TopicConfigs.validate(configs, topic: topic.name)
            } catch {
                result.errorCode = ErrorCode.invalidConfig.rawValue
                if context.version >= 1 { result.errorMessage = error.message }
                response.topics.append(result)
                continue
            }
            do {
                if liveBrokers == nil { liveBrokers = try await self.admin.liveBrokers() }
                let assignment = try await self.admin.create(
                    name: topic.name, partitions: partitions, replicationFactor: replicationFactor, brokers: liveBrokers ?? [],
                    assignment: explicit, config: configs, validateOnly: request.validateOnly)
                result.numPartitions = Int32(assignment.count)
                result.replicationFactor = Int16(assignment.values.first?.count ?? 0)
                if !request.validateOnly { written.append(topic.name) }
            } catch let failure as TopicAdmin.Failure {
                result.errorCode = failure.code.rawValue
                if context.version >= 1 { result.errorMessage = failure.message }
            } catch {
                // ZooKeeper out of reach past the connection timeout: this topic fails, the request is answered.
                result.errorCode = ErrorCode.unknownServerError.rawValue
                if context.version >= 1 { result.errorMessage = "\(error)" }
            }
            response.topics.append(result)
        }
        if !written.isEmpty {
            var ready = false
            if request.timeoutMs > 0 {
                ready = await self.cache.waitForLeaders(of: written, timeout: .milliseconds(Int64(request.timeoutMs)))
            }
            if !ready {
                for index in response.topics.indices where written.contains(response.topics[index].name) {
                    response.topics[index].errorCode = ErrorCode.requestTimedOut.rawValue
                }
            }
        }
        return response
    }
}

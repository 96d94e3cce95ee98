import Controller
import Coordination
import KafkaModel
import KafkaProtocol

// CreatePartitions (API key 37). Supported: v0...v3.
// Behaviour (Kafka's ZooKeeper mode): only the controller answers (others: NOT_CONTROLLER). Each topic grows to
// `count` partitions as `kafka-topics.sh --zookeeper --alter --partitions` does it: the new partitions' replicas
// are given or placed by Kafka's rule continuing from partition 0's leader, and /brokers/topics/<t> is rewritten
// with all partitions; the controller elects their leaders. The request waits, up to timeout_ms, for the new
// partitions to have leaders, else REQUEST_TIMED_OUT. Errors: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS
// (not larger than now), INVALID_REPLICA_ASSIGNMENT, INVALID_REPLICATION_FACTOR, INVALID_TOPIC_EXCEPTION (marked
// for deletion), INVALID_REQUEST (a topic listed twice). validate_only checks without writing.
struct CreatePartitionsHandler: KafkaRequestHandler {
    typealias Request = CreatePartitionsRequest
    static let versions: ClosedRange<Int16> = 0...3

    let controller: Controller
    let cache: MetadataCache
    let admin: TopicAdmin

    func handle(_ request: CreatePartitionsRequest, context: RequestContext) async throws -> CreatePartitionsResponse? {
        let isController = await self.controller.isActive
        let duplicates = Dictionary(grouping: request.topics, by: \.name).filter { $0.value.count > 1 }.keys
        var response = CreatePartitionsResponse()
        var grown: [String: Int] = [:]
        var liveBrokers: [ReplicaAssignment.Broker]?  // read once per request, when a topic first needs it
        for topic in request.topics {
            var result = CreatePartitionsResponse.CreatePartitionsTopicResult(name: topic.name)
            func fail(_ code: ErrorCode, _ message: String?) {
                result.errorCode = code.rawValue
                result.errorMessage = message
            }
            if duplicates.contains(topic.name) {
                fail(.invalidRequest, "Duplicate topic in request.")
            } else if !isController {
                fail(.notController, nil)
            } else {
                do {
                    let assignment = topic.assignments.flatMap { $0.isEmpty ? nil : $0.map(\.brokerIds) }
                    if liveBrokers == nil { liveBrokers = try await self.admin.liveBrokers() }
                    try await self.admin.addPartitions(
                        topic.name, count: Int(topic.count), assignment: assignment, brokers: liveBrokers ?? [], validateOnly: request.validateOnly)
                    if !request.validateOnly { grown[topic.name] = Int(topic.count) }
                } catch let failure as TopicAdmin.Failure {
                    fail(failure.code, failure.message)
                } catch {
                    fail(.unknownServerError, "\(error)")
                }
            }
            response.results.append(result)
        }
        if !grown.isEmpty {
            var ready = false
            if request.timeoutMs > 0 {
                ready = await self.cache.waitForLeaders(
                    of: Array(grown.keys), partitionCounts: grown, timeout: .milliseconds(Int64(request.timeoutMs)))
            }
            if !ready {
                for index in response.results.indices where grown[response.results[index].name] != nil {
                    response.results[index].errorCode = ErrorCode.requestTimedOut.rawValue
                }
            }
        }
        return response
    }
}

import Controller
import KafkaModel
import KafkaProtocol

// ElectLeaders (API key 43). Supported: v0...v2.
// Behaviour (Kafka's ZooKeeper mode): only the active controller answers (others: NOT_CONTROLLER for the
// request). Preferred elections (type 0, and every v0 request) move leadership back to the first replica if it
// is alive and in sync, else PREFERRED_LEADER_NOT_AVAILABLE; ELECTION_NOT_NEEDED when it already leads. Unclean
// elections (type 1) give an offline partition a live replica, else ELIGIBLE_LEADERS_NOT_AVAILABLE. A null list
// of partitions means all of them.
struct ElectLeadersHandler: KafkaRequestHandler {
    typealias Request = ElectLeadersRequest
    static let versions: ClosedRange<Int16> = 0...2

    let controller: Controller

    func handle(_ request: ElectLeadersRequest, context: RequestContext) async throws -> ElectLeadersResponse? {
        var response = ElectLeadersResponse()
        guard let type = Controller.ElectionType(rawValue: context.version == 0 ? 0 : request.electionType) else {
            response.errorCode = ErrorCode.invalidRequest.rawValue
            return response
        }
        let partitions = request.topicPartitions.map { topics in topics.flatMap { topic in topic.partitions.map { TopicPartition(topic.topic, $0) } } }
        let results: [TopicPartition: ErrorCode]
        do {
            results = try await self.controller.elect(type, partitions: partitions)
        } catch {
            response.errorCode = ErrorCode.notController.rawValue
            if context.version == 0 {
                // v0 has no top-level error: every partition carries it.
                results = Dictionary(uniqueKeysWithValues: (partitions ?? []).map { ($0, ErrorCode.notController) })
            } else {
                return response
            }
        }
        for (topic, entries) in Dictionary(grouping: results, by: \.key.topic).sorted(by: { $0.key < $1.key }) {
            response.replicaElectionResults.append(.init(topic: topic, partitionResult: entries.sorted { $0.key < $1.key }.map { entry in
                .init(partitionId: entry.key.partition, errorCode: entry.value.rawValue, errorMessage: entry.value == .none ? nil : "\(entry.value)")
            }))
        }
        return response
    }
}

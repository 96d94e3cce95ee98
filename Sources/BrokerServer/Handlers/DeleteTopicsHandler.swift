import Controller
import Coordination
import KafkaModel
import KafkaProtocol

// DeleteTopics (API key 20). Supported: v0...v6.
// Behaviour (Kafka's ZooKeeper mode): only the controller answers (others: NOT_CONTROLLER). Each topic, named or
// (v6) given by topic id, is marked under /admin/delete_topics as `kafka-topics.sh --zookeeper --delete` marks
// it; the controller deletes it and every broker deletes its replicas. The request waits, up to timeout_ms, until
// this broker's metadata no longer holds the topics, else REQUEST_TIMED_OUT. With delete.topic.enable=false every
// topic gets TOPIC_DELETION_DISABLED (INVALID_REQUEST before v3); an unknown name UNKNOWN_TOPIC_OR_PARTITION, an unknown id UNKNOWN_TOPIC_ID,
// both a name and an id INVALID_REQUEST.
struct DeleteTopicsHandler: KafkaRequestHandler {
    typealias Request = DeleteTopicsRequest
    static let versions: ClosedRange<Int16> = 0...6

    let controller: Controller
    let cache: MetadataCache
    let admin: TopicAdmin
    let deleteTopicEnable: Bool

    func handle(_ request: DeleteTopicsRequest, context: RequestContext) async throws -> DeleteTopicsResponse? {
        // Up to v5 topics come as names; v6 as (name or id) states.
        let requested = context.version >= 6
            ? request.topics.map { (name: $0.name, id: $0.topicId) }
            : request.topicNames.map { (name: Optional($0), id: KafkaUUID.zero) }
        let isController = await self.controller.isActive
        let topics = await self.cache.topics
        var response = DeleteTopicsResponse()
        var marked: [String] = []
        for topic in requested {
            var result = DeleteTopicsResponse.DeletableTopicResult(name: topic.name, topicId: topic.id)
            func fail(_ code: ErrorCode, _ message: String? = nil) {
                result.errorCode = code.rawValue
                if context.version >= 5 { result.errorMessage = message }
            }
            let name: String?
            if topic.name != nil && topic.id != .zero {
                name = nil
                fail(.invalidRequest, "You may not specify both topic name and topic id.")
            } else if topic.id != .zero {
                name = topics.values.first { $0.assignment.topicId == topic.id.description }?.name
                if let name { result.name = name } else { fail(.unknownTopicId) }
            } else {
                name = topic.name
            }
            if let name, result.errorCode == 0 {
                if !isController {
                    fail(.notController)
                } else if !self.deleteTopicEnable {
                    // Before v3 clients did not know TOPIC_DELETION_DISABLED.
                    fail(context.version >= 3 ? .topicDeletionDisabled : .invalidRequest, "Topic deletion is disabled.")
                } else {
                    do {
                        try await self.admin.markForDeletion(name)
                        marked.append(name)
                        if context.version >= 6 { result.topicId = topics[name].flatMap { $0.assignment.topicId.flatMap(KafkaUUID.init(string:)) } ?? .zero }
                    } catch let failure as TopicAdmin.Failure {
                        fail(failure.code, failure.message)
                    } catch {
                        fail(.unknownServerError, "\(error)")
                    }
                }
            }
            response.responses.append(result)
        }
        if !marked.isEmpty {
            let gone = request.timeoutMs > 0
                ? await self.cache.waitForTopicsGone(marked, timeout: .milliseconds(Int64(request.timeoutMs)))
                : []
            for index in response.responses.indices {
                if let name = response.responses[index].name, marked.contains(name), !gone.contains(name) {
                    response.responses[index].errorCode = ErrorCode.requestTimedOut.rawValue
                }
            }
        }
        return response
    }
}

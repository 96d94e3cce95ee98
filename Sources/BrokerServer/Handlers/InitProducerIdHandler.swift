import Coordination
import KafkaModel
import KafkaProtocol

// InitProducerId (API key 22). Supported: v0...v4.
// Behaviour: an idempotent producer (no transactional id) gets a new producer id, unique in the cluster (blocks
// reserved in /latest_producer_id_block), with epoch 0, as Kafka does for non-transactional producers.
// Deviation: transactions are not supported yet; a transactional id gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
struct InitProducerIdHandler: KafkaRequestHandler {
    typealias Request = InitProducerIdRequest
    static let versions: ClosedRange<Int16> = 0...4

    let producerIds: ProducerIdManager

    func handle(_ request: InitProducerIdRequest, context: RequestContext) async throws -> InitProducerIdResponse? {
        guard request.transactionalId == nil else {
            return InitProducerIdResponse(errorCode: ErrorCode.transactionalIdAuthorizationFailed.rawValue, producerId: -1, producerEpoch: -1)
        }
        do {
            return InitProducerIdResponse(producerId: try await self.producerIds.nextProducerId(), producerEpoch: 0)
        } catch {
            return InitProducerIdResponse(errorCode: ErrorCode.coordinatorNotAvailable.rawValue, producerId: -1, producerEpoch: -1)
        }
    }
}

import Controller
import KafkaModel
import KafkaProtocol

// ControlledShutdown (API key 7). Supported: v0...v3.
// Behaviour (Kafka's ZooKeeper mode): only the active controller answers (others: NOT_CONTROLLER). The stopping
// broker's leaderships move to other live ISR members and it leaves the ISRs (Controller.controlledShutdown);
// partitions no other ISR member can lead are listed as remaining, and the broker asks again. A broker that is not
// registered gets BROKER_NOT_AVAILABLE; a broker epoch (v2+) older than the registration's czxid, STALE_BROKER_EPOCH.
struct ControlledShutdownHandler: KafkaRequestHandler {
    typealias Request = ControlledShutdownRequest
    static let versions: ClosedRange<Int16> = 0...3

    let controller: Controller

    func handle(_ request: ControlledShutdownRequest, context: RequestContext) async throws -> ControlledShutdownResponse? {
        var response = ControlledShutdownResponse()
        do {
            response.remainingPartitions = try await self.controller.controlledShutdown(of: request.brokerId, brokerEpoch: request.brokerEpoch).map {
                .init(topicName: $0.topic, partitionIndex: $0.partition)
            }
        } catch ControllerError.notController {
            response.errorCode = ErrorCode.notController.rawValue
        } catch ControllerError.brokerNotAvailable {
            response.errorCode = ErrorCode.brokerNotAvailable.rawValue
        } catch ControllerError.staleBrokerEpoch {
            response.errorCode = ErrorCode.staleBrokerEpoch.rawValue
        } catch {
            response.errorCode = ErrorCode.unknownServerError.rawValue
        }
        return response
    }
}

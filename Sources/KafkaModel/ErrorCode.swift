/// A Kafka protocol error code, as carried in responses: Apache Kafka 3.7's `Errors` table with each
/// code's name, number and whether clients retry it.
///
/// A struct rather than a closed enum so that codes from newer brokers survive a decode; every known code is a
/// static member, so `switch` and `==` read like an enum (`case .notLeaderOrFollower:`).
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int16

    public init(rawValue: Int16) {
        self.rawValue = rawValue
    }

    /// Kafka's name for the code (`NOT_LEADER_OR_FOLLOWER`), or `UNKNOWN(<n>)` for a code not in the table.
    public var name: String { Self.table[self.rawValue]?.name ?? "UNKNOWN(\(self.rawValue))" }

    /// True if the Java client retries after this error (its exception derives from `RetriableException`).
    public var isRetriable: Bool { Self.table[self.rawValue]?.retriable ?? false }

    /// True if clients refresh their metadata after this error (`InvalidMetadataException`).
    public var invalidatesMetadata: Bool { Self.table[self.rawValue]?.invalidMetadata ?? false }

    /// Kafka's default message for the code.
    public var message: String { Self.table[self.rawValue]?.message ?? "Unknown error code \(self.rawValue)" }

    public var description: String { "\(self.name)(\(self.rawValue))" }

    public static let unknownServerError = ErrorCode(rawValue: -1)
    public static let `none` = ErrorCode(rawValue: 0)
    public static let offsetOutOfRange = ErrorCode(rawValue: 1)
    public static let corruptMessage = ErrorCode(rawValue: 2)
    public static let unknownTopicOrPartition = ErrorCode(rawValue: 3)
    public static let invalidFetchSize = ErrorCode(rawValue: 4)
    public static let leaderNotAvailable = ErrorCode(rawValue: 5)
    public static let notLeaderOrFollower = ErrorCode(rawValue: 6)
    public static let requestTimedOut = ErrorCode(rawValue: 7)
    public static let brokerNotAvailable = ErrorCode(rawValue: 8)
    public static let replicaNotAvailable = ErrorCode(rawValue: 9)
    public static let messageTooLarge = ErrorCode(rawValue: 10)
    public static let staleControllerEpoch = ErrorCode(rawValue: 11)
    public static let offsetMetadataTooLarge = ErrorCode(rawValue: 12)
    public static let networkException = ErrorCode(rawValue: 13)
    public static let coordinatorLoadInProgress = ErrorCode(rawValue: 14)
    public static let coordinatorNotAvailable = ErrorCode(rawValue: 15)
    public static let notCoordinator = ErrorCode(rawValue: 16)
    public static let invalidTopicException = ErrorCode(rawValue: 17)
    public static let recordListTooLarge = ErrorCode(rawValue: 18)
    public static let notEnoughReplicas = ErrorCode(rawValue: 19)
    public static let notEnoughReplicasAfterAppend = ErrorCode(rawValue: 20)
    public static let invalidRequiredAcks = ErrorCode(rawValue: 21)
    public static let illegalGeneration = ErrorCode(rawValue: 22)
    public static let inconsistentGroupProtocol = ErrorCode(rawValue: 23)
    public static let invalidGroupId = ErrorCode(rawValue: 24)
    public static let unknownMemberId = ErrorCode(rawValue: 25)
    public static let invalidSessionTimeout = ErrorCode(rawValue: 26)
    public static let rebalanceInProgress = ErrorCode(rawValue: 27)
    public static let invalidCommitOffsetSize = ErrorCode(rawValue: 28)
    public static let topicAuthorizationFailed = ErrorCode(rawValue: 29)
    public static let groupAuthorizationFailed = ErrorCode(rawValue: 30)
    public static let clusterAuthorizationFailed = ErrorCode(rawValue: 31)
    public static let invalidTimestamp = ErrorCode(rawValue: 32)
    public static let unsupportedSaslMechanism = ErrorCode(rawValue: 33)
    public static let illegalSaslState = ErrorCode(rawValue: 34)
    public static let unsupportedVersion = ErrorCode(rawValue: 35)
    public static let topicAlreadyExists = ErrorCode(rawValue: 36)
    public static let invalidPartitions = ErrorCode(rawValue: 37)
    public static let invalidReplicationFactor = ErrorCode(rawValue: 38)
    public static let invalidReplicaAssignment = ErrorCode(rawValue: 39)
    public static let invalidConfig = ErrorCode(rawValue: 40)
    public static let notController = ErrorCode(rawValue: 41)
    public static let invalidRequest = ErrorCode(rawValue: 42)
    public static let unsupportedForMessageFormat = ErrorCode(rawValue: 43)
    public static let policyViolation = ErrorCode(rawValue: 44)
    public static let outOfOrderSequenceNumber = ErrorCode(rawValue: 45)
    public static let duplicateSequenceNumber = ErrorCode(rawValue: 46)
    public static let invalidProducerEpoch = ErrorCode(rawValue: 47)
    public static let invalidTxnState = ErrorCode(rawValue: 48)
    public static let invalidProducerIdMapping = ErrorCode(rawValue: 49)
    public static let invalidTransactionTimeout = ErrorCode(rawValue: 50)
    public static let concurrentTransactions = ErrorCode(rawValue: 51)
    public static let transactionCoordinatorFenced = ErrorCode(rawValue: 52)
    public static let transactionalIdAuthorizationFailed = ErrorCode(rawValue: 53)
    public static let securityDisabled = ErrorCode(rawValue: 54)
    public static let operationNotAttempted = ErrorCode(rawValue: 55)
    public static let kafkaStorageError = ErrorCode(rawValue: 56)
    public static let logDirNotFound = ErrorCode(rawValue: 57)
    public static let saslAuthenticationFailed = ErrorCode(rawValue: 58)
    public static let unknownProducerId = ErrorCode(rawValue: 59)
    public static let reassignmentInProgress = ErrorCode(rawValue: 60)
    public static let delegationTokenAuthDisabled = ErrorCode(rawValue: 61)
    public static let delegationTokenNotFound = ErrorCode(rawValue: 62)
    public static let delegationTokenOwnerMismatch = ErrorCode(rawValue: 63)
    public static let delegationTokenRequestNotAllowed = ErrorCode(rawValue: 64)
    public static let delegationTokenAuthorizationFailed = ErrorCode(rawValue: 65)
    public static let delegationTokenExpired = ErrorCode(rawValue: 66)
    public static let invalidPrincipalType = ErrorCode(rawValue: 67)
    public static let nonEmptyGroup = ErrorCode(rawValue: 68)
    public static let groupIdNotFound = ErrorCode(rawValue: 69)
    public static let fetchSessionIdNotFound = ErrorCode(rawValue: 70)
    public static let invalidFetchSessionEpoch = ErrorCode(rawValue: 71)
    public static let listenerNotFound = ErrorCode(rawValue: 72)
    public static let topicDeletionDisabled = ErrorCode(rawValue: 73)
    public static let fencedLeaderEpoch = ErrorCode(rawValue: 74)
    public static let unknownLeaderEpoch = ErrorCode(rawValue: 75)
    public static let unsupportedCompressionType = ErrorCode(rawValue: 76)
    public static let staleBrokerEpoch = ErrorCode(rawValue: 77)
    public static let offsetNotAvailable = ErrorCode(rawValue: 78)
    public static let memberIdRequired = ErrorCode(rawValue: 79)
    public static let preferredLeaderNotAvailable = ErrorCode(rawValue: 80)
    public static let groupMaxSizeReached = ErrorCode(rawValue: 81)
    public static let fencedInstanceId = ErrorCode(rawValue: 82)
    public static let eligibleLeadersNotAvailable = ErrorCode(rawValue: 83)
    public static let electionNotNeeded = ErrorCode(rawValue: 84)
    public static let noReassignmentInProgress = ErrorCode(rawValue: 85)
    public static let groupSubscribedToTopic = ErrorCode(rawValue: 86)
    public static let invalidRecord = ErrorCode(rawValue: 87)
    public static let unstableOffsetCommit = ErrorCode(rawValue: 88)
    public static let throttlingQuotaExceeded = ErrorCode(rawValue: 89)
    public static let producerFenced = ErrorCode(rawValue: 90)
    public static let resourceNotFound = ErrorCode(rawValue: 91)
    public static let duplicateResource = ErrorCode(rawValue: 92)
    public static let unacceptableCredential = ErrorCode(rawValue: 93)
    public static let inconsistentVoterSet = ErrorCode(rawValue: 94)
    public static let invalidUpdateVersion = ErrorCode(rawValue: 95)
    public static let featureUpdateFailed = ErrorCode(rawValue: 96)
    public static let principalDeserializationFailure = ErrorCode(rawValue: 97)
    public static let snapshotNotFound = ErrorCode(rawValue: 98)
    public static let positionOutOfRange = ErrorCode(rawValue: 99)
    public static let unknownTopicId = ErrorCode(rawValue: 100)
    public static let duplicateBrokerRegistration = ErrorCode(rawValue: 101)
    public static let brokerIdNotRegistered = ErrorCode(rawValue: 102)
    public static let inconsistentTopicId = ErrorCode(rawValue: 103)
    public static let inconsistentClusterId = ErrorCode(rawValue: 104)
    public static let transactionalIdNotFound = ErrorCode(rawValue: 105)
    public static let fetchSessionTopicIdError = ErrorCode(rawValue: 106)
    public static let ineligibleReplica = ErrorCode(rawValue: 107)
    public static let newLeaderElected = ErrorCode(rawValue: 108)
    public static let offsetMovedToTieredStorage = ErrorCode(rawValue: 109)
    public static let fencedMemberEpoch = ErrorCode(rawValue: 110)
    public static let unreleasedInstanceId = ErrorCode(rawValue: 111)
    public static let unsupportedAssignor = ErrorCode(rawValue: 112)
    public static let staleMemberEpoch = ErrorCode(rawValue: 113)
    public static let mismatchedEndpointType = ErrorCode(rawValue: 114)
    public static let unsupportedEndpointType = ErrorCode(rawValue: 115)
    public static let unknownControllerId = ErrorCode(rawValue: 116)
    public static let unknownSubscriptionId = ErrorCode(rawValue: 117)
    public static let telemetryTooLarge = ErrorCode(rawValue: 118)
    public static let invalidRegistration = ErrorCode(rawValue: 119)

    private struct Entry: Sendable {
        var name: String
        var retriable: Bool
        var invalidMetadata: Bool
        var message: String
    }

    private static let table: [Int16: Entry] = [
        -1: Entry(name: "UNKNOWN_SERVER_ERROR", retriable: false, invalidMetadata: false, message: "The server experienced an unexpected error when processing the request."),
        0: Entry(name: "NONE", retriable: false, invalidMetadata: false, message: ""),
        1: Entry(name: "OFFSET_OUT_OF_RANGE", retriable: false, invalidMetadata: false, message: "The requested offset is not within the range of offsets maintained by the server."),
        2: Entry(name: "CORRUPT_MESSAGE", retriable: true, invalidMetadata: false, message: "This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt."),
        3: Entry(name: "UNKNOWN_TOPIC_OR_PARTITION", retriable: true, invalidMetadata: true, message: "This server does not host this topic-partition."),
        4: Entry(name: "INVALID_FETCH_SIZE", retriable: false, invalidMetadata: false, message: "The requested fetch size is invalid."),
        5: Entry(name: "LEADER_NOT_AVAILABLE", retriable: true, invalidMetadata: true, message: "There is no leader for this topic-partition as we are in the middle of a leadership election."),
        6: Entry(name: "NOT_LEADER_OR_FOLLOWER", retriable: true, invalidMetadata: true, message: "For requests intended only for the leader, this error indicates that the broker is not the current leader. For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition."),
        7: Entry(name: "REQUEST_TIMED_OUT", retriable: true, invalidMetadata: false, message: "The request timed out."),
        8: Entry(name: "BROKER_NOT_AVAILABLE", retriable: false, invalidMetadata: false, message: "The broker is not available."),
        9: Entry(name: "REPLICA_NOT_AVAILABLE", retriable: true, invalidMetadata: true, message: "The replica is not available for the requested topic-partition. Produce/Fetch requests and other requests intended only for the leader or follower return NOT_LEADER_OR_FOLLOWER if the broker is not a replica of the topic-partition."),
        10: Entry(name: "MESSAGE_TOO_LARGE", retriable: false, invalidMetadata: false, message: "The request included a message larger than the max message size the server will accept."),
        11: Entry(name: "STALE_CONTROLLER_EPOCH", retriable: false, invalidMetadata: false, message: "The controller moved to another broker."),
        12: Entry(name: "OFFSET_METADATA_TOO_LARGE", retriable: false, invalidMetadata: false, message: "The metadata field of the offset request was too large."),
        13: Entry(name: "NETWORK_EXCEPTION", retriable: true, invalidMetadata: true, message: "The server disconnected before a response was received."),
        14: Entry(name: "COORDINATOR_LOAD_IN_PROGRESS", retriable: true, invalidMetadata: false, message: "The coordinator is loading and hence can't process requests."),
        15: Entry(name: "COORDINATOR_NOT_AVAILABLE", retriable: true, invalidMetadata: false, message: "The coordinator is not available."),
        16: Entry(name: "NOT_COORDINATOR", retriable: true, invalidMetadata: false, message: "This is not the correct coordinator."),
        17: Entry(name: "INVALID_TOPIC_EXCEPTION", retriable: false, invalidMetadata: false, message: "The request attempted to perform an operation on an invalid topic."),
        18: Entry(name: "RECORD_LIST_TOO_LARGE", retriable: false, invalidMetadata: false, message: "The request included message batch larger than the configured segment size on the server."),
        19: Entry(name: "NOT_ENOUGH_REPLICAS", retriable: true, invalidMetadata: false, message: "Messages are rejected since there are fewer in-sync replicas than required."),
        20: Entry(name: "NOT_ENOUGH_REPLICAS_AFTER_APPEND", retriable: true, invalidMetadata: false, message: "Messages are written to the log, but to fewer in-sync replicas than required."),
        21: Entry(name: "INVALID_REQUIRED_ACKS", retriable: false, invalidMetadata: false, message: "Produce request specified an invalid value for required acks."),
        22: Entry(name: "ILLEGAL_GENERATION", retriable: false, invalidMetadata: false, message: "Specified group generation id is not valid."),
        23: Entry(name: "INCONSISTENT_GROUP_PROTOCOL", retriable: false, invalidMetadata: false, message: "The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list."),
        24: Entry(name: "INVALID_GROUP_ID", retriable: false, invalidMetadata: false, message: "The configured groupId is invalid."),
        25: Entry(name: "UNKNOWN_MEMBER_ID", retriable: false, invalidMetadata: false, message: "The coordinator is not aware of this member."),
        26: Entry(name: "INVALID_SESSION_TIMEOUT", retriable: false, invalidMetadata: false, message: "The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms)."),
        27: Entry(name: "REBALANCE_IN_PROGRESS", retriable: false, invalidMetadata: false, message: "The group is rebalancing, so a rejoin is needed."),
        28: Entry(name: "INVALID_COMMIT_OFFSET_SIZE", retriable: false, invalidMetadata: false, message: "The committing offset data size is not valid."),
        29: Entry(name: "TOPIC_AUTHORIZATION_FAILED", retriable: false, invalidMetadata: false, message: "Topic authorization failed."),
        30: Entry(name: "GROUP_AUTHORIZATION_FAILED", retriable: false, invalidMetadata: false, message: "Group authorization failed."),
        31: Entry(name: "CLUSTER_AUTHORIZATION_FAILED", retriable: false, invalidMetadata: false, message: "Cluster authorization failed."),
        32: Entry(name: "INVALID_TIMESTAMP", retriable: false, invalidMetadata: false, message: "The timestamp of the message is out of acceptable range."),
        33: Entry(name: "UNSUPPORTED_SASL_MECHANISM", retriable: false, invalidMetadata: false, message: "The broker does not support the requested SASL mechanism."),
        34: Entry(name: "ILLEGAL_SASL_STATE", retriable: false, invalidMetadata: false, message: "Request is not valid given the current SASL state."),
        35: Entry(name: "UNSUPPORTED_VERSION", retriable: false, invalidMetadata: false, message: "The version of API is not supported."),
        36: Entry(name: "TOPIC_ALREADY_EXISTS", retriable: false, invalidMetadata: false, message: "Topic with this name already exists."),
        37: Entry(name: "INVALID_PARTITIONS", retriable: false, invalidMetadata: false, message: "Number of partitions is below 1."),
        38: Entry(name: "INVALID_REPLICATION_FACTOR", retriable: false, invalidMetadata: false, message: "Replication factor is below 1 or larger than the number of available brokers."),
        39: Entry(name: "INVALID_REPLICA_ASSIGNMENT", retriable: false, invalidMetadata: false, message: "Replica assignment is invalid."),
        40: Entry(name: "INVALID_CONFIG", retriable: false, invalidMetadata: false, message: "Configuration is invalid."),
        41: Entry(name: "NOT_CONTROLLER", retriable: true, invalidMetadata: false, message: "This is not the correct controller for this cluster."),
        42: Entry(name: "INVALID_REQUEST", retriable: false, invalidMetadata: false, message: "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details."),
        43: Entry(name: "UNSUPPORTED_FOR_MESSAGE_FORMAT", retriable: false, invalidMetadata: false, message: "The message format version on the broker does not support the request."),
        44: Entry(name: "POLICY_VIOLATION", retriable: false, invalidMetadata: false, message: "Request parameters do not satisfy the configured policy."),
        45: Entry(name: "OUT_OF_ORDER_SEQUENCE_NUMBER", retriable: false, invalidMetadata: false, message: "The broker received an out of order sequence number."),
        46: Entry(name: "DUPLICATE_SEQUENCE_NUMBER", retriable: false, invalidMetadata: false, message: "The broker received a duplicate sequence number."),
        47: Entry(name: "INVALID_PRODUCER_EPOCH", retriable: false, invalidMetadata: false, message: "Producer attempted to produce with an old epoch."),
        48: Entry(name: "INVALID_TXN_STATE", retriable: false, invalidMetadata: false, message: "The producer attempted a transactional operation in an invalid state."),
        49: Entry(name: "INVALID_PRODUCER_ID_MAPPING", retriable: false, invalidMetadata: false, message: "The producer attempted to use a producer id which is not currently assigned to its transactional id."),
        50: Entry(name: "INVALID_TRANSACTION_TIMEOUT", retriable: false, invalidMetadata: false, message: "The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms)."),
        51: Entry(name: "CONCURRENT_TRANSACTIONS", retriable: true, invalidMetadata: false, message: "The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing."),
        52: Entry(name: "TRANSACTION_COORDINATOR_FENCED", retriable: false, invalidMetadata: false, message: "Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer."),
        53: Entry(name: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", retriable: false, invalidMetadata: false, message: "Transactional Id authorization failed."),
        54: Entry(name: "SECURITY_DISABLED", retriable: false, invalidMetadata: false, message: "Security features are disabled."),
        55: Entry(name: "OPERATION_NOT_ATTEMPTED", retriable: false, invalidMetadata: false, message: "The broker did not attempt to execute this operation. This may happen for batched RPCs where some operations in the batch failed, causing the broker to respond without trying the rest."),
        56: Entry(name: "KAFKA_STORAGE_ERROR", retriable: true, invalidMetadata: true, message: "Disk error when trying to access log file on the disk."),
        57: Entry(name: "LOG_DIR_NOT_FOUND", retriable: false, invalidMetadata: false, message: "The user-specified log directory is not found in the broker config."),
        58: Entry(name: "SASL_AUTHENTICATION_FAILED", retriable: false, invalidMetadata: false, message: "SASL Authentication failed."),
        59: Entry(name: "UNKNOWN_PRODUCER_ID", retriable: false, invalidMetadata: false, message: "This exception is raised by the broker if it could not locate the producer metadata associated with the producerId in question. This could happen if, for instance, the producer's records were deleted because their retention time had elapsed. Once the last records of the producerId are removed, the producer's metadata is removed from the broker, and future appends by the producer will return this exception."),
        60: Entry(name: "REASSIGNMENT_IN_PROGRESS", retriable: false, invalidMetadata: false, message: "A partition reassignment is in progress."),
        61: Entry(name: "DELEGATION_TOKEN_AUTH_DISABLED", retriable: false, invalidMetadata: false, message: "Delegation Token feature is not enabled."),
        62: Entry(name: "DELEGATION_TOKEN_NOT_FOUND", retriable: false, invalidMetadata: false, message: "Delegation Token is not found on server."),
        63: Entry(name: "DELEGATION_TOKEN_OWNER_MISMATCH", retriable: false, invalidMetadata: false, message: "Specified Principal is not valid Owner/Renewer."),
        64: Entry(name: "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", retriable: false, invalidMetadata: false, message: "Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on delegation token authenticated channels."),
        65: Entry(name: "DELEGATION_TOKEN_AUTHORIZATION_FAILED", retriable: false, invalidMetadata: false, message: "Delegation Token authorization failed."),
        66: Entry(name: "DELEGATION_TOKEN_EXPIRED", retriable: false, invalidMetadata: false, message: "Delegation Token is expired."),
        67: Entry(name: "INVALID_PRINCIPAL_TYPE", retriable: false, invalidMetadata: false, message: "Supplied principalType is not supported."),
        68: Entry(name: "NON_EMPTY_GROUP", retriable: false, invalidMetadata: false, message: "The group is not empty."),
        69: Entry(name: "GROUP_ID_NOT_FOUND", retriable: false, invalidMetadata: false, message: "The group id does not exist."),
        70: Entry(name: "FETCH_SESSION_ID_NOT_FOUND", retriable: true, invalidMetadata: false, message: "The fetch session ID was not found."),
        71: Entry(name: "INVALID_FETCH_SESSION_EPOCH", retriable: true, invalidMetadata: false, message: "The fetch session epoch is invalid."),
        72: Entry(name: "LISTENER_NOT_FOUND", retriable: true, invalidMetadata: true, message: "There is no listener on the leader broker that matches the listener on which metadata request was processed."),
        73: Entry(name: "TOPIC_DELETION_DISABLED", retriable: false, invalidMetadata: false, message: "Topic deletion is disabled."),
        74: Entry(name: "FENCED_LEADER_EPOCH", retriable: true, invalidMetadata: true, message: "The leader epoch in the request is older than the epoch on the broker."),
        75: Entry(name: "UNKNOWN_LEADER_EPOCH", retriable: true, invalidMetadata: false, message: "The leader epoch in the request is newer than the epoch on the broker."),
        76: Entry(name: "UNSUPPORTED_COMPRESSION_TYPE", retriable: false, invalidMetadata: false, message: "The requesting client does not support the compression type of given partition."),
        77: Entry(name: "STALE_BROKER_EPOCH", retriable: false, invalidMetadata: false, message: "Broker epoch has changed."),
        78: Entry(name: "OFFSET_NOT_AVAILABLE", retriable: true, invalidMetadata: false, message: "The leader high watermark has not caught up from a recent leader election so the offsets cannot be guaranteed to be monotonically increasing."),
        79: Entry(name: "MEMBER_ID_REQUIRED", retriable: false, invalidMetadata: false, message: "The group member needs to have a valid member id before actually entering a consumer group."),
        80: Entry(name: "PREFERRED_LEADER_NOT_AVAILABLE", retriable: true, invalidMetadata: true, message: "The preferred leader was not available."),
        81: Entry(name: "GROUP_MAX_SIZE_REACHED", retriable: false, invalidMetadata: false, message: "The consumer group has reached its max size."),
        82: Entry(name: "FENCED_INSTANCE_ID", retriable: false, invalidMetadata: false, message: "The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id."),
        83: Entry(name: "ELIGIBLE_LEADERS_NOT_AVAILABLE", retriable: true, invalidMetadata: true, message: "Eligible topic partition leaders are not available."),
        84: Entry(name: "ELECTION_NOT_NEEDED", retriable: true, invalidMetadata: true, message: "Leader election not needed for topic partition."),
        85: Entry(name: "NO_REASSIGNMENT_IN_PROGRESS", retriable: false, invalidMetadata: false, message: "No partition reassignment is in progress."),
        86: Entry(name: "GROUP_SUBSCRIBED_TO_TOPIC", retriable: false, invalidMetadata: false, message: "Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it."),
        87: Entry(name: "INVALID_RECORD", retriable: false, invalidMetadata: false, message: "This record has failed the validation on broker and hence will be rejected."),
        88: Entry(name: "UNSTABLE_OFFSET_COMMIT", retriable: true, invalidMetadata: false, message: "There are unstable offsets that need to be cleared."),
        89: Entry(name: "THROTTLING_QUOTA_EXCEEDED", retriable: true, invalidMetadata: false, message: "The throttling quota has been exceeded."),
        90: Entry(name: "PRODUCER_FENCED", retriable: false, invalidMetadata: false, message: "There is a newer producer with the same transactionalId which fences the current one."),
        91: Entry(name: "RESOURCE_NOT_FOUND", retriable: false, invalidMetadata: false, message: "A request illegally referred to a resource that does not exist."),
        92: Entry(name: "DUPLICATE_RESOURCE", retriable: false, invalidMetadata: false, message: "A request illegally referred to the same resource twice."),
        93: Entry(name: "UNACCEPTABLE_CREDENTIAL", retriable: false, invalidMetadata: false, message: "Requested credential would not meet criteria for acceptability."),
        94: Entry(name: "INCONSISTENT_VOTER_SET", retriable: false, invalidMetadata: false, message: "Indicates that the either the sender or recipient of a voter-only request is not one of the expected voters"),
        95: Entry(name: "INVALID_UPDATE_VERSION", retriable: false, invalidMetadata: false, message: "The given update version was invalid."),
        96: Entry(name: "FEATURE_UPDATE_FAILED", retriable: false, invalidMetadata: false, message: "Unable to update finalized features due to an unexpected server error."),
        97: Entry(name: "PRINCIPAL_DESERIALIZATION_FAILURE", retriable: false, invalidMetadata: false, message: "Request principal deserialization failed during forwarding. This indicates an internal error on the broker cluster security setup."),
        98: Entry(name: "SNAPSHOT_NOT_FOUND", retriable: false, invalidMetadata: false, message: "Requested snapshot was not found"),
        99: Entry(name: "POSITION_OUT_OF_RANGE", retriable: false, invalidMetadata: false, message: "Requested position is not greater than or equal to zero, and less than the size of the snapshot."),
        100: Entry(name: "UNKNOWN_TOPIC_ID", retriable: true, invalidMetadata: true, message: "This server does not host this topic ID."),
        101: Entry(name: "DUPLICATE_BROKER_REGISTRATION", retriable: false, invalidMetadata: false, message: "This broker ID is already in use."),
        102: Entry(name: "BROKER_ID_NOT_REGISTERED", retriable: false, invalidMetadata: false, message: "The given broker ID was not registered."),
        103: Entry(name: "INCONSISTENT_TOPIC_ID", retriable: true, invalidMetadata: true, message: "The log's topic ID did not match the topic ID in the request"),
        104: Entry(name: "INCONSISTENT_CLUSTER_ID", retriable: false, invalidMetadata: false, message: "The clusterId in the request does not match that found on the server"),
        105: Entry(name: "TRANSACTIONAL_ID_NOT_FOUND", retriable: false, invalidMetadata: false, message: "The transactionalId could not be found"),
        106: Entry(name: "FETCH_SESSION_TOPIC_ID_ERROR", retriable: true, invalidMetadata: false, message: "The fetch session encountered inconsistent topic ID usage"),
        107: Entry(name: "INELIGIBLE_REPLICA", retriable: false, invalidMetadata: false, message: "The new ISR contains at least one ineligible replica."),
        108: Entry(name: "NEW_LEADER_ELECTED", retriable: false, invalidMetadata: false, message: "The AlterPartition request successfully updated the partition state but the leader has changed."),
        109: Entry(name: "OFFSET_MOVED_TO_TIERED_STORAGE", retriable: false, invalidMetadata: false, message: "The requested offset is moved to tiered storage."),
        110: Entry(name: "FENCED_MEMBER_EPOCH", retriable: false, invalidMetadata: false, message: "The member epoch is fenced by the group coordinator. The member must abandon all its partitions and rejoin."),
        111: Entry(name: "UNRELEASED_INSTANCE_ID", retriable: false, invalidMetadata: false, message: "The instance ID is still used by another member in the consumer group. That member must leave first."),
        112: Entry(name: "UNSUPPORTED_ASSIGNOR", retriable: false, invalidMetadata: false, message: "The assignor or its version range is not supported by the consumer group."),
        113: Entry(name: "STALE_MEMBER_EPOCH", retriable: false, invalidMetadata: false, message: "The member epoch is stale. The member must retry after receiving its updated member epoch via the ConsumerGroupHeartbeat API."),
        114: Entry(name: "MISMATCHED_ENDPOINT_TYPE", retriable: false, invalidMetadata: false, message: "The request was sent to an endpoint of the wrong type."),
        115: Entry(name: "UNSUPPORTED_ENDPOINT_TYPE", retriable: false, invalidMetadata: false, message: "This endpoint type is not supported yet."),
        116: Entry(name: "UNKNOWN_CONTROLLER_ID", retriable: false, invalidMetadata: false, message: "This controller ID is not known."),
        117: Entry(name: "UNKNOWN_SUBSCRIPTION_ID", retriable: false, invalidMetadata: false, message: "Client sent a push telemetry request with an invalid or outdated subscription ID."),
        118: Entry(name: "TELEMETRY_TOO_LARGE", retriable: false, invalidMetadata: false, message: "Client sent a push telemetry request larger than the maximum size the broker will accept."),
        119: Entry(name: "INVALID_REGISTRATION", retriable: false, invalidMetadata: false, message: "The controller has considered the broker registration to be invalid."),
    ]
}

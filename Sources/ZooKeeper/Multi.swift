import CZooKeeper

/// One operation of an atomic `multi` batch.
public enum ZooKeeperOperation: Hashable, Sendable {
    case create(path: String, data: [UInt8], mode: CreateMode)
    /// Delete; `version` -1 matches any version.
    case delete(path: String, version: Int32)
    /// Set data; `version` -1 matches any version.
    case setData(path: String, data: [UInt8], version: Int32)
    /// Fails the batch unless the node's version is `version`.
    case check(path: String, version: Int32)

    public var path: String {
        switch self {
        case .create(let path, _, _), .delete(let path, _), .setData(let path, _, _), .check(let path, _): path
        }
    }
}

/// The result of one operation of a successful `multi` batch, in the order of the operations.
public enum ZooKeeperOperationResult: Hashable, Sendable {
    /// The path created (with its sequence suffix, if sequential).
    case created(path: String)
    case deleted
    case dataSet(Stat)
    case checked
}

/// The C memory of one `zoo_amulti` call. The C client reads paths and data during the call and writes the
/// results, created paths and stats later, on its completion thread; so everything lives here until the
/// completion has read it, and is freed when the request box (the only owner) goes.
///
/// `@unchecked Sendable`: the calling task writes the buffers before `zoo_amulti` returns; after that only
/// the completion thread touches them, once.
final class MultiBuffers: @unchecked Sendable {
    let operations: [ZooKeeperOperation]
    let ops: UnsafeMutablePointer<zoo_op_t>
    let resultSlots: UnsafeMutablePointer<zoo_op_result_t>
    private let stats: UnsafeMutablePointer<CZooKeeper.Stat>
    private var allocations: [UnsafeMutableRawPointer] = []
    private var pathBuffers: [Int: (UnsafeMutablePointer<CChar>, Int)] = [:]

    init(_ operations: [ZooKeeperOperation]) {
        let count = max(operations.count, 1)
        self.operations = operations
        self.ops = .allocate(capacity: count)
        self.ops.initialize(repeating: zoo_op_t(), count: count)
        self.resultSlots = .allocate(capacity: count)
        self.resultSlots.initialize(repeating: zoo_op_result_t(), count: count)
        self.stats = .allocate(capacity: count)
        self.stats.initialize(repeating: CZooKeeper.Stat(), count: count)
        for (index, operation) in operations.enumerated() {
            let op = self.ops + index
            switch operation {
            case .create(let path, let data, let mode):
                // Room for the path, a 10-digit sequence suffix, and the chroot the server may echo.
                let capacity = path.utf8.count + 256
                let buffer = self.allocate(capacity).assumingMemoryBound(to: CChar.self)
                self.pathBuffers[index] = (buffer, capacity)
                let (bytes, length) = self.copy(data)
                zoo_create_op_init(
                    op, self.copy(path), bytes, length, ferry_zoo_open_acl_unsafe(), mode.flags, buffer,
                    Int32(capacity))
            case .delete(let path, let version):
                zoo_delete_op_init(op, self.copy(path), version)
            case .setData(let path, let data, let version):
                let (bytes, length) = self.copy(data)
                zoo_set_op_init(op, self.copy(path), bytes, length, version, self.stats + index)
            case .check(let path, let version):
                zoo_check_op_init(op, self.copy(path), version)
            }
        }
    }

    deinit {
        for pointer in self.allocations { pointer.deallocate() }
        self.ops.deallocate()
        self.resultSlots.deallocate()
        self.stats.deallocate()
    }

    private func allocate(_ count: Int) -> UnsafeMutableRawPointer {
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 1)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
        self.allocations.append(pointer)
        return pointer
    }

    private func copy(_ string: String) -> UnsafePointer<CChar> {
        let utf8 = Array(string.utf8) + [0]
        let pointer = self.allocate(utf8.count)
        pointer.copyMemory(from: utf8, byteCount: utf8.count)
        return UnsafePointer(pointer.assumingMemoryBound(to: CChar.self))
    }

    private func copy(_ data: [UInt8]) -> (UnsafePointer<CChar>, Int32) {
        let pointer = self.allocate(data.count)
        data.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return (UnsafePointer(pointer.assumingMemoryBound(to: CChar.self)), Int32(data.count))
    }

    /// The per-operation results of a batch that succeeded.
    func results() -> [ZooKeeperOperationResult] {
        self.operations.enumerated().map { index, operation in
            switch operation {
            case .create(let path, _, _):
                guard let (buffer, capacity) = self.pathBuffers[index] else { return .created(path: path) }
                buffer[capacity - 1] = 0
                return .created(path: String(cString: buffer))
            case .delete: return .deleted
            case .setData: return .dataSet(Stat(self.stats[index]))
            case .check: return .checked
            }
        }
    }

    /// The error of a batch that failed. When the server rejected an operation, that operation's code and
    /// index (the others report `ZOK` or `ZRUNTIMEINCONSISTENCY`: rolled back or not attempted). When the
    /// batch never reached a verdict (connection loss, expiry, close), the C client stamps every slot with the
    /// same code, so no operation is blamed and `sessionError` is returned.
    func failure(_ rc: Int32, sessionError: ZooKeeperError) -> ZooKeeperError {
        let code = ZooKeeperError.Code(rawValue: rc)
        switch code {
        case .connectionLoss, .operationTimeout, .sessionExpired, .closing, .sessionMoved, .marshallingError:
            return sessionError
        default:
            break
        }
        for index in self.operations.indices {
            let err = self.resultSlots[index].err
            if err != ZOK.rawValue && err != ZRUNTIMEINCONSISTENCY.rawValue {
                return ZooKeeperError(
                    ZooKeeperError.Code(rawValue: err), path: self.operations[index].path, operation: "multi",
                    failedOperationIndex: index)
            }
        }
        return sessionError
    }
}

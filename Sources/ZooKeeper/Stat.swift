import CZooKeeper

/// The metadata ZooKeeper keeps for a znode (the C client's `struct Stat`).
///
/// `version` counts `setData` calls since creation and is what compare-and-set writes name;
/// `cversion` counts changes to the children; `ephemeralOwner` is the owning session id, 0 for persistent nodes.
public struct Stat: Hashable, Sendable {
    public var czxid: Int64
    public var mzxid: Int64
    public var ctime: Int64
    public var mtime: Int64
    public var version: Int32
    public var cversion: Int32
    public var aversion: Int32
    public var ephemeralOwner: Int64
    public var dataLength: Int32
    public var numChildren: Int32
    public var pzxid: Int64

    public init(
        czxid: Int64 = 0, mzxid: Int64 = 0, ctime: Int64 = 0, mtime: Int64 = 0, version: Int32 = 0,
        cversion: Int32 = 0, aversion: Int32 = 0, ephemeralOwner: Int64 = 0, dataLength: Int32 = 0,
        numChildren: Int32 = 0, pzxid: Int64 = 0
    ) {
        self.czxid = czxid
        self.mzxid = mzxid
        self.ctime = ctime
        self.mtime = mtime
        self.version = version
        self.cversion = cversion
        self.aversion = aversion
        self.ephemeralOwner = ephemeralOwner
        self.dataLength = dataLength
        self.numChildren = numChildren
        self.pzxid = pzxid
    }

    init(_ c: CZooKeeper.Stat) {
        self.init(
            czxid: c.czxid, mzxid: c.mzxid, ctime: c.ctime, mtime: c.mtime, version: c.version,
            cversion: c.cversion, aversion: c.aversion, ephemeralOwner: c.ephemeralOwner,
            dataLength: c.dataLength, numChildren: c.numChildren, pzxid: c.pzxid
        )
    }

    /// True for a node that disappears with the session that created it.
    public var isEphemeral: Bool { self.ephemeralOwner != 0 }
}

/// A znode's data with the stat read in the same request.
public struct NodeData: Hashable, Sendable {
    public var data: [UInt8]
    public var stat: Stat

    public init(data: [UInt8], stat: Stat) {
        self.data = data
        self.stat = stat
    }

    /// The data as UTF-8 text, which is how Kafka stores every znode payload.
    public var string: String { String(decoding: self.data, as: UTF8.self) }
}

/// How a znode is created.
public enum CreateMode: Hashable, Sendable {
    /// Stays until deleted.
    case persistent
    /// Deleted by the server when the creating session ends (close or expiry).
    case ephemeral
    /// Persistent, with a 10-digit monotonically increasing counter appended to the name.
    case persistentSequential
    /// Ephemeral, with the sequence counter appended.
    case ephemeralSequential
    /// Persistent, and removed by the server once its last child is gone.
    case container

    var flags: Int32 {
        switch self {
        case .persistent: ZOO_PERSISTENT
        case .ephemeral: ZOO_EPHEMERAL
        case .persistentSequential: ZOO_PERSISTENT_SEQUENTIAL
        case .ephemeralSequential: ZOO_EPHEMERAL_SEQUENTIAL
        case .container: ZOO_CONTAINER
        }
    }
}

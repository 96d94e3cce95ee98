/// Per-log settings, with Kafka's names and defaults (topic-level names; the broker's `log.*` keys map here).
public struct LogConfig: Hashable, Sendable {
    /// `segment.bytes`: roll a new segment when the active one would exceed this (default 1 GiB).
    public var segmentBytes: Int = 1 << 30
    /// `segment.ms`: roll when the active segment's first batch is this old (default 7 days).
    public var segmentMs: Int64 = 7 * 24 * 3_600_000
    /// `segment.index.bytes`: maximum size of an offset or time index (default 10 MiB).
    public var maxIndexBytes: Int = 10 * 1024 * 1024
    /// `index.interval.bytes`: bytes of log between offset-index entries (default 4096).
    public var indexIntervalBytes: Int = 4096
    /// `retention.ms`: delete segments whose newest record is older than this; -1 keeps them (default 7 days).
    public var retentionMs: Int64 = 7 * 24 * 3_600_000
    /// `retention.bytes`: delete the oldest segments while the log is larger than this; -1 = no limit.
    public var retentionBytes: Int64 = -1
    /// `cleanup.policy` includes `delete`: `retention.ms` and `retention.bytes` delete old segments. A compact-only
    /// log (`__consumer_offsets`) keeps them, as Kafka's: only the latest value per key may go, and that is the
    /// cleaner's job, not retention's (deleting a segment could drop a group's only committed offset).
    public var deletesByRetention = true
    /// `cleanup.policy` includes `compact`: the cleaner keeps only the latest record of each key (`LogCleaner`).
    public var compacts = false
    /// `min.cleanable.dirty.ratio`: clean when this share of the cleanable bytes is new since the last cleaning.
    public var minCleanableDirtyRatio: Double = 0.5
    /// `delete.retention.ms`: how long a tombstone (null value) outlives the segment's newest record (default 1 day).
    public var deleteRetentionMs: Int64 = 24 * 3_600_000
    /// `min.compaction.lag.ms`: a record stays uncompacted at least this long after it was written (its segment's
    /// newest timestamp), so consumers see every update of that age (default 0).
    public var minCompactionLagMs: Int64 = 0
    /// `max.compaction.lag.ms`: a record is compacted at most this long after it was written, whatever the dirty
    /// ratio; the active segment of a compacted log also rolls after this long (default: no limit).
    public var maxCompactionLagMs: Int64 = .max
    /// `flush.messages`: fsync after this many appended records (default: never; the page cache decides).
    public var flushMessages: Int64 = Int64.max
    /// `flush.ms`: fsync when the last flush is this old (default: never).
    public var flushMs: Int64 = Int64.max
    /// `message.timestamp.type`: CreateTime keeps producer timestamps; LogAppendTime stamps the broker's.
    public var useLogAppendTime = false

    /// How long the active segment may live before it rolls: `segment.ms`, or `max.compaction.lag.ms` if a
    /// compacted log's is shorter, since the cleaner never touches the active segment (Kafka's `maxSegmentMs`).
    public var rollMs: Int64 { self.compacts ? min(self.segmentMs, self.maxCompactionLagMs) : self.segmentMs }

    public init() {}
}

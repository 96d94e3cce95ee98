#if canImport(Glibc)
import Glibc
#endif
import KafkaModel
import KafkaRecords
import Logging
import NIOCore

/// What an append did.
public struct LogAppendInfo: Hashable, Sendable {
    public var firstOffset: Int64
    public var lastOffset: Int64
    /// The broker's append time for LogAppendTime logs, -1 for CreateTime (the Produce response's field).
    public var logAppendTime: Int64
    public var recordCount: Int
}

/// A run of whole batches in one segment file: what a fetch sends, ideally with `sendfile`.
public struct LogReadSlice: Sendable {
    /// The segment file; holding it keeps the bytes readable even if retention deletes the segment meanwhile.
    public var file: LogFile
    public var position: Int64
    public var length: Int

    /// The bytes, copied into memory (for tools and tests; the broker sends the file region instead).
    public func bytes() throws -> ByteBuffer { try self.file.read(at: self.position, length: self.length) }

    /// Appends the bytes to `buffer` (one copy, straight from the file).
    public func read(appendingTo buffer: inout ByteBuffer) throws {
        try self.file.read(at: self.position, length: self.length, appendingTo: &buffer)
    }
}

/// One partition's log: a directory `<topic>-<partition>` of segments, as Apache Kafka lays it out.
///
/// Offsets are assigned on append (`append`) or kept as the leader assigned them (`appendAsFollower`). The high
/// watermark is the caller's: reads take an upper bound. Recovery runs on open for segments at or after the
/// recovery point (see `open`). Invariant, checked after every change: `logStartOffset <= logEndOffset`.
///
/// Not thread-safe: owned by one caller (the broker's `Partition` actor), like Kafka's `LocalLog`.
public final class PartitionLog {
    public let directory: String
    public private(set) var config: LogConfig
    public private(set) var logStartOffset: Int64
    /// Offsets below this are known to be on disk (flushed); recovery scans from here after a crash.
    public private(set) var recoveryPoint: Int64
    public private(set) var leaderEpochs: LeaderEpochCache
    private var producerState = ProducerStateManager()
    private var segments: [LogSegment]
    private var unflushedRecords: Int64 = 0
    private var lastFlushTime: Int64
    /// The cleaner's clean/dirty boundary: segments wholly below it were cleaned (one record per key; in memory
    /// only, so a restart cleans once more), and when a tombstone kept by then may go.
    private var cleanedUpTo: Int64 = -1
    private var nextTombstoneExpiry: Int64 = .max
    /// Moves with every change that removes or rewrites data below the active segment (truncation, DeleteRecords,
    /// retention, a cleaning's swap): a cleaning planned before one is abandoned (`finishCompaction`).
    private var structureVersion = 0
    private let clock: @Sendable () -> Int64
    private let logger: Logger

    /// The offset the next record gets.
    public var logEndOffset: Int64 { self.segments.last!.nextOffset }
    /// Total bytes of the segment files.
    public var sizeInBytes: Int64 { self.segments.reduce(0) { $0 + $1.size } }
    /// Base offsets of the segments, oldest first.
    public var segmentBaseOffsets: [Int64] { self.segments.map(\.baseOffset) }

    private init(
        directory: String, config: LogConfig, segments: [LogSegment], logStartOffset: Int64, recoveryPoint: Int64,
        leaderEpochs: LeaderEpochCache, clock: @escaping @Sendable () -> Int64, logger: Logger
    ) {
        self.directory = directory
        self.config = config
        self.segments = segments
        self.logStartOffset = logStartOffset
        self.recoveryPoint = recoveryPoint
        self.leaderEpochs = leaderEpochs
        self.clock = clock
        self.lastFlushTime = clock()
        self.logger = logger
    }

    /// Opens the log in `directory` (created if missing), recovering what may be unflushed.
    ///
    /// `recoveryPoint` `Int64.max` means a clean shutdown: nothing is scanned. Otherwise segments wholly before
    /// `recoveryPoint` are trusted (their indexes are checked and rebuilt if missing or
    /// corrupt); from the segment holding the recovery point on, each segment is scanned batch by batch, and the
    /// first invalid batch truncates its segment and drops every later segment, with a log line saying how many
    /// bytes went.
    public static func open(
        directory: String,
        config: LogConfig = LogConfig(),
        recoveryPoint: Int64 = 0,
        logStartOffset: Int64 = 0,
        clock: @escaping @Sendable () -> Int64 = { wallClockMillis() },
        logger: Logger = Logger(label: "ferry.log")
    ) throws -> PartitionLog {
        var logger = logger
        logger[metadataKey: "log"] = "\(directory.split(separator: "/").last ?? "")"
        try FileSystem.createDirectory(directory)
        var baseOffsets: [Int64] = []
        try LogCleaner.completeInterruptedSwaps(in: directory, names: try FileSystem.list(directory), logger: logger)
        for name in try FileSystem.list(directory) {
            if name.hasSuffix(".tmp") || name.hasSuffix(".deleted") {
                try FileSystem.remove(directory + "/" + name)
            } else if name.hasSuffix(".log"), let base = Int64(name.dropLast(4)) {
                baseOffsets.append(base)
            }
        }
        baseOffsets.sort()
        var segments: [LogSegment] = []
        // Int64.max: the log was shut down cleanly and nothing needs scanning (Kafka's hadCleanShutdown).
        let recoverFrom: Int64? = recoveryPoint == .max ? nil : baseOffsets.last { $0 <= recoveryPoint } ?? baseOffsets.first ?? 0
        var dropRest = false
        for base in baseOffsets {
            let segment = try LogSegment(directory: directory, baseOffset: base, config: config, create: false)
            if dropRest {
                logger.warning("deleting segment \(base) after a corrupt earlier segment (\(segment.size) bytes)")
                try segment.deleteFiles()
                continue
            }
            if recoverFrom.map({ base >= $0 }) ?? false || !segment.indexesLookSane(nextBase: baseOffsets.first { $0 > base }) {
                let fileSize = segment.size
                let dropped = try segment.recover()
                if dropped > 0 {
                    logger.warning("recovery truncated segment \(base): dropped \(dropped) of \(fileSize) bytes after the last valid batch")
                    dropRest = true
                }
            } else {
                try segment.loadClean(nextBase: baseOffsets.first { $0 > base })
            }
            segments.append(segment)
        }
        if segments.isEmpty {
            segments.append(try LogSegment(directory: directory, baseOffset: logStartOffset, config: config, create: true))
        }
        let openedAt = clock()
        for segment in segments { segment.createdAt = openedAt }
        let leaderEpochs = try LeaderEpochCache(path: directory + "/leader-epoch-checkpoint")
        let log = PartitionLog(
            directory: directory, config: config, segments: segments,
            logStartOffset: max(logStartOffset, segments.first!.baseOffset),
            recoveryPoint: min(recoveryPoint, segments.last!.nextOffset), leaderEpochs: leaderEpochs, clock: clock, logger: logger)
        try log.leaderEpochs.truncate(fromEnd: log.logEndOffset)
        try log.rebuildProducerState()
        log.checkInvariant()
        return log
    }

    /// Applies a new config: retention and flushing at once, segment size and roll time from the next append on,
    /// index sizes from the next segment on.
    public func updateConfig(_ config: LogConfig) {
        self.config = config
        self.segments.last!.config = config
    }

    private func checkInvariant() {
        precondition(self.logStartOffset <= self.logEndOffset, "log start \(self.logStartOffset) beyond log end \(self.logEndOffset)")
    }

    // MARK: Appends

    /// Appends a batch as the partition leader: validates its CRC, assigns offsets from the log end, stamps the
    /// leader epoch (and the append time for LogAppendTime logs).
    /// - Throws: `LogStorageError(.invalidBatch)` for a corrupt batch; I/O errors.
    /// Idempotent batches (a producer id) are checked against the producer's state: a retry of one of its last
    /// five batches returns the original offsets without appending; a sequence gap throws `.outOfOrderSequence`,
    /// an older epoch `.invalidProducerEpoch`.
    @discardableResult
    public func append(_ batch: RecordBatch, leaderEpoch: Int32) throws -> LogAppendInfo {
        do { try batch.validate() } catch { throw LogStorageError(.invalidBatch, "\(error)", path: self.directory) }
        if batch.producerId >= 0 {
            let lastSequence = batch.baseSequence &+ batch.lastOffsetDelta
            switch self.producerState.check(
                producerId: batch.producerId, epoch: batch.producerEpoch, firstSequence: batch.baseSequence, lastSequence: lastSequence)
            {
            case .append:
                break
            case .duplicate(let original):
                return LogAppendInfo(firstOffset: original.firstOffset, lastOffset: original.lastOffset, logAppendTime: -1, recordCount: Int(batch.recordsCount))
            case .outOfOrderSequence(let expected, let found):
                throw LogStorageError(.outOfOrderSequence, "producer \(batch.producerId): sequence \(found), expected \(expected)", path: self.directory)
            case .staleEpoch(let current, let found):
                throw LogStorageError(.invalidProducerEpoch, "producer \(batch.producerId): epoch \(found) is older than \(current)", path: self.directory)
            }
        }
        // The offsets and leader epoch lie outside the CRC and are written over the batch's own on the way to the
        // file: changing them in the batch would copy it, as its bytes are shared with the request.
        var batch = batch
        var appendTime: Int64 = -1
        if self.config.useLogAppendTime {
            appendTime = self.clock()
            batch.setLogAppendTime(appendTime)
        }
        let baseOffset = self.logEndOffset
        try self.write(batch, baseOffset: baseOffset, leaderEpoch: leaderEpoch)
        return LogAppendInfo(
            firstOffset: baseOffset, lastOffset: baseOffset + Int64(batch.lastOffsetDelta), logAppendTime: appendTime,
            recordCount: Int(batch.recordsCount))
    }

    /// Appends a batch as a follower: offsets and leader epoch are the leader's and must continue the log.
    @discardableResult
    public func appendAsFollower(_ batch: RecordBatch) throws -> LogAppendInfo {
        do { try batch.validate() } catch { throw LogStorageError(.invalidBatch, "\(error)", path: self.directory) }
        guard batch.baseOffset >= self.logEndOffset else {
            throw LogStorageError(.invalidBatch, "batch at \(batch.baseOffset) is before the log end \(self.logEndOffset)", path: self.directory)
        }
        try self.write(batch, baseOffset: batch.baseOffset, leaderEpoch: batch.partitionLeaderEpoch)
        return LogAppendInfo(firstOffset: batch.baseOffset, lastOffset: batch.lastOffset, logAppendTime: -1, recordCount: Int(batch.recordsCount))
    }

    /// Writes `batch` at the log end as `baseOffset` with `leaderEpoch`.
    private func write(_ batch: RecordBatch, baseOffset: Int64, leaderEpoch: Int32) throws {
        let now = self.clock()
        let lastOffset = baseOffset + Int64(batch.lastOffsetDelta)
        if self.segments.last!.shouldRoll(adding: batch.sizeInBytes, batchTimestamp: batch.maxTimestamp, now: now) {
            try self.roll(at: baseOffset)
        }
        try self.segments.last!.append(batch, baseOffset: baseOffset, leaderEpoch: leaderEpoch)
        if batch.producerId >= 0 {
            self.producerState.record(
                producerId: batch.producerId, epoch: batch.producerEpoch,
                batch: .init(firstSequence: batch.baseSequence, lastSequence: batch.baseSequence &+ batch.lastOffsetDelta,
                             firstOffset: baseOffset, lastOffset: lastOffset, timestamp: batch.maxTimestamp))
        }
        if leaderEpoch >= 0 {
            try self.leaderEpochs.assign(epoch: leaderEpoch, startOffset: baseOffset)
        }
        self.unflushedRecords += Int64(batch.recordsCount)
        if self.unflushedRecords >= self.config.flushMessages || now - self.lastFlushTime >= self.config.flushMs {
            try self.flush()
        }
    }

    /// Starts a new active segment at `offset`; the old one is sealed.
    private func roll(at offset: Int64) throws {
        let old = self.segments.last!
        if old.isEmpty {
            // An empty segment is replaced rather than kept (its base offset must match its first batch).
            try old.deleteFiles()
            self.segments.removeLast()
        } else {
            try old.seal()
        }
        let segment = try LogSegment(directory: self.directory, baseOffset: offset, config: self.config, create: true)
        segment.createdAt = self.clock()
        self.segments.append(segment)
        try self.takeProducerSnapshot()
        self.logger.info("rolled new log segment at offset \(offset)")
    }

    /// Forces everything appended to disk and advances the recovery point to the log end.
    public func flush() throws {
        for segment in self.segments where segment.nextOffset > self.recoveryPoint { try segment.flush() }
        self.recoveryPoint = self.logEndOffset
        self.unflushedRecords = 0
        self.lastFlushTime = self.clock()
    }

    /// Flushes if `flush.ms` has passed since the last flush and something is unflushed (the periodic check).
    public func flushIfDue() throws {
        guard self.unflushedRecords > 0, self.config.flushMs != Int64.max, self.clock() - self.lastFlushTime >= self.config.flushMs
        else { return }
        try self.flush()
    }

    // MARK: Reads

    /// Reads whole batches from `offset`, up to `maxBytes` (the first batch is returned whole even if larger, as
    /// Kafka does from Fetch v3 so consumers always progress) and stopping before `maxOffset` (the high watermark).
    /// - Returns: slices of segment files, in offset order; empty at the log end.
    /// - Throws: `LogStorageError(.offsetOutOfRange)` for an offset before the log start or after the log end.
    public func read(from offset: Int64, maxBytes: Int, maxOffset: Int64? = nil) throws -> [LogReadSlice] {
        guard offset >= self.logStartOffset, offset <= self.logEndOffset else {
            throw LogStorageError(
                .offsetOutOfRange, "offset \(offset) is outside \(self.logStartOffset)...\(self.logEndOffset)", path: self.directory)
        }
        let limit = min(maxOffset ?? self.logEndOffset, self.logEndOffset)
        var slices: [LogReadSlice] = []
        var remaining = maxBytes
        var index = self.segments.lastIndex { $0.baseOffset <= offset } ?? 0
        var nextOffset = offset
        while index < self.segments.count, nextOffset < limit {
            let segment = self.segments[index]
            if var position = try segment.position(of: nextOffset) {
                let start = position
                while let header = try segment.batchHeader(at: position), header.baseOffset < limit {
                    let firstBatch = slices.isEmpty && position == start
                    guard header.size <= remaining || firstBatch else { break }
                    remaining -= header.size
                    position += Int64(header.size)
                    nextOffset = header.lastOffset + 1
                }
                if position > start { slices.append(LogReadSlice(file: segment.log, position: start, length: Int(position - start))) }
                if remaining <= 0 || position < segment.size { break }
            }
            index += 1
        }
        return slices
    }

    /// The first offset whose batch has a timestamp at or after `timestamp` (ListOffsets by time), with that
    /// batch's max timestamp; `nil` if every record is older.
    public func offset(forTimestamp timestamp: Int64) throws -> (offset: Int64, timestamp: Int64)? {
        for segment in self.segments where segment.maxTimestamp >= timestamp {
            if let found = try segment.offset(forTimestamp: timestamp) {
                return (max(found.offset, self.logStartOffset), found.timestamp)
            }
        }
        return nil
    }

    /// The old offset list of ListOffsets v0 (Kafka's `legacyFetchOffsetsBefore`): the candidates are each segment's
    /// first offset, dated by the segment file's last write, and the log end (dated now) if the active segment holds
    /// data; -1 asks for the newest, -2 for the oldest, a time for those written at or before it. Newest first, at
    /// most `maxCount`.
    public func legacyOffsets(before timestamp: Int64, maxCount: Int) throws -> [Int64] {
        var candidates = try self.segments.map { (offset: max($0.baseOffset, self.logStartOffset), time: try $0.log.lastModifiedMs()) }
        if !self.segments.last!.isEmpty { candidates.append((self.logEndOffset, self.clock())) }
        let newest: Int?
        switch timestamp {
        case -1: newest = candidates.count - 1
        case -2: return candidates.first.map { [$0.offset] } ?? []
        default: newest = candidates.lastIndex { $0.time <= timestamp }
        }
        guard let newest, maxCount > 0 else { return [] }
        return candidates[...newest].reversed().prefix(maxCount).map(\.offset)
    }

    // MARK: Truncation, deletion, retention

    /// Removes every record at or after `offset` (a follower matching its leader's log).
    public func truncate(to offset: Int64) throws {
        guard offset < self.logEndOffset else { return }
        self.structureVersion += 1
        // Appends after the truncation point would land in what counts as clean: take the whole log as dirty again.
        if offset <= self.cleanedUpTo { self.cleanedUpTo = -1 }
        if offset <= self.segments.first!.baseOffset {
            for segment in self.segments { try segment.deleteFiles() }
            self.segments = [try LogSegment(directory: self.directory, baseOffset: offset, config: self.config, create: true)]
            self.logStartOffset = offset
        } else {
            while let last = self.segments.last, last.baseOffset >= offset {
                try last.deleteFiles()
                self.segments.removeLast()
            }
            // `offset` in a range the cleaner emptied (no batch holds it): the log end is still `offset`, as in Kafka.
            let last = self.segments.last!
            let inGap = try last.position(of: offset).flatMap { try last.batchHeader(at: $0) }.map { $0.baseOffset > offset } ?? true
            // It may be a sealed segment becoming the active one again: its indexes were trimmed when it was sealed.
            try last.resumeAppends()
            let removed = try last.truncate(to: offset)
            self.logger.info("truncated log to offset \(offset) (\(removed) bytes from the last segment)")
            if inGap && self.logEndOffset < offset {
                try self.segments.last!.seal()
                let segment = try LogSegment(directory: self.directory, baseOffset: offset, config: self.config, create: true)
                segment.createdAt = self.clock()
                self.segments.append(segment)
            }
        }
        self.recoveryPoint = min(self.recoveryPoint, self.logEndOffset)
        try self.leaderEpochs.truncate(fromEnd: self.logEndOffset)
        try self.rebuildProducerState()
        self.checkInvariant()
    }

    /// Deletes everything and starts empty at `offset` (a follower whose leader's log now starts past its end).
    public func truncateFullyAndStart(at offset: Int64) throws {
        self.structureVersion += 1
        self.cleanedUpTo = -1
        for segment in self.segments { try segment.deleteFiles() }
        self.segments = [try LogSegment(directory: self.directory, baseOffset: offset, config: self.config, create: true)]
        self.logStartOffset = offset
        self.recoveryPoint = offset
        try self.leaderEpochs.removeAll()  // the old epochs describe records that are gone (Kafka: clearAndFlush)
        try self.rebuildProducerState()
        self.checkInvariant()
    }

    /// Rebuilds the idempotent-producer state: from the newest valid snapshot at or before the log end (snapshots
    /// beyond it, left by a truncation or a crash, are deleted), then the batch headers after it; from the start of
    /// the log if there is none.
    private func rebuildProducerState() throws {
        self.producerState.removeAll()
        var from = self.logStartOffset
        for offset in try ProducerStateSnapshot.offsets(in: self.directory).reversed() {
            let path = self.directory + "/" + ProducerStateSnapshot.fileName(offset)
            if offset > self.logEndOffset {
                try FileSystem.remove(path)
                continue
            }
            if let bytes = try FileSystem.readBytes(path), let state = ProducerStateSnapshot.decode(bytes) {
                self.producerState = state
                from = offset
                break
            }
            self.logger.warning("ignoring the unreadable producer-state snapshot \(path)")
            try FileSystem.remove(path)
        }
        for segment in self.segments where segment.nextOffset > from {
            try segment.forEachBatchHeader { base, last, producerId, epoch, sequence, timestamp in
                guard producerId >= 0, base >= from else { return }
                self.producerState.record(
                    producerId: producerId, epoch: epoch,
                    batch: .init(
                        firstSequence: sequence, lastSequence: sequence &+ Int32(last - base), firstOffset: base, lastOffset: last,
                        timestamp: timestamp))
            }
        }
    }

    /// Writes the producer state as of the log end (at a roll and a clean close, as Kafka), and deletes snapshots
    /// older than the first segment.
    private func takeProducerSnapshot() throws {
        try FileSystem.writeAtomically(
            ProducerStateSnapshot.encode(self.producerState), to: self.directory + "/" + ProducerStateSnapshot.fileName(self.logEndOffset))
        for offset in try ProducerStateSnapshot.offsets(in: self.directory) where offset < self.segments.first!.baseOffset {
            try FileSystem.remove(self.directory + "/" + ProducerStateSnapshot.fileName(offset))
        }
    }

    /// Forgets idempotent producers whose last batch is `expirationMs` old (`producer.id.expiration.ms`).
    /// - Returns: how many were forgotten.
    @discardableResult
    public func removeExpiredProducers(expirationMs: Int64) -> Int {
        let removed = self.producerState.removeExpired(now: self.clock(), expirationMs: expirationMs)
        if removed > 0 { self.logger.info("forgot \(removed) idempotent producers idle for \(expirationMs) ms") }
        return removed
    }

    /// Moves the log start to `offset` (DeleteRecords) and deletes the segments wholly before it.
    public func deleteRecords(before offset: Int64) throws {
        guard offset > self.logStartOffset else { return }
        guard offset <= self.logEndOffset else {
            throw LogStorageError(.offsetOutOfRange, "cannot delete records before \(offset), past the log end \(self.logEndOffset)")
        }
        self.logStartOffset = offset
        self.structureVersion += 1
        if offset == self.logEndOffset && !self.segments.last!.isEmpty { try self.roll(at: offset) }
        _ = try self.deleteSegments { segment, _ in segment.nextOffset <= offset }
        self.checkInvariant()
    }

    /// Applies `retention.ms` and `retention.bytes`: deletes whole segments, oldest first, never the active one;
    /// nothing for a compact-only log (`deletesByRetention` false).
    /// - Returns: how many segments were deleted.
    @discardableResult
    public func applyRetention() throws -> Int {
        guard self.config.deletesByRetention else { return 0 }
        let now = self.clock()
        var deleted = 0
        if self.config.retentionMs >= 0 {
            deleted += try self.deleteSegments { segment, _ in segment.maxTimestamp >= 0 && now - segment.maxTimestamp > self.config.retentionMs }
        }
        if self.config.retentionBytes >= 0 {
            var excess = self.sizeInBytes - self.config.retentionBytes
            deleted += try self.deleteSegments { segment, _ in
                guard excess - segment.size >= 0 else { return false }
                excess -= segment.size
                return true
            }
        }
        return deleted
    }

    /// Compacts the log if it is `cleanup.policy=compact` and enough of it is new (`min.cleanable.dirty.ratio`), a
    /// dirty record is `max.compaction.lag.ms` old, or a kept tombstone is due: see `LogCleaner`. Only segments
    /// wholly below `highWatermark` and at least `min.compaction.lag.ms` old are cleaned. The three steps at once;
    /// the broker's storage runs the middle one away from the log's owner.
    /// - Returns: how many records were removed; `nil` if the log was not cleaned.
    @discardableResult
    public func compact(below highWatermark: Int64, keyMapBytes: Int = LogCleaner.defaultKeyMapBytes) throws -> Int? {
        guard let plan = try self.planCompaction(below: highWatermark, keyMapBytes: keyMapBytes) else { return nil }
        return try self.finishCompaction(plan, cleaning: try LogCleaner.run(plan))
    }

    /// The cleaning due now, if any (the first step of `compact`); its key map may take `keyMapBytes`.
    func planCompaction(below highWatermark: Int64, keyMapBytes: Int = LogCleaner.defaultKeyMapBytes) throws -> LogCleaner.Plan? {
        guard self.config.compacts else { return nil }
        let now = self.clock()
        // Kafka's firstUncleanableOffset: the active segment, the first segment reaching the high watermark, and the
        // first segment with a record younger than min.compaction.lag.ms (dated by its newest timestamp, or its file's
        // last write without one) bound the cleanable range.
        let youngest = now.subtractingReportingOverflow(self.config.minCompactionLagMs)
        let cleanable = try Array(self.segments.dropLast().prefix { segment in
            guard segment.nextOffset <= highWatermark else { return false }
            guard self.config.minCompactionLagMs > 0 else { return true }
            let newest = segment.maxTimestamp >= 0 ? segment.maxTimestamp : try segment.log.lastModifiedMs()
            return !youngest.overflow && newest <= youngest.partialValue
        })
        guard !cleanable.isEmpty else { return nil }
        let total = cleanable.reduce(Int64(0)) { $0 + $1.size }
        let dirtySegments = cleanable.filter { $0.baseOffset >= self.cleanedUpTo }
        let dirty = dirtySegments.reduce(Int64(0)) { $0 + $1.size }
        let dirtyEnough = dirty > 0 && Double(dirty) >= self.config.minCleanableDirtyRatio * Double(total)
        // max.compaction.lag.ms: the oldest dirty record (its segment's first batch) must not wait longer for a
        // cleaning, whatever the ratio (Kafka's maxCompactionDelay).
        let overdue = dirtySegments.first.map { first in
            first.firstBatchTimestamp >= 0 && self.config.maxCompactionLagMs != .max
                && now - first.firstBatchTimestamp > self.config.maxCompactionLagMs
        } ?? false
        guard dirtyEnough || overdue || now >= self.nextTombstoneExpiry else { return nil }
        let segments = try cleanable.map { segment in
            LogCleaner.SegmentSnapshot(
                baseOffset: segment.baseOffset, nextOffset: segment.nextOffset, file: segment.log, size: segment.size,
                lastModified: try segment.log.lastModifiedMs(), maxTimestamp: segment.maxTimestamp,
                offsetIndexEntries: segment.index.entryCount, timeIndexEntries: segment.timeIndex.entryCount)
        }
        return LogCleaner.Plan(
            directory: self.directory, segments: segments, firstDirty: cleanable.count - dirtySegments.count,
            producersLastOffsets: self.producerState.lastOffsets, now: now, config: self.config, keyMapBytes: keyMapBytes,
            structureVersion: self.structureVersion)
    }

    /// Whether the log is still as `plan` found it: nothing truncated or trimmed, the same config (merges were sized
    /// by it), the planned segments still here, whole, and not the active one.
    func isCurrent(_ plan: LogCleaner.Plan) -> Bool { self.plannedSegmentsStart(plan) != nil }

    /// Where the planned segments start in `segments`, if the log is still as `plan` found it (`isCurrent`).
    private func plannedSegmentsStart(_ plan: LogCleaner.Plan) -> Int? {
        let planned = plan.segments
        guard plan.structureVersion == self.structureVersion, plan.config == self.config,
              let first = self.segments.firstIndex(where: { $0.log === planned[0].file }), first + planned.count < self.segments.count,
              zip(self.segments[first...], planned).allSatisfy({ $0.log === $1.file && $0.size == $1.size })
        else { return nil }
        return first
    }

    /// Swaps in what `LogCleaner.run` wrote for `plan` (the last step of `compact`), or deletes it if the log no
    /// longer holds the planned segments or was truncated or trimmed since the plan.
    /// - Returns: how many records were removed; `nil` if the cleaning was abandoned.
    func finishCompaction(_ plan: LogCleaner.Plan, cleaning: LogCleaner.Cleaning) throws -> Int? {
        let cleaned = cleaning.groups
        let planned = plan.segments
        guard let first = self.plannedSegmentsStart(plan) else {
            LogCleaner.discard(cleaned)
            self.logger.info("abandoned a cleaning from offset \(planned[0].baseOffset): the log or its config changed meanwhile")
            return nil
        }
        self.structureVersion += 1
        let before = planned.prefix(cleaning.segmentCount).reduce(Int64(0)) { $0 + $1.size }
        var removed = 0
        var tombstoneExpiry = Int64.max
        // Each group's swap changes the disk at once, so `segments` follows it at once: a later group failing must
        // not leave objects for files that are gone (a retention delete by path would then remove the new file).
        var next = first
        for (index, result) in cleaned.enumerated() {
            removed += result.removed
            tombstoneExpiry = min(tombstoneExpiry, result.tombstoneExpiry)
            do {
                if result.unchanged && result.segmentCount == 1 {
                    try FileSystem.remove(result.path)
                } else {
                    let replaced = Array(self.segments[next..<(next + result.segmentCount)])
                    self.segments.replaceSubrange(next..<(next + result.segmentCount), with: [try self.swap(replaced, with: result.path, now: plan.now)])
                }
            } catch {
                LogCleaner.discard(cleaned[(index + 1)...])
                throw error
            }
            next += 1
        }
        self.cleanedUpTo = cleaning.end
        // A cleaning cut short by the key map's size leaves segments it has not read: their tombstones are not known.
        self.nextTombstoneExpiry = cleaning.segmentCount == planned.count ? tombstoneExpiry : min(tombstoneExpiry, plan.now)
        let after = self.segments[first..<next]
        self.logger.info(
            "cleaned log up to offset \(cleaning.end): removed \(removed) records, \(cleaning.segmentCount) segments of \(before) bytes now \(after.count) of \(after.reduce(Int64(0)) { $0 + $1.size }) bytes")
        return removed
    }

    /// Replaces the segments of `group` with the cleaned file at `path` (the crash-safe order of `LogCleaner`).
    private func swap(_ group: [LogSegment], with path: String, now: Int64) throws -> LogSegment {
        let base = group[0].baseOffset
        let swapPath = self.directory + "/" + LogSegment.fileName(base, LogCleaner.swapSuffix)
        try FileSystem.rename(path, swapPath)
        // The rename must be durable before the old segments go, or a crash could leave neither.
        FileSystem.syncDirectory(self.directory)
        // Readers holding a slice of an old segment keep its open file; the names go.
        for segment in group { try segment.deleteFiles() }
        try FileSystem.rename(swapPath, self.directory + "/" + LogSegment.fileName(base, ".log"))
        let segment = try LogSegment(directory: self.directory, baseOffset: base, config: self.config, create: false)
        let dropped = try segment.recover()
        if dropped > 0 { self.logger.error("cleaned segment \(base) had \(dropped) invalid bytes at its end; they were dropped") }
        try segment.seal()
        try segment.flush()
        FileSystem.syncDirectory(self.directory)
        segment.createdAt = now
        return segment
    }

    /// Deletes leading non-active segments while `predicate` holds, and moves the log start past them.
    private func deleteSegments(while predicate: (LogSegment, Int) -> Bool) throws -> Int {
        var count = 0
        while self.segments.count > 1, predicate(self.segments[0], count) {
            let segment = self.segments.removeFirst()
            self.structureVersion += 1
            try segment.deleteFiles()
            count += 1
            self.logger.info("deleted log segment \(segment.baseOffset) (\(segment.size) bytes, offsets up to \(segment.nextOffset - 1))")
        }
        if count > 0 { self.logStartOffset = max(self.logStartOffset, self.segments[0].baseOffset) }
        return count
    }

    /// Flushes, seals the active segment's indexes to their used size, and makes the recovery point the log end:
    /// the next open trusts everything (Kafka's clean shutdown).
    public func close() throws {
        try self.flush()
        try self.segments.last!.seal()
        try self.takeProducerSnapshot()
    }

    /// Deletes the whole log directory (topic deletion).
    public func deleteDirectory() throws {
        try FileSystem.removeDirectory(self.directory)
    }
}

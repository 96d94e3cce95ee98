import KafkaRecords
import Logging
import NIOCore

/// Log compaction for `cleanup.policy=compact` (Kafka's `LogCleaner`, simplified): in the segments wholly below
/// the high watermark (never the active one), a record goes when a later record of the cleaned range has the same
/// key, and a tombstone goes once its segment's newest record is `delete.retention.ms` old.
///
/// Why below the high watermark: a later value that is not yet committed may be truncated by a leader change, and
/// the earlier value it replaced must still be there then.
///
/// Rewritten batches keep their offsets, so a consumer or follower reading a cleaned range only sees gaps.
/// Consecutive segments are merged while they fit in `segment.bytes`. Transactional and control batches are
/// kept whole and do not replace earlier values (an aborted write must not remove a committed one).
///
/// The swap is crash-safe as Kafka's: the cleaned data is written to `<base>.log.cleaned` and fsynced, renamed to
/// `<base>.log.swap`, the old segments are deleted, and the swap becomes `<base>.log`. An open finding a `.swap`
/// completes it (`completeInterruptedSwaps`); a `.cleaned` file is an unfinished cleaning and is deleted.
///
/// A cleaning runs in three steps so the slow middle one does not hold the log's owner (the storage actor, which
/// every produce and fetch goes through): `PartitionLog.planCompaction` picks the segments and snapshots what the
/// cleaning needs of them (`Plan`), `run` reads them and writes the cleaned files without touching the log object
/// (the segments are sealed, so their bytes do not change), and `PartitionLog.finishCompaction` swaps the files in
/// only if the log still holds those very segments and nothing truncated or trimmed it meanwhile.
///
/// Deviation: the clean/dirty boundary is kept in memory, not in a `cleaner-offset-checkpoint`, so the first
/// cleaning after a restart reads every cleanable segment again.
enum LogCleaner {
    static let cleanedSuffix = ".log.cleaned"
    static let swapSuffix = ".log.swap"

    /// A sealed segment as a cleaning reads it: its file, of which the first `size` bytes no longer change, and what
    /// dates it.
    struct SegmentSnapshot: Sendable {
        var baseOffset: Int64
        /// Shared with the log's segment, which compares it by identity when the cleaning is applied.
        var file: LogFile
        var size: Int64
        var lastModified: Int64
        /// The newest record timestamp, -1 if none.
        var maxTimestamp: Int64
    }

    /// One cleaning of one log: what `run` needs, taken on the log's owner.
    struct Plan: Sendable {
        var directory: String
        /// The cleanable segments, in runs that each become one segment.
        var groups: [[SegmentSnapshot]]
        /// The last offsets of the idempotent producers' last batches (kept even when emptied).
        var producersLastOffsets: Set<Int64>
        var now: Int64
        var deleteRetentionMs: Int64
        /// Where the cleaned range ends: the next clean/dirty boundary.
        var end: Int64
        /// The log's `structureVersion` when planned.
        var structureVersion: Int

        var segments: [SegmentSnapshot] { self.groups.flatMap { $0 } }
    }

    /// What `run` wrote for one group of a plan.
    struct CleanedGroup: Sendable {
        var path: String
        var removed: Int
        /// When the earliest tombstone kept may go (`Int64.max` if none was kept).
        var tombstoneExpiry: Int64
    }

    /// Runs `plan` away from the storage actor (a `@concurrent` function runs on the global executor), so produces
    /// and fetches go on meanwhile. Cancellation stops it between batches, with `CancellationError`.
    @concurrent
    static func clean(_ plan: Plan) async throws -> [CleanedGroup] {
        try run(plan, isCancelled: { Task.isCancelled })
    }

    /// Reads the plan's segments and writes one `.cleaned` file per group (removed again if `run` fails).
    static func run(_ plan: Plan, isCancelled: () -> Bool = { false }) throws -> [CleanedGroup] {
        var written: [CleanedGroup] = []
        do {
            let keys = try keyMap(of: plan.segments, isCancelled: isCancelled)
            for group in plan.groups {
                written.append(try writeCleaned(group, keys: keys, plan: plan, isCancelled: isCancelled))
            }
            return written
        } catch {
            discard(written)
            try? FileSystem.remove(plan.directory + "/" + LogSegment.fileName(plan.groups[written.count][0].baseOffset, cleanedSuffix))
            throw error
        }
    }

    /// Deletes the files of cleaned groups that will not be swapped in.
    static func discard(_ cleaned: some Sequence<CleanedGroup>) {
        for group in cleaned { try? FileSystem.remove(group.path) }
    }

    /// Calls `body` with every batch of `segment`, in order.
    static func forEachBatch(in segment: SegmentSnapshot, isCancelled: () -> Bool, _ body: (RecordBatch) throws -> Void) throws {
        var position: Int64 = 0
        while position + Int64(RecordBatch.headerSize) <= segment.size {
            if isCancelled() { throw CancellationError() }
            guard let length = try segment.file.read(at: position + 8, length: 4).getInteger(at: 0, endianness: .big, as: Int32.self),
                  length > 0, position + 12 + Int64(length) <= segment.size
            else {
                throw LogStorageError(.corruptFile, "no whole batch at position \(position)", path: segment.file.path)
            }
            try body(RecordBatch(try segment.file.read(at: position, length: 12 + Int(length))))
            position += 12 + Int64(length)
        }
    }

    /// Whether the records of `batch` may replace earlier values, and be replaced.
    static func isCompactable(_ batch: RecordBatch) -> Bool {
        !batch.attributes.isTransactional && !batch.attributes.isControl
    }

    /// What the cleaner knows of the keys of the cleaned range.
    struct KeyMap {
        /// The offset of the last record of each key (in compactable batches).
        var latest: [[UInt8]: Int64] = [:]
        /// Keys written in transactional batches: their tombstones stay, or a committed transactional value kept
        /// whole would come back once the tombstone after it went.
        var transactional: Set<[UInt8]> = []
    }

    /// The keys of `segments`.
    static func keyMap(of segments: [SegmentSnapshot], isCancelled: () -> Bool = { false }) throws -> KeyMap {
        var map = KeyMap()
        for segment in segments {
            try forEachBatch(in: segment, isCancelled: isCancelled) { batch in
                let compactable = isCompactable(batch)
                if !compactable && batch.attributes.isControl { return }
                for record in try batch.records() {
                    guard let key = record.key else { continue }
                    if compactable {
                        map.latest[Array(key.readableBytesView)] = batch.baseOffset + Int64(record.offsetDelta)
                    } else {
                        map.transactional.insert(Array(key.readableBytesView))
                    }
                }
            }
        }
        return map
    }

    /// Splits `segments` into runs of consecutive segments that fit together in one segment of `maxBytes`, with
    /// offsets the index's 32-bit relative offsets can address.
    /// The index entries of the merged segment stay within `maxIndexBytes`, as in Kafka's `groupSegmentsBySize`.
    static func groups(_ segments: [LogSegment], maxBytes: Int, maxIndexBytes: Int) -> [[LogSegment]] {
        var groups: [[LogSegment]] = []
        var current: [LogSegment] = []
        var size: Int64 = 0
        var offsetEntries = 0
        var timeEntries = 0
        for segment in segments {
            // One spare entry each: the seal adds a time-index entry, and entries fall where the merged file's bytes do.
            if let first = current.first,
               size + segment.size > Int64(maxBytes) || segment.nextOffset - first.baseOffset > Int64(Int32.max)
                || (offsetEntries + segment.index.entryCount + 2) * 8 > maxIndexBytes
                || (timeEntries + segment.timeIndex.entryCount + 2) * 12 > maxIndexBytes
            {
                groups.append(current)
                current = []
                size = 0
                offsetEntries = 0
                timeEntries = 0
            }
            current.append(segment)
            size += segment.size
            offsetEntries += segment.index.entryCount
            timeEntries += segment.timeIndex.entryCount
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }

    /// Writes the records of `group` that survive to `<base>.log.cleaned` in the log's directory, fsynced, with the
    /// last write time of the group's newest segment (as Kafka's `Cleaner.cleanSegments`): a tombstone's age and
    /// ListOffsets v0 date a segment by it, and a rewrite must not make old data look new.
    ///
    /// A batch that is an idempotent producer's last in the log is kept as an empty batch when none of its records
    /// survive (Kafka's `RETAIN_EMPTY`): a replica rebuilding the producer state from the cleaned log must still
    /// learn the producer's last sequence, or the producer's next batch is refused as out of order once that
    /// replica leads.
    static func writeCleaned(
        _ group: [SegmentSnapshot], keys: KeyMap, plan: Plan, isCancelled: () -> Bool = { false }
    ) throws -> CleanedGroup {
        let path = plan.directory + "/" + LogSegment.fileName(group[0].baseOffset, cleanedSuffix)
        try FileSystem.remove(path)
        let file = try LogFile(path: path, create: true)
        var position: Int64 = 0
        var removed = 0
        var tombstoneExpiry = Int64.max
        for segment in group {
            // A tombstone's age runs from its segment's newest record or last write, whichever is later: records
            // can carry old timestamps (mirrored data), and a delete must still reach consumers that lag behind.
            let written = max(segment.maxTimestamp, segment.lastModified)
            let (sum, overflow) = written.addingReportingOverflow(plan.deleteRetentionMs)
            let expiry = overflow ? Int64.max : sum
            try forEachBatch(in: segment, isCancelled: isCancelled) { batch in
                var kept: RecordBatch? = batch
                if isCompactable(batch) {
                    let keepEmpty = batch.producerId >= 0 && plan.producersLastOffsets.contains(batch.lastOffset)
                    kept = try batch.retaining(keepEmpty: keepEmpty) { _, record in
                        guard let key = record.key else { return true }
                        let offset = batch.baseOffset + Int64(record.offsetDelta)
                        let bytes = Array(key.readableBytesView)
                        if let last = keys.latest[bytes], last > offset { return false }
                        if record.value == nil && !keys.transactional.contains(bytes) {
                            if plan.now >= expiry { return false }
                            tombstoneExpiry = min(tombstoneExpiry, expiry)
                        }
                        return true
                    }
                    removed += Int(batch.recordsCount) - Int(kept?.recordsCount ?? 0)
                }
                guard let kept else { return }
                try file.write(kept.buffer, at: position)
                position += Int64(kept.sizeInBytes)
            }
        }
        try file.setLastModified(group.last!.lastModified)
        try file.sync()
        return CleanedGroup(path: path, removed: removed, tombstoneExpiry: tombstoneExpiry)
    }

    /// Finishes cleanings cut short after their `.swap` was complete, and deletes unfinished `.cleaned` files:
    /// the segments a swap covers are deleted and the swap becomes its base segment (indexes to be rebuilt).
    static func completeInterruptedSwaps(in directory: String, names: [String], logger: Logger) throws {
        let logs = names.compactMap { name in name.hasSuffix(".log") ? Int64(name.dropLast(4)) : nil }
        for name in names where name.hasSuffix(cleanedSuffix) {
            try FileSystem.remove(directory + "/" + name)
        }
        for name in names where name.hasSuffix(swapSuffix) {
            guard let base = Int64(name.dropLast(swapSuffix.count)) else { continue }
            let swapPath = directory + "/" + name
            let last = try lastOffset(ofFile: swapPath) ?? base
            for covered in logs where covered > base && covered <= last {
                for suffix in [".log", ".index", ".timeindex"] { try FileSystem.remove(directory + "/" + LogSegment.fileName(covered, suffix)) }
            }
            for suffix in [".index", ".timeindex"] { try FileSystem.remove(directory + "/" + LogSegment.fileName(base, suffix)) }
            try FileSystem.rename(swapPath, directory + "/" + LogSegment.fileName(base, ".log"))
            logger.warning("completed an interrupted log cleaning: segment \(base) now holds offsets up to \(last)")
        }
    }

    /// The last offset of the last whole batch in a log file (from the batch headers only).
    static func lastOffset(ofFile path: String) throws -> Int64? {
        let file = try LogFile(path: path, create: false)
        let size = try file.size()
        var position: Int64 = 0
        var last: Int64?
        while position + Int64(RecordBatch.headerSize) <= size {
            let header = try file.read(at: position, length: RecordBatch.headerSize)
            guard let base = header.getInteger(at: 0, endianness: .big, as: Int64.self),
                  let length = header.getInteger(at: 8, endianness: .big, as: Int32.self),
                  let delta = header.getInteger(at: 23, endianness: .big, as: Int32.self),
                  length > 0, position + 12 + Int64(length) <= size
            else { break }
            last = base + Int64(delta)
            position += 12 + Int64(length)
        }
        return last
    }
}


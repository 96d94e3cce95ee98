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
/// As Kafka's cleaner, the key map covers only the dirty part (from the last cleaning's end): the clean part holds
/// one record per key already, so a clean record goes only when a dirty one replaces it. The map is bounded by
/// `log.cleaner.dedupe.buffer.size`; when the dirty part has more keys, a cleaning covers as many whole dirty
/// segments as fit (at least one) and the next cleaning goes on from there.
///
/// A cleaning runs in three steps so the slow middle one does not hold the log's owner (the storage actor, which
/// every produce and fetch goes through): `PartitionLog.planCompaction` picks the segments and snapshots what the
/// cleaning needs of them (`Plan`), `run` reads them and writes the cleaned files without touching the log object
/// (the segments are sealed, so their bytes do not change), and `PartitionLog.finishCompaction` swaps the files in
/// only if the log still holds those very segments and nothing truncated or trimmed it meanwhile.
///
/// Deviation: the clean/dirty boundary is kept in memory, not in a `cleaner-offset-checkpoint`, so the first
/// cleaning after a restart takes the whole log as dirty.
public enum LogCleaner {
    /// Kafka's default `log.cleaner.dedupe.buffer.size` (128 MiB): the key map's memory.
    public static let defaultKeyMapBytes = 128 << 20
    static let cleanedSuffix = ".log.cleaned"
    static let swapSuffix = ".log.swap"

    /// A sealed segment as a cleaning reads it: its file, of which the first `size` bytes no longer change, and what
    /// dates and groups it.
    struct SegmentSnapshot: Sendable {
        var baseOffset: Int64
        var nextOffset: Int64
        /// Shared with the log's segment, which compares it by identity when the cleaning is applied.
        var file: LogFile
        var size: Int64
        var lastModified: Int64
        /// The newest record timestamp, -1 if none.
        var maxTimestamp: Int64
        var offsetIndexEntries: Int
        var timeIndexEntries: Int
    }

    /// One cleaning of one log: what `run` needs, taken on the log's owner.
    struct Plan: Sendable {
        var directory: String
        /// The cleanable segments, oldest first.
        var segments: [SegmentSnapshot]
        /// The index in `segments` of the first dirty one (`segments.count` when none is: a pass for tombstones).
        var firstDirty: Int
        /// The last offsets of the idempotent producers' last batches (kept even when emptied).
        var producersLastOffsets: Set<Int64>
        var now: Int64
        /// The log's config when planned (segment and index sizes bound the merges; a change abandons the cleaning).
        var config: LogConfig
        /// `log.cleaner.dedupe.buffer.size`: the most memory the key map may take.
        var keyMapBytes: Int
        /// The log's `structureVersion` when planned.
        var structureVersion: Int
    }

    /// What `run` made of a plan: one cleaned file per run of segments, over the plan's first segments up to `end`.
    struct Cleaning: Sendable {
        var groups: [CleanedGroup]
        /// Where the cleaned range ends: the next clean/dirty boundary.
        var end: Int64
        var segmentCount: Int { self.groups.reduce(0) { $0 + $1.segmentCount } }
    }

    /// What `run` wrote for one run of segments.
    struct CleanedGroup: Sendable {
        var path: String
        /// How many of the plan's segments it replaces.
        var segmentCount: Int
        var removed: Int
        /// Whether every batch was kept as it was: a single segment then stays and the file is dropped.
        var unchanged: Bool
        /// When the earliest tombstone kept may go (`Int64.max` if none was kept).
        var tombstoneExpiry: Int64
    }

    /// Runs `plan` away from the storage actor (a `@concurrent` function runs on the global executor), so produces
    /// and fetches go on meanwhile. Cancellation stops it between batches, with `CancellationError`.
    @concurrent
    static func clean(_ plan: Plan) async throws -> Cleaning {
        try run(plan, isCancelled: { Task.isCancelled })
    }

    /// Maps the dirty segments' keys (as many segments as the map's memory allows), then writes one `.cleaned` file
    /// per run of segments up to the last one mapped (the files are removed again if `run` fails).
    static func run(_ plan: Plan, isCancelled: () -> Bool = { false }) throws -> Cleaning {
        let (keys, mapped) = try keyMap(of: plan.segments[plan.firstDirty...], maxBytes: plan.keyMapBytes, isCancelled: isCancelled)
        let cleaned = Array(plan.segments.prefix(plan.firstDirty + mapped))
        var written: [CleanedGroup] = []
        var pending: String?
        // Keys of transactional values met so far, in the clean part too (the map has the dirty part's), across groups.
        var transactional = keys.transactional
        do {
            for group in groups(cleaned, maxBytes: plan.config.segmentBytes, maxIndexBytes: plan.config.maxIndexBytes) {
                pending = plan.directory + "/" + LogSegment.fileName(group[0].baseOffset, cleanedSuffix)
                written.append(try writeCleaned(group, keys: keys, transactional: &transactional, plan: plan, isCancelled: isCancelled))
            }
            return Cleaning(groups: written, end: cleaned.last!.nextOffset)
        } catch {
            discard(written)
            if let pending { try? FileSystem.remove(pending) }
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

    /// What the cleaner knows of the keys of the dirty range.
    struct KeyMap {
        /// The offset of the last record of each key (in compactable batches).
        var latest: [[UInt8]: Int64] = [:]
        /// Keys written in transactional batches: their tombstones stay, or a committed transactional value kept
        /// whole would come back once the tombstone after it went.
        var transactional: Set<[UInt8]> = []
        /// What the map takes in memory, roughly: each key's bytes and its array and table slot.
        var bytes = 0
        static let entryOverhead = 48
    }

    /// The keys of `segments`, whole segments at a time until the map holds more than `maxBytes` (so it may pass
    /// that by one segment's keys). - Returns: the map and how many segments it covers.
    static func keyMap(
        of segments: ArraySlice<SegmentSnapshot>, maxBytes: Int = .max, isCancelled: () -> Bool = { false }
    ) throws -> (map: KeyMap, segments: Int) {
        var map = KeyMap()
        var mapped = 0
        for segment in segments {
            if mapped > 0 && map.bytes > maxBytes { break }
            try forEachBatch(in: segment, isCancelled: isCancelled) { batch in
                let compactable = isCompactable(batch)
                if !compactable && batch.attributes.isControl { return }
                for record in try batch.records() {
                    guard let key = record.key else { continue }
                    let bytes = Array(key.readableBytesView)
                    if compactable {
                        if map.latest.updateValue(batch.baseOffset + Int64(record.offsetDelta), forKey: bytes) == nil {
                            map.bytes += bytes.count + KeyMap.entryOverhead
                        }
                    } else if map.transactional.insert(bytes).inserted {
                        map.bytes += bytes.count + KeyMap.entryOverhead
                    }
                }
            }
            mapped += 1
        }
        return (map, mapped)
    }

    /// Splits `segments` into runs of consecutive segments that fit together in one segment of `maxBytes`, with
    /// offsets the index's 32-bit relative offsets can address.
    /// The index entries of the merged segment stay within `maxIndexBytes`, as in Kafka's `groupSegmentsBySize`.
    static func groups(_ segments: [SegmentSnapshot], maxBytes: Int, maxIndexBytes: Int) -> [[SegmentSnapshot]] {
        var groups: [[SegmentSnapshot]] = []
        var current: [SegmentSnapshot] = []
        var size: Int64 = 0
        var offsetEntries = 0
        var timeEntries = 0
        for segment in segments {
            // One spare entry each: the seal adds a time-index entry, and entries fall where the merged file's bytes do.
            if let first = current.first,
               size + segment.size > Int64(maxBytes) || segment.nextOffset - first.baseOffset > Int64(Int32.max)
                || (offsetEntries + segment.offsetIndexEntries + 2) * 8 > maxIndexBytes
                || (timeEntries + segment.timeIndexEntries + 2) * 12 > maxIndexBytes
            {
                groups.append(current)
                current = []
                size = 0
                offsetEntries = 0
                timeEntries = 0
            }
            current.append(segment)
            size += segment.size
            offsetEntries += segment.offsetIndexEntries
            timeEntries += segment.timeIndexEntries
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
    /// `transactional` holds the keys of transactional values before the group and gains those in it.
    static func writeCleaned(
        _ group: [SegmentSnapshot], keys: KeyMap, transactional: inout Set<[UInt8]>, plan: Plan, isCancelled: () -> Bool = { false }
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
            let (sum, overflow) = written.addingReportingOverflow(plan.config.deleteRetentionMs)
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
                        if record.value == nil && !transactional.contains(bytes) {
                            if plan.now >= expiry { return false }
                            tombstoneExpiry = min(tombstoneExpiry, expiry)
                        }
                        return true
                    }
                    removed += Int(batch.recordsCount) - Int(kept?.recordsCount ?? 0)
                } else if !batch.attributes.isControl {
                    for record in try batch.records() { if let key = record.key { transactional.insert(Array(key.readableBytesView)) } }
                }
                guard let kept else { return }
                try file.write(kept.buffer, at: position)
                position += Int64(kept.sizeInBytes)
            }
        }
        try file.setLastModified(group.last!.lastModified)
        try file.sync()
        return CleanedGroup(
            path: path, segmentCount: group.count, removed: removed, unchanged: position == group.reduce(0) { $0 + $1.size },
            tombstoneExpiry: tombstoneExpiry)
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


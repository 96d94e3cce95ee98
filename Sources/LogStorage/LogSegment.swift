import KafkaRecords
import NIOCore

/// One segment of a partition log: `<baseOffset>.log` with its `.index` and `.timeindex`, file names being the
/// base offset in 20 digits (`00000000000000000000.log`).
///
/// The `.log` file holds record batches exactly as appended (offsets assigned, CRC checked, never re-encoded).
/// Indexes are derived data: rebuilt by `recover()` from the log, which is the only source of truth.
///
/// Not thread-safe: owned by one `PartitionLog`; readers only use the `LogFile` positions it hands out.
final class LogSegment {
    let baseOffset: Int64
    let log: LogFile
    private(set) var index: OffsetIndex
    private(set) var timeIndex: TimeIndex
    /// Bytes of valid data in the log file.
    private(set) var size: Int64
    /// The offset after the last record, once known.
    private(set) var nextOffset: Int64
    /// The largest record timestamp in the segment, -1 if none, and the offset of the batch that holds it.
    private(set) var maxTimestamp: Int64 = -1
    private var offsetOfMaxTimestamp: Int64 = -1
    /// The timestamp of the first batch (for `segment.ms`), -1 when empty.
    private(set) var firstBatchTimestamp: Int64 = -1
    private var bytesSinceIndexEntry = 0
    /// Roll and index-interval settings; the active segment takes a changed topic config (index sizes are fixed at creation).
    var config: LogConfig

    static func fileName(_ offset: Int64, _ suffix: String) -> String {
        let digits = String(offset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    /// Opens or creates the segment in `directory`. An existing log's size and last offset come from `recover()`
    /// or, for a segment known to be clean, from `loadClean()`.
    init(directory: String, baseOffset: Int64, config: LogConfig, create: Bool) throws {
        self.baseOffset = baseOffset
        self.config = config
        let prefix = directory + "/" + Self.fileName(baseOffset, "")
        self.log = try LogFile(path: prefix + ".log", create: create)
        self.size = try self.log.size()
        self.nextOffset = baseOffset
        do {
            self.index = try OffsetIndex(path: prefix + ".index", baseOffset: baseOffset, maxBytes: config.maxIndexBytes)
            self.timeIndex = try TimeIndex(path: prefix + ".timeindex", baseOffset: baseOffset, maxBytes: config.maxIndexBytes)
        } catch let error as LogStorageError where error.code == .corruptFile {
            // Indexes are derived data: start them afresh; the caller recovers the segment to refill them.
            try FileSystem.remove(prefix + ".index")
            try FileSystem.remove(prefix + ".timeindex")
            self.index = try OffsetIndex(path: prefix + ".index", baseOffset: baseOffset, maxBytes: config.maxIndexBytes)
            self.timeIndex = try TimeIndex(path: prefix + ".timeindex", baseOffset: baseOffset, maxBytes: config.maxIndexBytes)
            self.index.removeAll()
        }
    }

    var isEmpty: Bool { self.size == 0 }

    /// Appends a batch at the end of the file with `baseOffset` and `leaderEpoch` in its header (the batch's own
    /// fields are replaced on the way, in one `pwritev`, without copying the batch).
    func append(_ batch: RecordBatch, baseOffset: Int64, leaderEpoch: Int32) throws {
        let position = self.size
        var header = ByteBuffer()
        header.writeInteger(baseOffset, endianness: .big)
        header.writeInteger(batch.batchLength, endianness: .big)
        header.writeInteger(leaderEpoch, endianness: .big)
        let rest = batch.buffer.getSlice(at: batch.buffer.readerIndex + header.readableBytes, length: batch.sizeInBytes - header.readableBytes)!
        try self.log.write([header, rest], at: position)
        if self.firstBatchTimestamp < 0 { self.firstBatchTimestamp = batch.maxTimestamp }
        self.noteBatch(
            baseOffset, lastOffset: baseOffset + Int64(batch.lastOffsetDelta), maxTimestamp: batch.maxTimestamp, position: position,
            size: batch.sizeInBytes)
    }

    /// Updates sizes, offsets and indexes for a batch now in the file. As in Kafka, an offset-index entry is due
    /// every `index.interval.bytes`, and a time-index entry then records the running maximum timestamp with the
    /// offset where it occurred, so a lookup never lands after a batch that could satisfy it.
    private func noteBatch(_ baseOffset: Int64, lastOffset: Int64, maxTimestamp: Int64, position: Int64, size: Int) {
        if maxTimestamp > self.maxTimestamp {
            self.maxTimestamp = maxTimestamp
            self.offsetOfMaxTimestamp = lastOffset
        }
        if self.bytesSinceIndexEntry >= self.config.indexIntervalBytes {
            self.index.append(offset: baseOffset, position: position)
            self.timeIndex.append(timestamp: self.maxTimestamp, offset: self.offsetOfMaxTimestamp)
            self.bytesSinceIndexEntry = 0
        }
        self.bytesSinceIndexEntry += size
        self.size = position + Int64(size)
        self.nextOffset = lastOffset + 1
    }

    /// When the segment was created or loaded (wall clock), for `segment.ms` when batches carry no timestamps.
    var createdAt: Int64 = 0

    /// True when the next batch (`bytes` long, newest timestamp `batchTimestamp`) should go to a new segment:
    /// `segment.bytes`, a full index, offsets beyond the index's 32-bit range, or `segment.ms` measured as Kafka
    /// does, from the segment's first batch timestamp to the new batch's (wall clock only without timestamps);
    /// `max.compaction.lag.ms` too for a compacted log.
    func shouldRoll(adding bytes: Int, batchTimestamp: Int64, now: Int64) -> Bool {
        guard !self.isEmpty else { return false }
        let waited = self.firstBatchTimestamp >= 0 ? batchTimestamp - self.firstBatchTimestamp : now - self.createdAt
        return self.size + Int64(bytes) > Int64(self.config.segmentBytes) || self.index.isFull || self.timeIndex.isFull
            || waited > self.config.rollMs
            || self.nextOffset - self.baseOffset > Int64(UInt32.max) - 1
    }

    /// Calls `body` with the producer fields of every batch in the segment, in order (for rebuilding producer state).
    func forEachBatchHeader(
        _ body: (_ baseOffset: Int64, _ lastOffset: Int64, _ producerId: Int64, _ epoch: Int16, _ baseSequence: Int32, _ maxTimestamp: Int64) -> Void
    ) throws {
        var position: Int64 = 0
        while position + Int64(RecordBatch.headerSize) <= self.size {
            let header = try self.log.read(at: position, length: RecordBatch.headerSize)
            guard let base = header.getInteger(at: 0, endianness: .big, as: Int64.self),
                  let length = header.getInteger(at: 8, endianness: .big, as: Int32.self),
                  let delta = header.getInteger(at: 23, endianness: .big, as: Int32.self),
                  let producerId = header.getInteger(at: 43, endianness: .big, as: Int64.self),
                  let epoch = header.getInteger(at: 51, endianness: .big, as: Int16.self),
                  let sequence = header.getInteger(at: 53, endianness: .big, as: Int32.self),
                  let maxTimestamp = header.getInteger(at: 35, endianness: .big, as: Int64.self)
            else { return }
            body(base, base + Int64(delta), producerId, epoch, sequence, maxTimestamp)
            position += 12 + Int64(length)
        }
    }

    /// Reads the header fields of the batch at `position` without reading the records.
    func batchHeader(at position: Int64) throws -> (baseOffset: Int64, lastOffset: Int64, size: Int, maxTimestamp: Int64)? {
        guard position + Int64(RecordBatch.headerSize) <= self.size else { return nil }
        let header = try self.log.read(at: position, length: RecordBatch.headerSize)
        guard header.readableBytes == RecordBatch.headerSize,
              let base = header.getInteger(at: 0, endianness: .big, as: Int64.self),
              let length = header.getInteger(at: 8, endianness: .big, as: Int32.self),
              let delta = header.getInteger(at: 23, endianness: .big, as: Int32.self),
              let maxTimestamp = header.getInteger(at: 35, endianness: .big, as: Int64.self)
        else { return nil }
        return (base, base + Int64(delta), 12 + Int(length), maxTimestamp)
    }

    /// The file position of the first batch whose last offset is at or after `offset`, or `nil` if none.
    func position(of offset: Int64) throws -> Int64? {
        var position = self.index.lookup(offset).position
        while let header = try self.batchHeader(at: position) {
            if header.lastOffset >= offset { return position }
            position += Int64(header.size)
        }
        return nil
    }

    /// The first batch at or after `timestamp`: its position and an offset in it whose batch maxTimestamp
    /// reaches `timestamp` (Kafka's `findOffsetByTimestamp`, at batch granularity).
    func offset(forTimestamp timestamp: Int64) throws -> (offset: Int64, timestamp: Int64)? {
        guard self.maxTimestamp >= timestamp else { return nil }
        var position = self.timeIndex.lookup(timestamp).map { self.index.lookup($0.offset).position } ?? 0
        while let header = try self.batchHeader(at: position) {
            if header.maxTimestamp >= timestamp { return (header.baseOffset, header.maxTimestamp) }
            position += Int64(header.size)
        }
        return nil
    }

    /// Rebuilds the indexes and the segment's state by scanning the log. The first batch that is cut short, has
    /// an impossible length, a wrong magic or a bad CRC ends the valid data: the file is truncated there.
    /// - Returns: how many bytes were truncated.
    func recover() throws -> Int64 {
        let fileSize = try self.log.size()
        self.index.removeAll()
        self.timeIndex.removeAll()
        self.bytesSinceIndexEntry = 0
        self.size = 0
        self.nextOffset = self.baseOffset
        self.maxTimestamp = -1
        self.offsetOfMaxTimestamp = -1
        self.firstBatchTimestamp = -1
        var position: Int64 = 0
        while position + Int64(RecordBatch.headerSize) <= fileSize {
            guard let length = try self.log.read(at: position + 8, length: 4).getInteger(at: 0, endianness: .big, as: Int32.self),
                  length >= Int32(RecordBatch.headerSize - 12), position + 12 + Int64(length) <= fileSize
            else { break }
            let bytes = try self.log.read(at: position, length: 12 + Int(length))
            guard let batch = try? RecordBatch(bytes), (try? batch.validate()) != nil, batch.baseOffset >= self.nextOffset else { break }
            if self.firstBatchTimestamp < 0 { self.firstBatchTimestamp = batch.maxTimestamp }
            self.noteBatch(batch.baseOffset, lastOffset: batch.lastOffset, maxTimestamp: batch.maxTimestamp, position: position, size: batch.sizeInBytes)
            position += Int64(batch.sizeInBytes)
        }
        let truncated = fileSize - position
        if truncated > 0 { try self.log.truncate(to: position) }
        return truncated
    }

    /// Cheap checks that the indexes of a segment believed clean can be trusted: present when the log has data
    /// beyond one index interval, entries inside the segment's offsets and file. Failing segments are recovered.
    func indexesLookSane(nextBase: Int64?) -> Bool {
        if self.size > Int64(self.config.indexIntervalBytes) * 2 && self.index.entryCount == 0 { return false }
        if let last = self.index.lastOffset {
            if last < self.baseOffset || (nextBase.map { last >= $0 } ?? false) { return false }
            if self.index.entry(self.index.entryCount - 1).position >= self.size { return false }
        }
        return true
    }

    /// Loads the state of a segment whose data is known to be valid (before the recovery point): the end offset
    /// from the last index entry forward, the largest timestamp from the time index, without reading every batch.
    func loadClean(nextBase: Int64?) throws {
        var position = self.index.entryCount > 0 ? self.index.entry(self.index.entryCount - 1).position : 0
        var next = self.baseOffset
        var maxTimestamp = self.timeIndex.lastTimestamp ?? -1
        var offsetOfMax = self.timeIndex.entryCount > 0 ? self.timeIndex.entry(self.timeIndex.entryCount - 1).offset : -1
        while let header = try self.batchHeader(at: position) {
            if self.firstBatchTimestamp < 0 && position == 0 { self.firstBatchTimestamp = header.maxTimestamp }
            if header.maxTimestamp > maxTimestamp {
                maxTimestamp = header.maxTimestamp
                offsetOfMax = header.lastOffset
            }
            next = header.lastOffset + 1
            position += Int64(header.size)
        }
        if self.firstBatchTimestamp < 0, let first = try self.batchHeader(at: 0) { self.firstBatchTimestamp = first.maxTimestamp }
        self.nextOffset = max(next, nextBase.map { min($0, next) } ?? next)
        self.maxTimestamp = maxTimestamp
        self.offsetOfMaxTimestamp = offsetOfMax
        self.size = position
    }

    /// Drops every batch from the one containing `offset` on (followers truncating to the leader's log).
    /// - Returns: bytes removed.
    func truncate(to offset: Int64) throws -> Int64 {
        guard let position = try self.position(of: offset) else { return 0 }
        let removed = self.size - position
        try self.log.truncate(to: position)
        self.index.truncate(toOffset: offset)
        self.timeIndex.truncate(toOffset: offset)
        // Re-derive the tail state from what is left.
        _ = try self.recover()
        return removed
    }

    /// Takes appends again after `seal` (a truncation made it the active segment): the indexes get their room back.
    func resumeAppends() throws {
        try self.index.file.restoreCapacity()
        try self.timeIndex.file.restoreCapacity()
    }

    /// Stops taking appends: indexes are trimmed to their used size.
    func seal() throws {
        if self.maxTimestamp >= 0 { self.timeIndex.append(timestamp: self.maxTimestamp, offset: self.offsetOfMaxTimestamp) }
        try self.index.file.trimToUsedSize()
        try self.timeIndex.file.trimToUsedSize()
    }

    func flush() throws {
        try self.log.sync()
        self.index.file.sync()
        self.timeIndex.file.sync()
    }

    /// Deletes the segment's files. Readers holding the `LogFile` can finish their reads.
    func deleteFiles() throws {
        try FileSystem.remove(self.log.path)
        try FileSystem.remove(self.index.file.path)
        try FileSystem.remove(self.timeIndex.file.path)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A memory-mapped file of fixed-size entries, the shared body of `OffsetIndex` and `TimeIndex`.
///
/// Format: `entryCount` entries of `entrySize` bytes, nothing else. While open for appends the file is
/// preallocated to its maximum size (so the mapping never moves) and trimmed to the used size when the segment
/// is sealed or closed. The used size is known from the log after a crash, not from the file: `LogLoader`
/// rebuilds indexes of segments it recovers, and a file whose size is not a whole number of entries is corrupt.
///
/// Not thread-safe: owned by one `LogSegment`.
final class IndexFile {
    let path: String
    let entrySize: Int
    let maxEntries: Int
    private(set) var entryCount: Int
    private let descriptor: Int32
    private var mapping: UnsafeMutableRawPointer
    private let mappedBytes: Int

    /// Opens or creates the file; an existing one keeps its entries.
    /// - Throws: `LogStorageError(.corruptFile)` if its size is not a whole number of entries.
    init(path: String, entrySize: Int, maxBytes: Int) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LogStorageError(.io, "cannot open index", path: path, errno: errno) }
        var info = stat()
        fstat(fd, &info)
        let existing = Int(info.st_size)
        guard existing % entrySize == 0 else {
            close(fd)
            throw LogStorageError(.corruptFile, "index size \(existing) is not a multiple of \(entrySize)", path: path)
        }
        let maxEntries = max(maxBytes / entrySize, 1)
        let mapped = max(maxEntries, existing / entrySize) * entrySize
        guard ftruncate(fd, off_t(mapped)) == 0 else {
            close(fd)
            throw LogStorageError(.io, "cannot size index", path: path, errno: errno)
        }
        guard let pointer = mmap(nil, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), pointer != MAP_FAILED else {
            close(fd)
            throw LogStorageError(.io, "cannot map index", path: path, errno: errno)
        }
        self.path = path
        self.entrySize = entrySize
        self.maxEntries = mapped / entrySize
        self.entryCount = existing / entrySize
        self.descriptor = fd
        self.mapping = pointer
        self.mappedBytes = mapped
    }

    deinit {
        munmap(self.mapping, self.mappedBytes)
        close(self.descriptor)
    }

    var isFull: Bool { self.entryCount >= self.maxEntries }

    func entry(_ index: Int) -> UnsafeMutableRawPointer { self.mapping + index * self.entrySize }

    func append(_ write: (UnsafeMutableRawPointer) -> Void) {
        precondition(!self.isFull, "index append past its capacity")
        write(self.entry(self.entryCount))
        self.entryCount += 1
    }

    /// Keeps the first `count` entries.
    func truncate(toEntries count: Int) {
        self.entryCount = min(count, self.entryCount)
    }

    /// Sets the file to its used size (when the segment stops taking appends or closes).
    func trimToUsedSize() throws {
        guard ftruncate(self.descriptor, off_t(self.entryCount * self.entrySize)) == 0 else {
            throw LogStorageError(.io, "cannot trim index", path: self.path, errno: errno)
        }
    }

    /// Sets the file back to the mapped size, so a trimmed index can take entries again: a write to the mapping past
    /// the end of the file would kill the process with SIGBUS (Kafka's `resize(maxIndexSize)` on truncation).
    func restoreCapacity() throws {
        guard ftruncate(self.descriptor, off_t(self.mappedBytes)) == 0 else {
            throw LogStorageError(.io, "cannot size index", path: self.path, errno: errno)
        }
    }

    func sync() { msync(self.mapping, self.mappedBytes, MS_SYNC) }

    /// Binary search: the last entry index for which `isAtOrBefore` holds (entries are in ascending order).
    func lastIndex(where isAtOrBefore: (UnsafeMutableRawPointer) -> Bool) -> Int? {
        var low = 0
        var high = self.entryCount - 1
        var found: Int?
        while low <= high {
            let middle = (low + high) / 2
            if isAtOrBefore(self.entry(middle)) {
                found = middle
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        return found
    }
}

extension UnsafeMutableRawPointer {
    func loadBigEndian<T: FixedWidthInteger>(at offset: Int, as: T.Type) -> T {
        T(bigEndian: self.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    func storeBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        self.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }
}

/// What the offset and time indexes share: a fixed-entry `IndexFile` whose entries store offsets relative to
/// the segment's base offset.
protocol SegmentIndex {
    var baseOffset: Int64 { get }
    var file: IndexFile { get }
}

extension SegmentIndex {
    var isFull: Bool { self.file.isFull }
    var entryCount: Int { self.file.entryCount }
    func removeAll() { self.file.truncate(toEntries: 0) }

    /// Drops entries for offsets at or after `offset`; `relativeOffsetAt` is where an entry keeps its offset.
    func truncate(toOffset offset: Int64, relativeOffsetAt position: Int) {
        let keep = self.file.lastIndex(where: {
            self.baseOffset + Int64($0.loadBigEndian(at: position, as: UInt32.self)) < offset
        }).map { $0 + 1 } ?? 0
        self.file.truncate(toEntries: keep)
    }
}

/// Sparse map from offset to file position for one segment, stored as `<baseOffset>.index`.
///
/// Format: 8-byte entries, big-endian: UInt32 offset relative to the segment's base offset, then UInt32 byte
/// position of a batch in `<baseOffset>.log` (Kafka's format). An entry is added every `index.interval.bytes` of
/// appended data; lookups find the nearest entry at or before an offset and the log is scanned from there.
final class OffsetIndex: SegmentIndex {
    static let entrySize = 8
    let baseOffset: Int64
    let file: IndexFile

    init(path: String, baseOffset: Int64, maxBytes: Int) throws {
        self.baseOffset = baseOffset
        self.file = try IndexFile(path: path, entrySize: Self.entrySize, maxBytes: maxBytes)
    }

    func entry(_ index: Int) -> (offset: Int64, position: Int64) {
        let pointer = self.file.entry(index)
        return (
            self.baseOffset + Int64(pointer.loadBigEndian(at: 0, as: UInt32.self)),
            Int64(pointer.loadBigEndian(at: 4, as: UInt32.self))
        )
    }

    var lastOffset: Int64? { self.entryCount == 0 ? nil : self.entry(self.entryCount - 1).offset }

    func append(offset: Int64, position: Int64) {
        if let last = self.lastOffset, offset <= last { return }
        self.file.append { pointer in
            pointer.storeBigEndian(UInt32(offset - self.baseOffset), at: 0)
            pointer.storeBigEndian(UInt32(position), at: 4)
        }
    }

    /// The entry with the largest offset at or before `offset`, or the segment's start.
    func lookup(_ offset: Int64) -> (offset: Int64, position: Int64) {
        let relative = offset - self.baseOffset
        guard relative >= 0, let index = self.file.lastIndex(where: { Int64($0.loadBigEndian(at: 0, as: UInt32.self)) <= relative })
        else { return (self.baseOffset, 0) }
        return self.entry(index)
    }

    /// Drops entries for offsets at or after `offset`.
    func truncate(toOffset offset: Int64) { self.truncate(toOffset: offset, relativeOffsetAt: 0) }
}

/// Sparse map from timestamp to offset for one segment, stored as `<baseOffset>.timeindex`.
///
/// Format: 12-byte entries, big-endian: Int64 timestamp, then UInt32 offset relative to the base offset (Kafka's
/// format). Timestamps only increase: an entry is added when a batch raises the segment's largest timestamp and
/// an offset-index entry is due.
final class TimeIndex: SegmentIndex {
    static let entrySize = 12
    let baseOffset: Int64
    let file: IndexFile

    init(path: String, baseOffset: Int64, maxBytes: Int) throws {
        self.baseOffset = baseOffset
        self.file = try IndexFile(path: path, entrySize: Self.entrySize, maxBytes: maxBytes)
    }

    func entry(_ index: Int) -> (timestamp: Int64, offset: Int64) {
        let pointer = self.file.entry(index)
        return (pointer.loadBigEndian(at: 0, as: Int64.self), self.baseOffset + Int64(pointer.loadBigEndian(at: 8, as: UInt32.self)))
    }

    var lastTimestamp: Int64? { self.entryCount == 0 ? nil : self.entry(self.entryCount - 1).timestamp }

    func append(timestamp: Int64, offset: Int64) {
        if let last = self.lastTimestamp, timestamp <= last { return }
        self.file.append { pointer in
            pointer.storeBigEndian(timestamp, at: 0)
            pointer.storeBigEndian(UInt32(offset - self.baseOffset), at: 8)
        }
    }

    /// The entry with the largest timestamp at or before `timestamp`, if any.
    func lookup(_ timestamp: Int64) -> (timestamp: Int64, offset: Int64)? {
        self.file.lastIndex(where: { $0.loadBigEndian(at: 0, as: Int64.self) <= timestamp }).map(self.entry)
    }

    /// Drops entries for offsets at or after `offset`.
    func truncate(toOffset offset: Int64) { self.truncate(toOffset: offset, relativeOffsetAt: 8) }
}

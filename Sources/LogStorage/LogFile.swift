#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// An open file of the log (a segment's `.log`), accessed with positional reads and writes.
///
/// Positional I/O (`pread`/`pwrite`) shares no file position, so readers may read sealed regions while the
/// owner appends. The descriptor closes when the last reference goes: a reader holding a `LogReadSlice` keeps
/// a deleted segment's bytes readable until it is done (POSIX keeps unlinked files alive while open).
public final class LogFile: @unchecked Sendable {
    public let path: String
    /// The open descriptor; valid for the object's lifetime. Sendable because it is never reassigned and the
    /// calls used on it are positional.
    public let descriptor: Int32

    /// Opens (creating if asked) the file for reading and writing.
    /// - Throws: `LogStorageError(.io)`.
    public init(path: String, create: Bool) throws {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw LogStorageError(.io, "cannot open", path: path, errno: errno) }
        self.path = path
        self.descriptor = fd
    }

    deinit { close(self.descriptor) }

    /// The file's current size.
    public func size() throws -> Int64 {
        var info = stat()
        guard fstat(self.descriptor, &info) == 0 else { throw LogStorageError(.io, "fstat failed", path: self.path, errno: errno) }
        return Int64(info.st_size)
    }

    /// A new descriptor of the file (for a `sendfile` that may outlive this object's use); the caller closes it.
    public func duplicateDescriptor() throws -> CInt {
        let duplicate = dup(self.descriptor)
        guard duplicate >= 0 else { throw LogStorageError(.io, "dup failed", path: self.path, errno: errno) }
        return duplicate
    }

    /// When the file was last written, in epoch milliseconds.
    public func lastModifiedMs() throws -> Int64 {
        var info = stat()
        guard fstat(self.descriptor, &info) == 0 else { throw LogStorageError(.io, "fstat failed", path: self.path, errno: errno) }
        return Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
    }

    /// Sets the file's last write time (epoch milliseconds); the last access time is left as it is.
    public func setLastModified(_ milliseconds: Int64) throws {
        let omit = (1 << 30) - 2  // UTIME_OMIT, a macro Swift does not import
        var times = [timespec(tv_sec: 0, tv_nsec: omit),
                     timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)]
        guard futimens(self.descriptor, &times) == 0 else {
            throw LogStorageError(.io, "futimens failed", path: self.path, errno: errno)
        }
    }

    /// Writes all readable bytes of `buffer` at `offset`.
    public func write(_ buffer: ByteBuffer, at offset: Int64) throws {
        try buffer.withUnsafeReadableBytes { bytes in
            var done = 0
            while done < bytes.count {
                let written = pwrite(self.descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw LogStorageError(.io, "write failed", path: self.path, errno: errno)
                }
                done += written
            }
        }
    }

    /// Writes the readable bytes of `buffers`, one after the other, at `offset` (one `pwritev` when it can).
    public func write(_ buffers: [ByteBuffer], at offset: Int64) throws {
        var remaining = buffers.filter { $0.readableBytes > 0 }
        var position = offset
        while !remaining.isEmpty {
            let written = try Self.withIOVectors(remaining) { vectors in
                pwritev(self.descriptor, vectors.baseAddress, Int32(vectors.count), off_t(position))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw LogStorageError(.io, "write failed", path: self.path, errno: errno)
            }
            position += Int64(written)
            var consumed = written
            while consumed > 0, !remaining.isEmpty {
                let first = remaining[0].readableBytes
                if consumed >= first {
                    remaining.removeFirst()
                    consumed -= first
                } else {
                    remaining[0].moveReaderIndex(forwardBy: consumed)
                    consumed = 0
                }
            }
        }
    }

    private static func withIOVectors(_ buffers: [ByteBuffer], _ body: (UnsafeBufferPointer<iovec>) -> Int) throws -> Int {
        func nest(_ index: Int, _ vectors: inout [iovec]) -> Int {
            guard index < buffers.count else { return vectors.withUnsafeBufferPointer(body) }
            return buffers[index].withUnsafeReadableBytes { bytes in
                vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count))
                return nest(index + 1, &vectors)
            }
        }
        var vectors: [iovec] = []
        vectors.reserveCapacity(buffers.count)
        return nest(0, &vectors)
    }

    /// Reads up to `length` bytes at `offset`; fewer at the end of the file.
    public func read(at offset: Int64, length: Int) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try self.read(at: offset, length: length, appendingTo: &buffer)
        return buffer
    }

    /// Reads up to `length` bytes at `offset` onto the end of `buffer`.
    public func read(at offset: Int64, length: Int, appendingTo buffer: inout ByteBuffer) throws {
        guard length > 0 else { return }
        try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { free in
            var done = 0
            while done < length {
                let count = pread(self.descriptor, free.baseAddress! + done, length - done, off_t(offset) + off_t(done))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw LogStorageError(.io, "read failed", path: self.path, errno: errno)
                }
                if count == 0 { break }
                done += count
            }
            return done
        }
    }

    public func truncate(to size: Int64) throws {
        guard ftruncate(self.descriptor, off_t(size)) == 0 else {
            throw LogStorageError(.io, "truncate failed", path: self.path, errno: errno)
        }
    }

    /// Forces written data to disk (`fdatasync`).
    public func sync() throws {
        guard fdatasync(self.descriptor) == 0 else { throw LogStorageError(.io, "fdatasync failed", path: self.path, errno: errno) }
    }
}

/// File-system helpers the log needs.
enum FileSystem {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The size of the file system holding `path` and the bytes an unprivileged writer may still use.
    static func space(_ path: String) -> (total: Int64, usable: Int64)? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return (Int64(info.f_blocks) * Int64(info.f_frsize), Int64(info.f_bavail) * Int64(info.f_frsize))
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func createDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw LogStorageError(.io, "cannot create directory", path: current, errno: errno)
            }
        }
    }

    static func list(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw LogStorageError(.io, "cannot list", path: path, errno: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw LogStorageError(.io, "cannot delete", path: path, errno: errno) }
    }

    static func removeDirectory(_ path: String) throws {
        for name in try self.list(path) {
            let child = path + "/" + name
            if self.isDirectory(child) { try self.removeDirectory(child) } else { try self.remove(child) }
        }
        if rmdir(path) != 0 && errno != ENOENT { throw LogStorageError(.io, "cannot delete directory", path: path, errno: errno) }
    }

    static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 { throw LogStorageError(.io, "cannot rename to \(to)", path: from, errno: errno) }
    }

    /// Writes `text` to `path` atomically: a temporary file, fsync, rename, fsync of the directory.
    static func writeAtomically(_ text: String, to path: String) throws {
        try self.writeAtomically(ByteBuffer(string: text), to: path)
    }

    /// Writes `bytes` to `path` atomically: a temporary file, fsync, rename, fsync of the directory.
    static func writeAtomically(_ bytes: ByteBuffer, to path: String) throws {
        let temporary = path + ".tmp"
        let file = try LogFile(path: temporary, create: true)
        try file.truncate(to: 0)
        try file.write(bytes, at: 0)
        try file.sync()
        try self.rename(temporary, path)
        self.syncDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]))
    }

    /// Makes the renames and deletions in `directory` durable (best effort, as a directory fsync can fail harmlessly).
    static func syncDirectory(_ directory: String) {
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    static func readText(_ path: String) throws -> String? {
        try self.readBytes(path).map { String(buffer: $0) }
    }

    static func readBytes(_ path: String) throws -> ByteBuffer? {
        guard self.exists(path) else { return nil }
        let file = try LogFile(path: path, create: false)
        return try file.read(at: 0, length: Int(try file.size()))
    }
}

import NIOCore

/// The `records` bytes of a Produce or Fetch partition: a sequence of v2 batches and/or legacy message set
/// entries, possibly ending in a partial batch (Fetch responses cut at byte limits).
///
/// Both formats keep, at byte 8, an int32 with the number of bytes that follow byte 12, and at byte 16 the magic,
/// so the set can be walked without knowing the format in advance.
public struct RecordSet: Sendable {
    public enum Entry: Sendable {
        case batch(RecordBatch)
        /// A legacy (magic 0/1) message set entry, possibly a compressed wrapper.
        case legacy(ByteBuffer, magic: Int8)
    }

    public var buffer: ByteBuffer

    public init(_ buffer: ByteBuffer) {
        self.buffer = buffer
    }

    /// Splits the set into entries.
    /// - Returns: the whole entries, and how many bytes at the end were a partial entry.
    /// - Throws: `RecordBatchError` for an entry whose length or magic is impossible.
    public func entries() throws -> (entries: [Entry], partialTailBytes: Int) {
        var rest = self.buffer
        var entries: [Entry] = []
        while rest.readableBytes > 0 {
            guard rest.readableBytes >= 17,
                  let length = rest.getInteger(at: rest.readerIndex + 8, endianness: .big, as: Int32.self),
                  let magic = rest.getInteger(at: rest.readerIndex + 16, as: Int8.self)
            else { return (entries, rest.readableBytes) }
            guard length >= 5 else { throw RecordBatchError(.invalidLength, "entry length \(length)") }
            guard rest.readableBytes >= 12 + Int(length) else { return (entries, rest.readableBytes) }
            let bytes = rest.readSlice(length: 12 + Int(length))!
            switch magic {
            case 2: entries.append(.batch(try RecordBatch(bytes)))
            case 0, 1: entries.append(.legacy(bytes, magic: magic))
            default: throw RecordBatchError(.unsupportedMagic, "magic \(magic)")
            }
        }
        return (entries, 0)
    }

    /// The v2 batches of a set that must consist of whole v2 batches only (Produce v3+).
    /// - Throws: `RecordBatchError` for a partial tail or a legacy entry.
    public func batches() throws -> [RecordBatch] {
        let (entries, partial) = try self.entries()
        guard partial == 0 else { throw RecordBatchError(.truncated, "\(partial) bytes of a partial batch at the end") }
        return try entries.map { entry in
            guard case .batch(let batch) = entry else { throw RecordBatchError(.unsupportedMagic, "a legacy message where batches are required") }
            return batch
        }
    }
}

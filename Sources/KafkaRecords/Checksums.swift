import CCompression
import CFerryChecksums
import NIOCore

/// CRC-32C (Castagnoli), the checksum of record batches v2. Uses the SSE4.2 instruction where available.
public enum CRC32C {
    /// The CRC-32C of `bytes`, or of `bytes` appended to data whose CRC was `crc`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        ferry_crc32c(crc, bytes.baseAddress, bytes.count)
    }

    /// The CRC-32C of the readable bytes of `buffer`.
    public static func checksum(_ buffer: ByteBuffer) -> UInt32 {
        buffer.withUnsafeReadableBytes { Self.checksum($0) }
    }

    /// True when the hardware instruction is in use.
    public static var isHardwareAccelerated: Bool { ferry_crc32c_is_hardware() != 0 }
}

/// CRC-32 (IEEE, zlib's), the checksum of legacy messages (magic 0 and 1).
public enum CRC32 {
    public static func checksum(_ buffer: ByteBuffer) -> UInt32 {
        buffer.withUnsafeReadableBytes { bytes in
            UInt32(crc32(0, bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
        }
    }
}

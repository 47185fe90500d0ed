#if canImport(Glibc)
import Glibc
#endif

extension UnsafeRawBufferPointer {
    /// The bytes as a new array (one memcpy, fast in debug builds too).
    public func copiedBytes() -> [UInt8] {
        guard let base = baseAddress, count > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let destination = buffer.baseAddress { memcpy(destination, base, count) }
            initialized = count
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends raw bytes with one memcpy.
    public mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        let start = count
        let needed = start + bytes.count
        if capacity < needed { reserveCapacity(Swift.max(needed, capacity * 2)) }
        #if DEBUG
        // Unoptimized, append(contentsOf:) copies byte by byte: zero-fill (a memset) + memcpy.
        append(contentsOf: repeatElement(0, count: bytes.count))
        withUnsafeMutableBytes { destination in
            if let base = destination.baseAddress { memcpy(base + start, source, bytes.count) }
        }
        #else
        // Optimized, it is one memcpy into the reserved capacity (no zero-fill pass).
        append(contentsOf: UnsafeBufferPointer(start: source.assumingMemoryBound(to: UInt8.self), count: bytes.count))
        #endif
    }
}

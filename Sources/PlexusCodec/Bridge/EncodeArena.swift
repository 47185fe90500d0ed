#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CProtobufC

/// Scratch memory for laying a message out as protobuf-c structures before packing it.
///
/// The first 2 KiB live on the stack of the encoding call; larger needs go to `malloc` and are
/// freed when the encode finishes. Nothing allocated here outlives one encode.
public struct EncodeArena {
    @usableFromInline var cursor: UnsafeMutableRawPointer
    @usableFromInline var remaining: Int
    @usableFromInline var overflow: [UnsafeMutableRawPointer] = []
    @usableFromInline var pinned: [[UInt8]] = []
    /// Scratch space the one-pass encoder packs into before copying out.
    @usableFromInline static let scratchBytes = 1024

    /// `size` bytes of the stack block when they are still free, else nil (never mallocs).
    @inlinable
    public mutating func scratch(_ size: Int) -> UnsafeMutableRawPointer? {
        guard overflow.isEmpty, size <= remaining else { return nil }
        return allocate(size)
    }

    /// Bytes fields at least this large are packed straight from the Swift array's storage.
    @usableFromInline static let pinThreshold = 4096

    @usableFromInline static let stackBytes = 2048
    @usableFromInline static let chunkBytes = 8192

    @inlinable
    init(block: UnsafeMutableRawBufferPointer) {
        // withUnsafeTemporaryAllocation never hands out a null base for a non-zero size.
        self.cursor = block.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 16).unsafelyUnwrapped
        self.remaining = block.count
    }

    /// Runs `body` with a fresh arena and frees what it allocated afterwards.
    @inlinable
    public static func with<R>(_ body: (UnsafeMutablePointer<EncodeArena>) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: stackBytes, alignment: 16) { block in
            var arena = EncodeArena(block: block)
            defer { arena.releaseOverflow() }
            return withUnsafeMutablePointer(to: &arena) { body($0) }
        }
    }

    @inlinable
    mutating func releaseOverflow() {
        for pointer in overflow { free(pointer) }
    }

    /// `size` bytes aligned to 16, not initialised.
    @inlinable
    public mutating func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let rounded = (size + 15) & ~15
        if rounded <= remaining {
            let result = cursor
            cursor += rounded
            remaining -= rounded
            return result
        }
        return allocateSlow(rounded)
    }

    @usableFromInline
    mutating func allocateSlow(_ rounded: Int) -> UnsafeMutableRawPointer {
        if rounded > Self.chunkBytes / 2 {
            let block = mallocOrDie(rounded)
            overflow.append(block)
            return block
        }
        let block = mallocOrDie(Self.chunkBytes)
        overflow.append(block)
        cursor = block + rounded
        remaining = Self.chunkBytes - rounded
        return block
    }

    @usableFromInline
    func mallocOrDie(_ size: Int) -> UnsafeMutableRawPointer {
        guard let block = malloc(size) else {
            fatalError("out of memory encoding a message (\(size) bytes)")
        }
        return block
    }

    /// Keeps `bytes` alive for the rest of the encode and returns its storage. A native array's
    /// buffer does not move while a reference to it is held and nobody mutates it; the arena
    /// holds that reference and never mutates it.
    @inlinable
    public mutating func pin(_ bytes: [UInt8]) -> UnsafePointer<UInt8> {
        pinned.append(bytes)
        return pinned[pinned.count - 1].withUnsafeBufferPointer { $0.baseAddress.unsafelyUnwrapped }
    }

    /// `size` zeroed bytes.
    @inlinable
    public mutating func allocateZeroed(_ size: Int) -> UnsafeMutableRawPointer {
        let pointer = allocate(size)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        return pointer
    }

    /// A protobuf-c message structure initialised with its defaults.
    @inlinable
    public mutating func allocateMessage(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> UnsafeMutableRawPointer {
        // protobuf_c_message_init writes the whole structure (the generated init value, or
        // zeroes plus defaults), so the memory needs no clearing first.
        let pointer = allocate(descriptor.pointee.sizeof_message)
        protobuf_c_message_init(descriptor, pointer)
        return pointer
    }

    /// A copy of `bytes` inside the arena.
    @inlinable
    public mutating func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer {
        let pointer = allocate(max(bytes.count, 1))
        if let source = bytes.baseAddress, bytes.count > 0 {
            pointer.copyMemory(from: source, byteCount: bytes.count)
        }
        return pointer
    }

    /// A NUL-terminated copy of `string` inside the arena.
    @inlinable
    public mutating func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        var string = string
        return string.withUTF8 { utf8 in
            let pointer = allocate(utf8.count + 1)
            if let source = utf8.baseAddress, utf8.count > 0 {
                pointer.copyMemory(from: source, byteCount: utf8.count)
            }
            pointer.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
            return pointer.assumingMemoryBound(to: CChar.self)
        }
    }
}

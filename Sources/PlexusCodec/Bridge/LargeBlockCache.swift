#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CProtobufC

/// The allocator protobuf-c decodes with: ordinary `malloc` for small blocks, and one reusable
/// block per thread for large ones (bytes and string fields of 256 KiB and more).
///
/// protobuf-c copies every bytes field into fresh memory that Swift then copies into an array.
/// A fresh multi-megabyte `malloc` is served by `mmap` and costs a page fault per 4 KiB, which
/// made a 1 MiB field cost ~35 memcpy's; reusing one warm block per thread brings it back to
/// about two. The block is at most as large as the largest field the thread decoded.
@usableFromInline
enum LargeBlockCache {
    static let threshold = 256 * 1024

    /// Per-thread state; reached through a pthread key so that any thread can decode.
    struct Slot {
        var block: UnsafeMutableRawPointer?
        var capacity: Int
        var inUse: Bool
    }

    nonisolated(unsafe) static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            guard let slot = pointer?.assumingMemoryBound(to: Slot.self) else { return }
            free(slot.pointee.block)
            slot.deinitialize(count: 1)
            slot.deallocate()
        }
        return key
    }()

    static func slot() -> UnsafeMutablePointer<Slot> {
        if let existing = pthread_getspecific(key) {
            return existing.assumingMemoryBound(to: Slot.self)
        }
        let slot = UnsafeMutablePointer<Slot>.allocate(capacity: 1)
        slot.initialize(to: Slot(block: nil, capacity: 0, inUse: false))
        pthread_setspecific(key, slot)
        return slot
    }

    /// The allocator to pass to `protobuf_c_message_unpack` / `free_unpacked`.
    @usableFromInline
    static var allocator: ProtobufCAllocator {
        ProtobufCAllocator(
            alloc: { _, size in
                if size >= LargeBlockCache.threshold {
                    let slot = LargeBlockCache.slot()
                    if !slot.pointee.inUse {
                        if slot.pointee.capacity < size {
                            free(slot.pointee.block)
                            slot.pointee.block = malloc(size)
                            slot.pointee.capacity = slot.pointee.block == nil ? 0 : size
                        }
                        if let block = slot.pointee.block {
                            slot.pointee.inUse = true
                            return block
                        }
                    }
                }
                return malloc(size)
            },
            free: { _, pointer in
                guard let pointer else { return }
                if let existing = pthread_getspecific(LargeBlockCache.key) {
                    let slot = existing.assumingMemoryBound(to: Slot.self)
                    if slot.pointee.block == pointer {
                        slot.pointee.inUse = false
                        return
                    }
                }
                free(pointer)
            },
            allocator_data: nil)
    }
}

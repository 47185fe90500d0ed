#if canImport(Glibc)
import Glibc
#endif

/// A value guarded by a `pthread_mutex_t`.
///
/// Used instead of `Synchronization.Mutex`, whose futex-based Linux implementation
/// ThreadSanitizer cannot see (it reports every access under it as a race).
public final class Locked<Value>: @unchecked Sendable {  // every access to the value holds the mutex
    // Both live in their own allocations: stable addresses for pthread, and no dynamic
    // exclusivity checks (a class's stored `var` costs four runtime calls per withLock).
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let storage: UnsafeMutablePointer<Value>

    public init(_ value: Value) {
        storage = .allocate(capacity: 1)
        storage.initialize(to: value)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        // Adaptive (glibc's PTHREAD_MUTEX_ADAPTIVE_NP = 3): spins briefly before sleeping in the
        // kernel, so the short critical sections of a producer/consumer pair do not turn into
        // a context switch on every collision.
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, 3)
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
        storage.deinitialize(count: 1)
        storage.deallocate()
    }

    /// Runs `body` with exclusive access to the value (inlinable: callers in other modules get
    /// it specialized, without runtime generic metadata for `R`).
    @inlinable
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&storage.pointee)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A value guarded by a `pthread_mutex_t`.
///
/// Used instead of `Synchronization.Mutex`, whose futex-based Linux implementation
/// ThreadSanitizer cannot see (it reports every access under it as a race).
public final class Locked<Value>: @unchecked Sendable {  // every access to `value` holds `mutex`
    @usableFromInline var mutex = pthread_mutex_t()
    @usableFromInline var value: Value

    public init(_ value: Value) {
        self.value = value
        // Adaptive (glibc's PTHREAD_MUTEX_ADAPTIVE_NP = 3): spins briefly before sleeping in the
        // kernel, so the short critical sections of a producer/consumer pair do not turn into
        // a context switch on every collision.
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, 3)
        pthread_mutex_init(&mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(&mutex)
    }

    /// Runs `body` with exclusive access to the value (inlinable: callers in other modules get
    /// it specialized, without runtime generic metadata for `R`).
    @inlinable
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body(&value)
    }
}

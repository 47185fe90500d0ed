
/// A fixed set of event loops; servers spread connections over them.
public final class EventLoopGroup: Sendable {
    /// The loops, each on its own thread.
    public let loops: [EventLoop]
    private let counter = Locked(0)

    /// Starts `count` loops (at least one).
    public init(loopCount count: Int = 1, name: String = "plexus-loop") {
        loops = (0..<max(1, count)).map { EventLoop(name: "\(name)-\($0)") }
    }

    /// A group over loops that already run (shared with clients, say). Whoever started them
    /// shuts them down; a server given this group does not.
    public init(loops: [EventLoop]) {
        precondition(!loops.isEmpty, "an EventLoopGroup needs at least one loop")
        self.loops = loops
    }

    /// The next loop, round-robin.
    public func next() -> EventLoop {
        let index = counter.withLock { value -> Int in defer { value += 1 }; return value }
        return loops[index % loops.count]
    }

    /// Shuts every loop down.
    public func shutdown() async {
        for loop in loops { await loop.shutdown() }
    }
}

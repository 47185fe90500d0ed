#if canImport(Glibc)
import Glibc
#endif

/// A bad configuration value; the message names the variable and the accepted form.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let variable: String
    public let value: String
    public let expected: String

    public var description: String {
        "invalid value '\(value)' for \(variable): expected \(expected)"
    }
}

/// Reads Plexus settings from environment variables (`PLEXUS_*`); code overrides them by
/// setting the configuration's properties afterwards.
enum Environment {
    static func get(_ name: String, _ environment: [String: String]?) -> String? {
        if let environment { return environment[name] }
        return getenv(name).map { String(cString: $0) }
    }

    static func int(_ name: String, _ environment: [String: String]?, range: ClosedRange<Int>, default value: Int) throws(ConfigurationError) -> Int {
        guard let text = get(name, environment), !text.isEmpty else { return value }
        guard let parsed = Int(text.trimmingSpaces), range.contains(parsed) else {
            throw ConfigurationError(variable: name, value: text, expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return parsed
    }

    static func milliseconds(_ name: String, _ environment: [String: String]?, default value: Duration) throws(ConfigurationError) -> Duration {
        guard let text = get(name, environment), !text.isEmpty else { return value }
        guard let parsed = Int(text.trimmingSpaces), parsed >= 0 else {
            throw ConfigurationError(variable: name, value: text, expected: "a whole number of milliseconds (0 or more)")
        }
        return .milliseconds(parsed)
    }

    static func host(_ name: String, _ environment: [String: String]?, default value: String) throws(ConfigurationError) -> String {
        guard let text = get(name, environment), !text.isEmpty else { return value }
        let host = text.trimmingSpaces
        let isIPv4 = host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
        guard isIPv4 || host.contains(":") || host == "localhost" else {
            throw ConfigurationError(variable: name, value: text, expected: "a numeric IPv4 or IPv6 address, or localhost")
        }
        return host
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// How a server listens and what it accepts.
///
/// Environment variables (read by ``fromEnvironment(_:)``): `PLEXUS_TCP_HOST` (default
/// 127.0.0.1), `PLEXUS_TCP_PORT` (default 0: OS-assigned, read the real one from
/// ``PlexusServer/port``), `PLEXUS_MAX_MESSAGE_SIZE` (bytes, default 4 MiB),
/// `PLEXUS_MAX_CONCURRENT_STREAMS` (default 100), `PLEXUS_MAX_HEADER_SIZE` (default 16 KiB),
/// `PLEXUS_INITIAL_WINDOW` (bytes, default 1 MiB), `PLEXUS_KEEPALIVE_MS` (default 30000, 0 =
/// off), `PLEXUS_KEEPALIVE_TIMEOUT_MS` (default 10000), `PLEXUS_LOOPS` (default 1),
/// `PLEXUS_GRACE_PERIOD_MS` (default 5000: how long ``PlexusServer/shutdown(gracePeriod:)``
/// lets in-flight calls finish), `PLEXUS_AUTH_TOKEN` (default none: clients must send it in HELLO).
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 0
    public var maxMessageSize = 4 * 1024 * 1024
    public var maxConcurrentStreams = 100
    public var maxHeaderSize = 16 * 1024
    public var initialWindow = 1024 * 1024
    public var keepaliveInterval: Duration = .seconds(30)
    public var keepaliveTimeout: Duration = .seconds(10)
    public var loopCount = 1
    /// How long a shutdown lets in-flight calls finish before cancelling them.
    public var gracePeriod: Duration = .seconds(5)
    /// When set, clients must send this token in HELLO.
    public var authToken: String?
    /// Called on the loop when a call ends, with the method, how long it ran and its status
    /// code (the graph's profiler records per-method latency with it). Must be cheap.
    public var callObserver: (@Sendable (MethodDescriptor, Duration, Status.Code) -> Void)?

    public init() {}

    /// Defaults overridden by `PLEXUS_*` environment variables (`environment` nil = the process's).
    public static func fromEnvironment(_ environment: [String: String]? = nil) throws(ConfigurationError) -> ServerConfiguration {
        var c = ServerConfiguration()
        c.host = try Environment.host("PLEXUS_TCP_HOST", environment, default: c.host)
        c.port = try Environment.int("PLEXUS_TCP_PORT", environment, range: 0...65535, default: c.port)
        c.maxMessageSize = try Environment.int("PLEXUS_MAX_MESSAGE_SIZE", environment, range: 1...(1 << 30), default: c.maxMessageSize)
        c.maxConcurrentStreams = try Environment.int("PLEXUS_MAX_CONCURRENT_STREAMS", environment, range: 1...1_000_000, default: c.maxConcurrentStreams)
        c.maxHeaderSize = try Environment.int("PLEXUS_MAX_HEADER_SIZE", environment, range: 256...(1 << 24), default: c.maxHeaderSize)
        c.initialWindow = try Environment.int("PLEXUS_INITIAL_WINDOW", environment, range: 1024...(1 << 30), default: c.initialWindow)
        c.keepaliveInterval = try Environment.milliseconds("PLEXUS_KEEPALIVE_MS", environment, default: c.keepaliveInterval)
        c.keepaliveTimeout = try Environment.milliseconds("PLEXUS_KEEPALIVE_TIMEOUT_MS", environment, default: c.keepaliveTimeout)
        c.loopCount = try Environment.int("PLEXUS_LOOPS", environment, range: 1...256, default: c.loopCount)
        c.gracePeriod = try Environment.milliseconds("PLEXUS_GRACE_PERIOD_MS", environment, default: c.gracePeriod)
        if let token = Environment.get("PLEXUS_AUTH_TOKEN", environment), !token.isEmpty { c.authToken = token }
        return c
    }
}

/// How a client connects and what it accepts.
public struct ClientConfiguration: Sendable {
    public var maxMessageSize = 4 * 1024 * 1024
    public var maxHeaderSize = 16 * 1024
    public var initialWindow = 1024 * 1024
    public var keepaliveInterval: Duration = .seconds(30)
    public var keepaliveTimeout: Duration = .seconds(10)
    public var connectTimeout: Duration = .seconds(5)
    /// Reconnect backoff: first delay, growth factor, cap and ± jitter fraction.
    public var backoffInitial: Duration = .milliseconds(100)
    public var backoffMultiplier = 1.6
    public var backoffMax: Duration = .seconds(5)
    public var backoffJitter = 0.2
    public var authToken = ""

    public init() {}

    /// Defaults overridden by `PLEXUS_MAX_MESSAGE_SIZE`, `PLEXUS_INITIAL_WINDOW`,
    /// `PLEXUS_KEEPALIVE_MS`, `PLEXUS_KEEPALIVE_TIMEOUT_MS`, `PLEXUS_AUTH_TOKEN`.
    public static func fromEnvironment(_ environment: [String: String]? = nil) throws(ConfigurationError) -> ClientConfiguration {
        var c = ClientConfiguration()
        c.maxMessageSize = try Environment.int("PLEXUS_MAX_MESSAGE_SIZE", environment, range: 1...(1 << 30), default: c.maxMessageSize)
        c.initialWindow = try Environment.int("PLEXUS_INITIAL_WINDOW", environment, range: 1024...(1 << 30), default: c.initialWindow)
        c.keepaliveInterval = try Environment.milliseconds("PLEXUS_KEEPALIVE_MS", environment, default: c.keepaliveInterval)
        c.keepaliveTimeout = try Environment.milliseconds("PLEXUS_KEEPALIVE_TIMEOUT_MS", environment, default: c.keepaliveTimeout)
        if let token = Environment.get("PLEXUS_AUTH_TOKEN", environment), !token.isEmpty { c.authToken = token }
        return c
    }
}

extension Duration {
    var milliseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds)) * 1000 + UInt64(max(0, attoseconds) / 1_000_000_000_000_000)
    }

    var microseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds)) * 1_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000_000)
    }
}

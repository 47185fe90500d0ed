// plexus-graph-peer: a Swift member of a Plexus graph for demos and cross-language tests.
//   plexus-graph-peer publish   --graph ADDR --topic T --count N [--rate HZ] [--wait-subscribers K]
//   plexus-graph-peer subscribe --graph ADDR --topic T --count N     (prints "ready", then index=<i> text=<t>)
//   plexus-graph-peer own       --graph ADDR --unit U                (prints "ready", then applied <field>=<value>)
import ArgumentParser
import Foundation
import PlexusGraph
import PlexusProto

struct GraphOptions: ParsableArguments {
    @Option(help: "Graph server host:port (default: PLEXUS_GRAPH_ADDRESS or 127.0.0.1:25979).")
    var graph: String?

    func address() throws -> GraphAddress {
        try graph.map { try GraphAddress(parsing: $0) } ?? GraphAddress.fromEnvironment()
    }
}

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

@main
struct GraphPeer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plexus-graph-peer",
        abstract: "A Swift member of a Plexus graph (publisher, subscriber or settings owner).",
        subcommands: [Publish.self, Subscribe.self, Own.self])
}

struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Publish plexus.testing.v1.Sample messages 1...N.")
    @OptionGroup var options: GraphOptions
    @Option var topic: String
    @Option var count = 10
    @Option(help: "Messages per second (0 = as fast as possible).") var rate = 0.0
    @Option(help: "Wait until this many subscribers are routed before publishing.") var waitSubscribers = 1
    @Option(help: "Bytes of data per sample.") var size = 0

    func run() async throws {
        let graph = try await GraphClient.connect(name: "swift-publisher", address: try options.address())
        let publisher = try await graph.publisher(topic: topic, type: Plexus_Testing_V1_Sample.self)
        let deadline = ContinuousClock.now + .seconds(20)
        while publisher.subscriberCount < waitSubscribers {
            guard ContinuousClock.now < deadline else { throw ValidationError("no subscriber joined topic '\(topic)' within 20 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
        say("publishing \(count) on \(topic)")
        let data = [UInt8](repeating: 0x5a, count: size)
        for i in 1...max(1, count) {
            var s = Plexus_Testing_V1_Sample()
            s.index = UInt64(i)
            s.text = "sample-\(i)"
            s.data = data
            try await publisher.publish(s)
            if rate > 0 { try await Task.sleep(for: .seconds(1.0 / rate)) }
        }
        // Let the streams drain before leaving.
        try await Task.sleep(for: .milliseconds(300))
        say("published \(count)")
        await graph.close()
    }
}

struct Subscribe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print N plexus.testing.v1.Sample messages, then exit.")
    @OptionGroup var options: GraphOptions
    @Option var topic: String
    @Option var count = 10

    func run() async throws {
        let graph = try await GraphClient.connect(name: "swift-subscriber", address: try options.address())
        let samples = try await graph.subscribe(topic: topic, type: Plexus_Testing_V1_Sample.self)
        say("ready")
        var received = 0
        for try await s in samples {
            say("index=\(s.index) text=\(s.text)")
            received += 1
            if received == count { break }
        }
        await graph.close()
    }
}

struct Own: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Own a unit with FilterSettings and apply updates.")
    @OptionGroup var options: GraphOptions
    @Option var unit: String
    @Option(help: "Exit after this many seconds (0 = run until killed).") var seconds = 0.0
    @Option(help: "Take this long to apply each update (to test an owner dying mid-update).") var applyDelayMs = 0

    func run() async throws {
        let graph = try await GraphClient.connect(name: "swift-owner", units: [unit], address: try options.address())
        var initial = Plexus_Testing_V1_FilterSettings()
        initial.cutoffHz = 10
        initial.order = 2
        initial.window = "hann"
        initial.enabled = true
        initial.device = "dev0"
        let codec = SchemaCodec(schema: Plexus_Testing_V1_FilterSettings.settingsSchema)
        let last = LastValue(initial)
        let delay = applyDelayMs
        _ = try await graph.ownSettings(unit: unit, initial: initial) { new in
            if delay > 0 {
                say("applying")
                try await Task.sleep(for: .milliseconds(delay))
            }
            let before = try codec.decode(last.swap(new).serializedBytes())
            let after = try codec.decode(new.serializedBytes())
            for (old, now) in zip(before, after) where old.value != now.value {
                say("applied \(now.field.name)=\(now.value)")
            }
        }
        say("ready")
        if seconds > 0 {
            try await Task.sleep(for: .seconds(seconds))
        } else {
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        await graph.close()
    }
}

final class LastValue: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Plexus_Testing_V1_FilterSettings
    init(_ v: Plexus_Testing_V1_FilterSettings) { value = v }
    func swap(_ new: Plexus_Testing_V1_FilterSettings) -> Plexus_Testing_V1_FilterSettings {
        lock.lock()
        defer { lock.unlock() }
        let old = value
        value = new
        return old
    }
}

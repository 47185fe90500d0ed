import Foundation
import Plexus
@testable import PlexusGraph
import PlexusProto
import XCTest

final class GraphEndToEndTests: XCTestCase {
    func startServer(_ configure: (inout GraphServerConfiguration) -> Void = { _ in }) async throws -> GraphServer {
        var c = GraphServerConfiguration()
        c.port = 0
        configure(&c)
        let server = GraphServer(configuration: c)
        try await server.start()
        return server
    }

    func sample(_ i: Int) -> Plexus_Testing_V1_Sample {
        var s = Plexus_Testing_V1_Sample()
        s.index = UInt64(i)
        s.text = "sample-\(i)"
        return s
    }

    func waitFor(_ what: String, timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            if ContinuousClock.now > deadline { XCTFail("timed out waiting for \(what)"); return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func testPublishToAnotherMemberInOrderAndLocally() async throws {
        let server = try await startServer()
        let a = try await GraphClient.connect(name: "pub", address: server.address)
        let b = try await GraphClient.connect(name: "sub", address: server.address)
        let remote = try await b.subscribe(topic: "raw", type: Plexus_Testing_V1_Sample.self)
        // Room for everything: this test reads the local subscription only after the remote one.
        let local = try await a.subscribe(topic: "raw", type: Plexus_Testing_V1_Sample.self, maxInFlight: 1024)
        let publisher = try await a.publisher(topic: "raw", type: Plexus_Testing_V1_Sample.self)
        try await waitFor("two routes") { publisher.subscriberCount == 2 }
        for i in 1...500 { try await publisher.publish(sample(i)) }
        var got: [UInt64] = []
        for try await s in remote {
            got.append(s.index)
            if got.count == 500 { break }
        }
        XCTAssertEqual(got, (1...500).map(UInt64.init))
        var gotLocal: [UInt64] = []
        for try await s in local {
            gotLocal.append(s.index)
            if gotLocal.count == 500 { break }
        }
        XCTAssertEqual(gotLocal, (1...500).map(UInt64.init))
        await a.close()
        await b.close()
        await server.shutdown()
    }

    func testPublishingFromTheEventLoopWritesIdleLinksDirectlyAndKeepsOrder() async throws {
        let server = try await startServer()
        let a = try await GraphClient.connect(name: "pub", address: server.address)
        let b = try await GraphClient.connect(name: "sub", address: server.address)
        let remote = try await b.subscribe(topic: "paced", type: Plexus_Testing_V1_Sample.self, maxInFlight: 4096)
        let publisher = try await a.publisher(topic: "paced", type: Plexus_Testing_V1_Sample.self)
        try await waitFor("a route") { publisher.subscriberCount == 1 }
        // Bursts (queued behind the link task) and pauses (the link idle: written directly).
        let loop = a.eventLoop
        try await Task(executorPreference: loop) {
            for burst in 0..<20 {
                for i in 1...50 {
                    var s = Plexus_Testing_V1_Sample()
                    s.index = UInt64(burst * 50 + i)
                    try await publisher.publish(s)
                }
                try await loop.sleep(milliseconds: 3)
            }
        }.value
        var got: [UInt64] = []
        for try await s in remote {
            got.append(s.index)
            if got.count == 1000 { break }
        }
        XCTAssertEqual(got, (1...1000).map(UInt64.init))
        let direct = publisher.snapshot.withLock { links in
            links.reduce(UInt64(0)) { n, link in
                if case .remote(let r) = link { return n + r.directWrites.load(ordering: .relaxed) }
                return n
            }
        }
        XCTAssertGreaterThan(direct, 0, "no message took the direct path")
        await a.close()
        await b.close()
        await server.shutdown()
    }

    func testPublishingRunsKeepsOrderLocallyAndRemotely() async throws {
        let server = try await startServer()
        let a = try await GraphClient.connect(name: "pub", address: server.address)
        let b = try await GraphClient.connect(name: "sub", address: server.address)
        let remote = try await b.subscribe(topic: "runs", type: Plexus_Testing_V1_Sample.self, maxInFlight: 16)
        let local = try await a.subscribe(topic: "runs", type: Plexus_Testing_V1_Sample.self, maxInFlight: 16)
        let lossy = try await a.subscribe(topic: "runs", type: Plexus_Testing_V1_Sample.self, maxInFlight: 8, policy: .dropOldest)
        let publisher = try await a.publisher(topic: "runs", type: Plexus_Testing_V1_Sample.self)
        try await waitFor("three routes") { publisher.subscriberCount == 3 }
        let readers = [remote, local].map { sub in
            Task { () -> [UInt64] in
                var got: [UInt64] = []
                for try await s in sub {
                    got.append(s.index)
                    if got.count == 1000 { break }
                }
                return got
            }
        }
        for start in stride(from: 1, through: 1000, by: 100) {
            try await publisher.publish(contentsOf: (start..<start + 100).map(sample))
        }
        for reader in readers {
            let got = try await reader.value
            XCTAssertEqual(got, (1...1000).map(UInt64.init))
        }
        XCTAssertEqual(lossy.droppedCount, 992)
        var it = lossy.makeAsyncIterator()
        let first = try await it.next()
        XCTAssertEqual(first?.index, 993)
        await a.close()
        await b.close()
        await server.shutdown()
    }

    /// A process whose old session is not noticed dead yet re-registers: the new session takes
    /// over (same id, its units), and the old one ending later does not remove it.
    func testANewSessionOfTheSameProcessReplacesTheOldOne() async throws {
        let server = try await startServer()
        let channel = PlexusChannel(host: "127.0.0.1", port: server.port)
        let client = Plexus_Graph_V1_GraphServiceClient(channel: channel)
        var info = Plexus_Graph_V1_ProcessInfo()
        info.name = "blinking"
        info.pid = 4242
        info.host = "h"
        info.units = ["cam"]
        func open(_ info: Plexus_Graph_V1_ProcessInfo) -> (Task<Void, Error>, Mailbox<String>) {
            let ids = Mailbox<String>()
            let task = Task {
                try await client.session { writer, events in
                    var r = Plexus_Graph_V1_SessionRequest()
                    var reg = Plexus_Graph_V1_Register()
                    reg.process = info
                    r.kind = .register(reg)
                    try await writer.write(r)
                    for try await e in events { if case .registered(let x)? = e.kind { ids.push(x.processId) } }
                }
            }
            return (task, ids)
        }
        let (first, firstIds) = open(info)
        guard let id = await firstIds.next() else { return XCTFail("no registration") }
        info.previousProcessId = id
        let (second, secondIds) = open(info)
        let again = await secondIds.next()
        XCTAssertEqual(again, id)
        first.cancel()
        _ = await first.result
        try await Task.sleep(for: .milliseconds(200))
        let list = try await client.listProcesses(Plexus_Graph_V1_ListProcessesRequest())
        XCTAssertEqual(list.processes.map(\.processId), [id])
        XCTAssertEqual(list.processes.first?.units, ["cam"])
        second.cancel()
        _ = await second.result
        await channel.close()
        await server.shutdown()
    }

    func testTheDataPlaneRefusesAWrongTypeOrAnUnknownSubscriber() async throws {
        let server = try await startServer()
        let b = try await GraphClient.connect(name: "sub", address: server.address)
        _ = try await b.subscribe(topic: "typed", type: Plexus_Testing_V1_Sample.self)
        let topology = try await b.graph.getTopology(Plexus_Graph_V1_TopologyRequest())
        guard let id = topology.topics.first?.subscribers.first?.subscriberId else { return XCTFail("no subscriber") }
        let address = try GraphAddress(parsing: b.address)
        let channel = PlexusChannel(host: address.host, port: address.port)
        let delivery = Plexus_Graph_V1_TopicDeliveryClient(channel: channel)
        for (subscriber, type, code) in [(id, "plexus.testing.v1.FilterSettings", Status.Code.failedPrecondition),
                                         (id + 1000, "plexus.testing.v1.Sample", .notFound)] {
            var options = CallOptions()
            options.metadata.add("plexus-subscriber-id", String(subscriber))
            options.metadata.add("plexus-type-name", type)
            do {
                _ = try await delivery.deliver(options: options) { writer in
                    try await writer.write(Plexus_Graph_V1_TopicBatch())
                }
                XCTFail("delivery to \(subscriber) as \(type) must be refused")
            } catch let e as RPCError {
                XCTAssertEqual(e.code, code, e.message)
            }
        }
        // The right type name but bytes that are not a Sample (tag 0 is never valid): that
        // stream fails with INVALID_ARGUMENT.
        var bad = Plexus_Graph_V1_TopicBatch()
        var message = Plexus_Graph_V1_TopicMessage()
        message.sequence = 1
        message.payload = [0x00, 0x01]
        bad.messages = [message]
        var options = CallOptions()
        options.metadata.add("plexus-subscriber-id", String(id))
        options.metadata.add("plexus-type-name", "plexus.testing.v1.Sample")
        do {
            _ = try await delivery.deliver(options: options) { writer in try await writer.write(bad) }
            XCTFail("a payload that does not decode must fail the stream")
        } catch let e as RPCError {
            XCTAssertEqual(e.code, .invalidArgument, e.message)
            XCTAssertTrue(e.message.contains("plexus.testing.v1.Sample"), e.message)
        }
        await channel.close()
        await b.close()
        await server.shutdown()
    }

    func testConnectedTopicsAndTypeCheck() async throws {
        let server = try await startServer()
        let a = try await GraphClient.connect(name: "a", address: server.address)
        let b = try await GraphClient.connect(name: "b", address: server.address)
        let downstream = try await b.subscribe(topic: "filtered", type: Plexus_Testing_V1_Sample.self)
        let publisher = try await a.publisher(topic: "raw", type: Plexus_Testing_V1_Sample.self)
        try await a.connect("raw", to: "filtered")
        try await waitFor("route through the edge") { publisher.subscriberCount == 1 }
        try await publisher.publish(sample(7))
        var it = downstream.makeAsyncIterator()
        let first = try await it.next()
        XCTAssertEqual(first?.index, 7)
        do {
            _ = try await b.publisher(topic: "raw", type: Plexus_Testing_V1_FilterSettings.self)
            XCTFail("a second type on a topic must be refused")
        } catch let e as RPCError {
            XCTAssertEqual(e.code, .failedPrecondition)
            XCTAssertTrue(e.message.contains("plexus.testing.v1.Sample"), e.message)
        }
        do {
            try await a.connect("filtered", to: "raw")
            XCTFail("a cycle must be refused")
        } catch let e as RPCError {
            XCTAssertEqual(e.code, .failedPrecondition)
        }
        await a.close()
        await b.close()
        await server.shutdown()
    }

    func testDropOldestKeepsPublisherRunningAndCounts() async throws {
        let server = try await startServer()
        let a = try await GraphClient.connect(name: "a", address: server.address)
        let slow = try await a.subscribe(topic: "t", type: Plexus_Testing_V1_Sample.self, maxInFlight: 8, policy: .dropOldest)
        let publisher = try await a.publisher(topic: "t", type: Plexus_Testing_V1_Sample.self)
        try await waitFor("route") { publisher.subscriberCount == 1 }
        for i in 1...1000 { try await publisher.publish(sample(i)) }
        XCTAssertEqual(slow.droppedCount, 992)
        var it = slow.makeAsyncIterator()
        let first = try await it.next()
        XCTAssertEqual(first?.index, 993)
        await a.close()
        await server.shutdown()
    }

    func testOwnershipCollisionNamesTheHolder() async throws {
        let server = try await startServer()
        let a = try await GraphClient.connect(name: "first", units: ["filter"], address: server.address)
        do {
            _ = try await GraphClient.connect(name: "second", units: ["filter"], address: server.address)
            XCTFail("duplicate ownership must fail")
        } catch let e as RPCError {
            XCTAssertEqual(e.code, .alreadyExists)
            XCTAssertTrue(e.message.contains(a.processId), e.message)
        }
        await a.close()
        await server.shutdown()
    }

    func testSettingsUpdateRoutedToOwnerValidatedAndLogged() async throws {
        let server = try await startServer()
        let owner = try await GraphClient.connect(name: "owner", units: ["filter"], address: server.address)
        var initial = Plexus_Testing_V1_FilterSettings()
        initial.cutoffHz = 10
        initial.window = "hann"
        initial.device = "dev0"
        initial.order = 2
        let applied = Counter()
        let settings = try await owner.ownSettings(unit: "filter", initial: initial) { _ in applied.increment() }
        let tool = try await GraphClient.connect(name: "tool", address: server.address)

        var v = Plexus_Settings_V1_FieldValue()
        v.kind = .doubleValue(42.5)
        let event = try await tool.updateSetting(unit: "filter", field: "cutoff_hz", value: v)
        XCTAssertEqual(event.source, .updated)
        XCTAssertEqual(event.fieldPath, "cutoff_hz")
        XCTAssertEqual(settings.value.cutoffHz, 42.5)
        XCTAssertEqual(settings.value.window, "hann")
        XCTAssertEqual(applied.value, 1)
        let snapshot = try await tool.settingsSnapshot(unit: "filter")
        XCTAssertEqual(try Plexus_Testing_V1_FilterSettings(serializedBytes: snapshot.units[0].value).cutoffHz, 42.5)

        for (field, value, rule) in [("cutoff_hz", Plexus_Settings_V1_FieldValue.Kind.doubleValue(5000), "max"),
                                     ("window", .stringValue("square"), "choices"),
                                     ("device", .stringValue("dev9"), "read-only"),
                                     ("order", .stringValue("two"), "integer"),
                                     ("nope", .intValue(1), "not in the settings schema")] {
            var bad = Plexus_Settings_V1_FieldValue()
            bad.kind = value
            do {
                _ = try await tool.updateSetting(unit: "filter", field: field, value: bad)
                XCTFail("\(field) update must be refused")
            } catch let e as RPCError {
                XCTAssertEqual(e.code, .invalidArgument)
                XCTAssertTrue(e.message.contains(field) && e.message.contains(rule), e.message)
            }
        }
        XCTAssertEqual(applied.value, 1, "refused updates never reach the owner")

        var changed = settings.value
        changed.gain = 3
        try await settings.set(changed)
        let events = try await tool.graph.settingsEvents(Plexus_Graph_V1_SettingsEventsRequest())
        XCTAssertEqual(events.events.map(\.source), [.declared, .updated, .ownerReported])

        await owner.close()
        try await waitFor("the owner to leave") { try await tool.graph.listProcesses(Plexus_Graph_V1_ListProcessesRequest()).processes.count == 1 }
        var gone = Plexus_Settings_V1_FieldValue()
        gone.kind = .doubleValue(1)
        do {
            _ = try await tool.updateSetting(unit: "filter", field: "cutoff_hz", value: gone)
            XCTFail("the unit's settings left with its owner")
        } catch let e as RPCError {
            XCTAssertEqual(e.code, .notFound)
        }
        var ping = Plexus_Control_V1_ProcessControlRequest()
        ping.unit = "filter"
        ping.operation = .ping(Plexus_Control_V1_PingRequest())
        let answer = try await tool.graph.processRequest(ping)
        XCTAssertEqual(answer.errorCode, .processDisconnected)
        await tool.close()
        await server.shutdown()
    }

    func testSettingsSubscriptionReplaysThenStreamsWithoutGapOrDuplicate() async throws {
        let server = try await startServer { $0.settingsHistory = 20_000 }
        let owner = try await GraphClient.connect(name: "owner", address: server.address)
        var value = Plexus_Testing_V1_FilterSettings()
        value.order = 1
        let settings = try await owner.ownSettings(unit: "f", initial: value)
        for i in 0..<10_000 {
            value.gain = Double(i)
            try await settings.set(value)
        }
        var request = Plexus_Graph_V1_SubscribeSettingsRequest()
        request.afterSeq = 0
        var seqs: [UInt64] = []
        try await owner.graph.subscribeSettings(request) { stream in
            for try await item in stream {
                guard case .event(let e)? = item.kind else { XCTFail("unexpected gap"); return }
                seqs.append(e.seq)
                if seqs.count == 10_001 {
                    value.gain = -1
                    try await settings.set(value)
                }
                if seqs.count == 10_002 { return }
            }
        }
        XCTAssertEqual(seqs, (1...10_002).map(UInt64.init))
        await owner.close()
        await server.shutdown()
    }

    func testRoutedControlPingStatsAndCustom() async throws {
        let server = try await startServer()
        let echo: GraphClient.CustomHandler = { $0 }
        let member = try await GraphClient.connect(name: "member", units: ["u"], address: server.address, customOperations: ["echo": echo])
        let tool = try await GraphClient.connect(name: "tool", address: server.address)
        var r = Plexus_Control_V1_ProcessControlRequest()
        r.unit = "u"
        r.requestId = 9
        r.operation = .getProcessStats(Plexus_Control_V1_GetProcessStatsRequest())
        let stats = try await tool.graph.processRequest(r)
        XCTAssertEqual(stats.requestId, 9)
        guard case .processStats(let s)? = stats.result else { return XCTFail("no stats: \(stats)") }
        XCTAssertEqual(s.pid, UInt32(getpid()))
        XCTAssertEqual(s.units, ["u"])
        var custom = Plexus_Control_V1_CustomOperation()
        custom.name = "echo"
        custom.payload = Google_Protobuf_Any(packing: s)
        r.operation = .custom(custom)
        let echoed = try await tool.graph.processRequest(r)
        guard case .custom(let c)? = echoed.result else { return XCTFail("no custom result: \(echoed)") }
        XCTAssertEqual(try c.payload?.unpack(Plexus_Control_V1_ProcessStats.self), s)
        custom.name = "missing"
        r.operation = .custom(custom)
        let missing = try await tool.graph.processRequest(r)
        XCTAssertEqual(missing.errorCode, .handlerNotConfigured)
        r.unit = "nobody"
        let nobody = try await tool.graph.processRequest(r)
        XCTAssertEqual(nobody.errorCode, .unroutableUnit)
        await member.close()
        await tool.close()
        await server.shutdown()
    }

    func testTopologySnapshotAndReplayableEvents() async throws {
        let server = try await startServer()
        let a = try await GraphClient.connect(name: "a", units: ["cam"], address: server.address)
        _ = try await a.publisher(topic: "frames", type: Plexus_Testing_V1_Sample.self)
        let snapshot = try await a.graph.getTopology(Plexus_Graph_V1_TopologyRequest())
        XCTAssertEqual(snapshot.processes.map(\.processId), [a.processId])
        XCTAssertEqual(snapshot.units.map(\.name), ["cam"])
        XCTAssertEqual(snapshot.topics.map(\.name), ["frames"])
        var request = Plexus_Graph_V1_WatchTopologyRequest()
        request.afterSeq = 0
        let b = try await GraphClient.connect(name: "b", address: server.address)
        await b.close()
        var kinds: [String] = []
        try await a.graph.watchTopology(request) { stream in
            for try await item in stream {
                guard case .event(let e)? = item.kind, let k = e.kind else { continue }
                switch k {
                case .processJoined: kinds.append("joined")
                case .processLeft: kinds.append("left")
                case .unitAdded: kinds.append("unit")
                case .publisherAdded: kinds.append("publisher")
                default: kinds.append("other")
                }
                if kinds.count == 5 { return }
            }
        }
        XCTAssertEqual(kinds, ["joined", "unit", "publisher", "joined", "left"])
        await a.close()
        await server.shutdown()
    }
    func testProfilingSnapshotsAndTracesThroughTheGraph() async throws {
        let server = try await startServer()
        let a = try await GraphClient.connect(name: "profiled", address: server.address)
        let b = try await GraphClient.connect(name: "peer", address: server.address)
        let topic = "profiled-\(UUID().uuidString.prefix(8))"
        let samples = try await b.subscribe(topic: topic, type: Plexus_Testing_V1_Sample.self, maxInFlight: 1024)
        let publisher = try await a.publisher(topic: topic, type: Plexus_Testing_V1_Sample.self)
        try await waitFor("route") { publisher.subscriberCount == 1 }
        var trace = Plexus_Graph_V1_SetTraceRequest()
        trace.enabled = true
        trace.ttl = Google_Protobuf_Duration(.seconds(30))
        trace.topics = [topic]
        let traced = try await a.graph.setTrace(trace)
        XCTAssertEqual(Set(traced.processIds), [a.processId, b.processId])
        for i in 1...100 { try await publisher.publish(sample(i)) }
        var it = samples.makeAsyncIterator()
        for _ in 1...100 { _ = try await it.next() }
        let snapshots = try await a.graph.profilingSnapshots(Plexus_Graph_V1_ProfilingSnapshotsRequest())
        // Both members live in this test process, so they share one profiler: each snapshot has it all.
        XCTAssertEqual(Set(snapshots.snapshots.map(\.processId)), [a.processId, b.processId])
        let t = snapshots.snapshots[0].topics.first { $0.topic == topic }
        XCTAssertEqual(t?.messagesPublished, 100)
        XCTAssertEqual(t?.messagesReceived, 100)
        XCTAssertEqual(t?.bytesReceived, t?.bytesPublished)
        XCTAssertEqual(t?.deliveryLatency?.count, 100)
        XCTAssertGreaterThan(t?.deliveryLatency?.p99Nanos ?? 0, 0)
        var kinds: Set<Plexus_Profiling_V1_TraceKind> = []
        try await a.graph.subscribeTraces(Plexus_Graph_V1_SubscribeTracesRequest()) { stream in
            for try await batch in stream {
                for sample in batch.samples where sample.topic == topic { kinds.insert(sample.kind) }
                if kinds.count == 2 { return }
            }
        }
        XCTAssertEqual(kinds, [.publish, .receive])
        await a.close()
        await b.close()
        await server.shutdown()
    }

    func testEndpointRouterRoundRobinDropsInstancesThatGoAway() async throws {
        let server = try await startServer()
        let w1 = try await GraphClient.connect(name: "w1", address: server.address)
        let w2 = try await GraphClient.connect(name: "w2", address: server.address)
        // Both instances point at a real Plexus server (the graph server itself) so calls work.
        let i1 = try await w1.registerEndpoint(namespace: "ns", component: "graph", endpoint: "list", address: "\(server.address)")
        let i2 = try await w2.registerEndpoint(namespace: "ns", component: "graph", endpoint: "list", address: "localhost:\(server.port)")
        let tool = try await GraphClient.connect(name: "tool", address: server.address)
        let router = try await tool.endpointRouter(namespace: "ns", component: "graph", endpoint: "list")
        XCTAssertEqual(Set(router.instances.map(\.instanceId)), [i1.instanceId, i2.instanceId])
        let picks = try (0..<4).map { _ in try router.next().instance.instanceId }
        XCTAssertEqual(picks, [i1.instanceId, i2.instanceId, i1.instanceId, i2.instanceId])
        let listed = try await router.withChannel { channel in
            try await Plexus_Graph_V1_GraphServiceClient(channel: channel).listProcesses(Plexus_Graph_V1_ListProcessesRequest())
        }
        XCTAssertEqual(listed.processes.count, 3)
        await w2.close()
        try await waitFor("the instance to go away") { router.instances.count == 1 }
        XCTAssertEqual(try router.next().instance.instanceId, i1.instanceId)
        var dup = Plexus_Graph_V1_RegisterEndpointRequest()
        dup.processId = w1.processId
        dup.name = i1.name
        dup.address = i1.address
        do {
            _ = try await w1.graph.registerEndpoint(dup)
            XCTFail("the same endpoint at the same address twice must be refused")
        } catch let e as RPCError {
            XCTAssertEqual(e.code, .alreadyExists)
        }
        await router.close()
        await w1.close()
        await tool.close()
        await server.shutdown()
    }

}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

final class GraphClientConnectTests: XCTestCase {
    func testConnectWithoutAGraphServerFailsClearly() async throws {
        let started = ContinuousClock.now
        do {
            _ = try await GraphClient.connect(name: "lonely", address: GraphAddress(host: "127.0.0.1", port: 1))
            XCTFail("connect must fail without a graph server")
        } catch let e as RPCError {
            XCTAssertEqual(e.code, .unavailable)
            XCTAssertTrue(e.message.contains("no graph server at 127.0.0.1:1"), e.message)
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(10))
    }
}

import Foundation
import Plexus
import PlexusGraph
import PlexusProto
import XCTest

/// Graph members in separate processes: kills, a graph-server restart, a frozen process.
final class GraphReliabilityTests: XCTestCase {
    func client(_ address: String, name: String = "test", units: [String] = []) async throws -> GraphClient {
        try await GraphClient.connect(name: name, units: units, address: try GraphAddress(parsing: address))
    }

    func processes(_ graph: GraphClient) async throws -> [Plexus_Graph_V1_ProcessDescription] {
        try await graph.graph.listProcesses(Plexus_Graph_V1_ListProcessesRequest()).processes
    }

    func eventually(_ what: String, timeout: Duration = .seconds(8), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw SetupFailure("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func sample(_ i: Int) -> Plexus_Testing_V1_Sample {
        var s = Plexus_Testing_V1_Sample()
        s.index = UInt64(i)
        s.text = "sample-\(i)"
        return s
    }

    func testPublisherAndSubscriberInSeparateProcesses() async throws {
        let (server, address) = try await Binaries.graphServer()
        defer { server.stop() }
        let sub = try Binaries.peer(["subscribe", "--topic", "t", "--count", "200"], graph: address)
        defer { sub.stop() }
        try await sub.waitForLine { $0 == "ready" }
        let pub = try Binaries.peer(["publish", "--topic", "t", "--count", "200"], graph: address)
        defer { pub.stop() }
        let subStatus = try await sub.waitForExit()
        XCTAssertEqual(subStatus, 0)
        let indices = sub.output.filter { $0.hasPrefix("index=") }.map { $0.split(separator: " ")[0] }
        XCTAssertEqual(indices, (1...200).map { "index=\($0)"[...] })
    }

    func testKilledSubscriberIsDroppedWithoutStallingTheOthers() async throws {
        let (server, address) = try await Binaries.graphServer()
        defer { server.stop() }
        let victim = try Binaries.peer(["subscribe", "--topic", "t", "--count", "100000"], graph: address)
        let survivor = try Binaries.peer(["subscribe", "--topic", "t", "--count", "3000"], graph: address)
        defer { victim.stop(); survivor.stop() }
        try await victim.waitForLine { $0 == "ready" }
        try await survivor.waitForLine { $0 == "ready" }
        let graph = try await client(address)
        let publisher = try await graph.publisher(topic: "t", type: Plexus_Testing_V1_Sample.self)
        try await eventually("two routes") { publisher.subscriberCount == 2 }
        for i in 1...1000 { try await publisher.publish(sample(i)) }
        try await victim.waitForLine { $0.hasPrefix("index=1000 ") }
        victim.signal(SIGKILL)
        for i in 1001...3000 { try await publisher.publish(sample(i)) }
        try await survivor.waitForLine(timeout: .seconds(20)) { $0.hasPrefix("index=3000 ") }
        let survivorStatus = try await survivor.waitForExit()
        XCTAssertEqual(survivorStatus, 0)
        try await eventually("the victim to leave the graph") { try await self.processes(graph).count == 1 }
        let topology = try await graph.graph.getTopology(Plexus_Graph_V1_TopologyRequest())
        XCTAssertEqual(topology.topics.first?.subscribers.count ?? -1, 0)
        await graph.close()
    }

    func testKilledPublisherIsReleased() async throws {
        let (server, address) = try await Binaries.graphServer()
        defer { server.stop() }
        let graph = try await client(address)
        let samples = try await graph.subscribe(topic: "t", type: Plexus_Testing_V1_Sample.self)
        let pub = try Binaries.peer(["publish", "--topic", "t", "--count", "1000000", "--rate", "200"], graph: address)
        defer { pub.stop() }
        var it = samples.makeAsyncIterator()
        _ = try await it.next()
        pub.signal(SIGKILL)
        try await eventually("the publisher process to leave") { try await self.processes(graph).count == 1 }
        let topology = try await graph.graph.getTopology(Plexus_Graph_V1_TopologyRequest())
        XCTAssertEqual(topology.topics.first?.publishers.count ?? -1, 0)
        await graph.close()
    }

    func testOwnerKilledDuringASettingsUpdateCommitsNothing() async throws {
        let (server, address) = try await Binaries.graphServer()
        defer { server.stop() }
        let owner = try Binaries.peer(["own", "--unit", "filter", "--apply-delay-ms", "5000"], graph: address)
        defer { owner.stop() }
        try await owner.waitForLine { $0 == "ready" }
        let graph = try await client(address)
        var value = Plexus_Settings_V1_FieldValue()
        value.kind = .doubleValue(77)
        let update = Task { try await graph.updateSetting(unit: "filter", field: "cutoff_hz", value: value, timeout: .seconds(10)) }
        try await owner.waitForLine { $0 == "applying" }
        owner.signal(SIGKILL)
        do {
            _ = try await update.value
            XCTFail("the update must fail when its owner dies")
        } catch let e as RPCError {
            XCTAssertEqual(e.code, .unavailable, e.message)
            XCTAssertEqual(e.metadata["plexus-routing-code"], "PROCESS_DISCONNECTED")
        }
        let log = try await graph.graph.settingsEvents(Plexus_Graph_V1_SettingsEventsRequest())
        XCTAssertEqual(log.events.map(\.source), [.declared, .removed])
        await graph.close()
    }

    func testGraphServerRestartMembersReRegisterWithoutDuplicates() async throws {
        // The OS picks the first port (a random fixed one may be taken); the restart reuses it.
        var (server, address) = try await Binaries.graphServer()
        let port = try GraphAddress(parsing: address).port
        let owner = try Binaries.peer(["own", "--unit", "filter"], graph: address)
        let sub = try Binaries.peer(["subscribe", "--topic", "t", "--count", "2"], graph: address)
        defer { owner.stop(); sub.stop() }
        try await owner.waitForLine { $0 == "ready" }
        try await sub.waitForLine { $0 == "ready" }
        let before = try await client(address)
        let ids = Set(try await processes(before).map(\.processId))
        XCTAssertEqual(ids.count, 3)
        await before.close()

        server.stop()
        (server, address) = try await Binaries.graphServer(port: port)
        defer { server.stop() }
        let graph = try await client(address)
        try await eventually("both members to re-register") { try await self.processes(graph).count == 3 }
        let after = try await processes(graph)
        XCTAssertTrue(ids.isSuperset(of: after.map(\.processId).filter { $0 != graph.processId }), "members keep their ids")
        XCTAssertEqual(after.flatMap(\.units), ["filter"])
        // Settings and subscriptions were declared again: both work through the new server.
        let snapshot = try await graph.settingsSnapshot(unit: "filter")
        XCTAssertEqual(snapshot.units.count, 1)
        let publisher = try await graph.publisher(topic: "t", type: Plexus_Testing_V1_Sample.self)
        try await eventually("the route to the re-registered subscriber") { publisher.subscriberCount == 1 }
        try await publisher.publish(sample(1))
        try await publisher.publish(sample(2))
        let subStatus = try await sub.waitForExit()
        XCTAssertEqual(subStatus, 0)
        await graph.close()
    }

    func testFrozenProcessIsDroppedAfterTheHeartbeatTimeoutAndComesBack() async throws {
        let (server, address) = try await Binaries.graphServer(extra: ["--heartbeat-timeout-ms", "1000"])
        defer { server.stop() }
        let owner = try Binaries.peer(["own", "--unit", "filter"], graph: address)
        defer { owner.signal(SIGCONT); owner.stop() }
        try await owner.waitForLine { $0 == "ready" }
        let graph = try await client(address)
        let id = try await processes(graph).first { $0.units == ["filter"] }?.processId
        owner.signal(SIGSTOP)
        let frozeAt = ContinuousClock.now
        try await eventually("the frozen owner to be dropped") { try await self.processes(graph).count == 1 }
        XCTAssertLessThan(ContinuousClock.now - frozeAt, .seconds(3))
        var ping = Plexus_Control_V1_ProcessControlRequest()
        ping.unit = "filter"
        ping.operation = .ping(Plexus_Control_V1_PingRequest())
        let answer = try await graph.graph.processRequest(ping)
        XCTAssertEqual(answer.errorCode, .processDisconnected)
        owner.signal(SIGCONT)
        try await eventually("the owner to come back") { try await self.processes(graph).contains { $0.processId == id } }
        await graph.close()
    }

    func testSubscriberThatNeverReadsKeepsPublisherMemoryBounded() async throws {
        let server = GraphServer(configuration: { var c = GraphServerConfiguration(); c.port = 0; return c }())
        try await server.start()
        let a = try await GraphClient.connect(name: "publisher", address: server.address)
        let b = try await GraphClient.connect(name: "sleeper", address: server.address)
        let blocked = try await b.subscribe(topic: "big", type: Plexus_Testing_V1_Sample.self, maxInFlight: 16, policy: .block)
        let dropping = try await b.subscribe(topic: "big2", type: Plexus_Testing_V1_Sample.self, maxInFlight: 16, policy: .dropOldest)
        let p1 = try await a.publisher(topic: "big", type: Plexus_Testing_V1_Sample.self)
        let p2 = try await a.publisher(topic: "big2", type: Plexus_Testing_V1_Sample.self)
        try await eventually("routes") { p1.subscriberCount == 1 && p2.subscriberCount == 1 }
        var s = sample(0)
        s.data = [UInt8](repeating: 1, count: 64 * 1024)
        let rssBefore = residentBytes()
        // Drop-oldest: publishing never waits; 256 MiB go nowhere and memory stays flat.
        for _ in 0..<4096 { try await p2.publish(s) }
        // Block: publish stops once the window and the queues are full.
        let published = Counter()
        let blockedTask = Task {
            for _ in 0..<100_000 {
                try await p1.publish(s)
                published.increment()
            }
        }
        try await Task.sleep(for: .seconds(2))
        XCTAssertLessThan(published.value, 200, "a blocking subscriber that never reads must stop the publisher")
        XCTAssertGreaterThan(p1.backpressureWaitNanos + UInt64(published.value), 0)
        let growth = residentBytes() - rssBefore
        XCTAssertLessThan(growth, 96 * 1024 * 1024, "RSS grew by \(growth / 1024 / 1024) MiB")
        blockedTask.cancel()
        _ = blocked
        _ = dropping
        await b.close()
        await a.close()
        await server.shutdown()
    }

    func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let parts = statm.split(separator: " ")
        return (parts.count > 1 ? Int(parts[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

import ArgumentParser
import Foundation
import PlexusGraph
import PlexusProto

struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topology",
                                                    abstract: "Show processes, units, topics, edges and endpoints; --watch streams changes.")
    @OptionGroup var connection: GraphConnection
    @Flag(help: "After the snapshot, print each topology event as it happens.") var watch = false
    @Option(help: "With --watch: stop after this many events (0 = until interrupted).") var count = 0

    func run() async throws {
        let (graph, channel, address) = try connection.client()
        defer { Task { await channel.close() } }
        do {
            let snapshot = try await graph.getTopology(Plexus_Graph_V1_TopologyRequest())
            say(render(snapshot))
            guard watch else { return }
            var request = Plexus_Graph_V1_WatchTopologyRequest()
            request.afterSeq = snapshot.seq
            var seen = 0
            try await graph.watchTopology(request) { stream in
                for try await item in stream {
                    switch item.kind {
                    case .event(let e)?: say(describe(e))
                    case .resync(let s)?: say("-- resync at seq \(s.seq) --\n" + render(s))
                    case nil: break
                    }
                    seen += 1
                    if count > 0 && seen >= count { return }
                }
            }
        } catch {
            throw explain(error, address: address)
        }
    }

    func render(_ s: Plexus_Graph_V1_TopologySnapshot) -> String {
        var out = ["graph server \(shortId(s.serverId)) at seq \(s.seq)", "", "PROCESSES"]
        for p in s.processes {
            let i = p.info ?? Plexus_Graph_V1_ProcessInfo()
            out.append("  \(shortId(p.processId))  \(i.name) (\(i.language), pid \(i.pid)) \(i.address)  units: \(p.units.joined(separator: ", "))")
        }
        out.append("TOPICS")
        for t in s.topics {
            let pubs = t.publishers.map { "\($0.publisherId)@\(shortId($0.processId))" }.joined(separator: ",")
            let subs = t.subscribers.map { "\($0.subscriberId)@\(shortId($0.processId))" }.joined(separator: ",")
            out.append("  \(t.name) [\(t.typeName)]  publishers: \(pubs.isEmpty ? "-" : pubs)  subscribers: \(subs.isEmpty ? "-" : subs)")
        }
        out.append("EDGES")
        for e in s.edges { out.append("  \(e.fromTopic) → \(e.toTopic)") }
        out.append("ENDPOINTS")
        for e in s.endpoints {
            let n = e.name ?? Plexus_Graph_V1_EndpointName()
            out.append("  \(n.namespace)/\(n.component)/\(n.endpoint) #\(e.instanceId) at \(e.address) (\(shortId(e.processId)))")
        }
        return out.joined(separator: "\n")
    }

    func describe(_ e: Plexus_Graph_V1_TopologyEvent) -> String {
        let what: String
        switch e.kind {
        case .processJoined(let p)?: what = "process joined \(shortId(p.processId)) \(p.info?.name ?? "")"
        case .processLeft(let p)?: what = "process left \(shortId(p.processId)) \(p.info?.name ?? "")"
        case .unitAdded(let u)?: what = "unit added \(u.name) (\(shortId(u.processId)))"
        case .unitRemoved(let u)?: what = "unit removed \(u.name)"
        case .edgeConnected(let x)?: what = "edge connected \(x.fromTopic) → \(x.toTopic)"
        case .edgeDisconnected(let x)?: what = "edge disconnected \(x.fromTopic) → \(x.toTopic)"
        case .endpointUp(let x)?: what = "endpoint up #\(x.instanceId) at \(x.address)"
        case .endpointDown(let x)?: what = "endpoint down #\(x.instanceId)"
        case .publisherAdded(let t)?: what = "publisher added on \(t.name) [\(t.typeName)]"
        case .publisherRemoved(let t)?: what = "publisher removed from \(t.name)"
        case .subscriberAdded(let t)?: what = "subscriber added on \(t.name) [\(t.typeName)]"
        case .subscriberRemoved(let t)?: what = "subscriber removed from \(t.name)"
        case nil: what = "?"
        }
        return "[\(e.seq)] \(what)"
    }
}

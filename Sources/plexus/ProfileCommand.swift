import ArgumentParser
import Foundation
import PlexusGraph
import PlexusProto

struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "profile", abstract: "Per-process topic and RPC statistics.")
    @OptionGroup var connection: GraphConnection
    @Option(help: "Refresh every N seconds, showing rates (0 = print once).") var watch = 0.0

    func run() async throws {
        let (graph, channel, address) = try connection.client()
        defer { Task { await channel.close() } }
        do {
            var previous: [String: Plexus_Profiling_V1_TopicProfile] = [:]
            repeat {
                let r = try await graph.profilingSnapshots(Plexus_Graph_V1_ProfilingSnapshotsRequest())
                var rows: [[String]] = []
                for s in r.snapshots {
                    for t in s.topics {
                        let key = s.processId + t.topic
                        let rate = previous[key].map { watch > 0 ? String(format: "%.0f/s", Double(t.messagesPublished + t.messagesReceived - $0.messagesPublished - $0.messagesReceived) / watch) : "" } ?? ""
                        previous[key] = t
                        let lat = t.deliveryLatency ?? Plexus_Profiling_V1_LatencySummary()
                        rows.append([shortId(s.processId), s.processName, t.topic, String(t.messagesPublished), String(t.messagesReceived),
                                     String(t.messagesDropped), rate, micros(lat.p50Nanos), micros(lat.p99Nanos)])
                    }
                    for m in s.methods {
                        let lat = m.latency ?? Plexus_Profiling_V1_LatencySummary()
                        rows.append([shortId(s.processId), s.processName, m.method, String(m.calls), "", String(m.errors), "", micros(lat.p50Nanos), micros(lat.p99Nanos)])
                    }
                }
                if watch > 0 { say("\u{1B}[2J\u{1B}[H") }
                say(table(["PROCESS", "NAME", "TOPIC/METHOD", "PUB/CALLS", "RECV", "DROPS", "RATE", "P50", "P99"], rows))
                for (id, e) in r.errors.sorted(by: { $0.key < $1.key }) { say("\(shortId(id)): \(e)") }
                if watch > 0 { try await Task.sleep(for: .seconds(watch)) }
            } while watch > 0
        } catch {
            throw explain(error, address: address)
        }
    }

    func micros(_ nanos: UInt64) -> String { nanos == 0 ? "-" : String(format: "%.1fµs", Double(nanos) / 1000) }
}

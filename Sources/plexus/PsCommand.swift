import ArgumentParser
import PlexusGraph
import PlexusProto

struct PsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List the processes registered with the graph server.")
    @OptionGroup var connection: GraphConnection

    func run() async throws {
        let (graph, channel, address) = try connection.client()
        defer { Task { await channel.close() } }
        do {
            let list = try await graph.listProcesses(Plexus_Graph_V1_ListProcessesRequest())
            let rows = list.processes.map { p -> [String] in
                let info = p.info ?? Plexus_Graph_V1_ProcessInfo()
                return [shortId(p.processId), info.name, String(info.pid), info.language, info.address,
                        p.units.joined(separator: ","), age(p.lastHeartbeatUnixNanos)]
            }
            say(table(["ID", "NAME", "PID", "LANG", "ADDRESS", "UNITS", "HEARTBEAT"], rows))
        } catch {
            throw explain(error, address: address)
        }
    }
}

import ArgumentParser
import Foundation
import Plexus
import PlexusGraph
import PlexusProto

/// `--graph host:port`, defaulting to PLEXUS_GRAPH_ADDRESS or 127.0.0.1:25979.
struct GraphConnection: ParsableArguments {
    @Option(name: .long, help: "Graph server host:port (default: $PLEXUS_GRAPH_ADDRESS or 127.0.0.1:25979).")
    var graph: String?

    func address() throws -> GraphAddress {
        do {
            return try graph.map { try GraphAddress(parsing: $0) } ?? GraphAddress.fromEnvironment()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// A typed client; the caller closes the channel.
    func client() throws -> (Plexus_Graph_V1_GraphServiceClient, PlexusChannel, GraphAddress) {
        let address = try address()
        var config = ClientConfiguration()
        config.connectTimeout = .seconds(2)
        let channel = PlexusChannel(host: address.host, port: address.port, configuration: config)
        return (Plexus_Graph_V1_GraphServiceClient(channel: channel), channel, address)
    }
}

/// Turns a failed call into one clear line.
func explain(_ error: Error, address: GraphAddress) -> ExitCode {
    if let e = error as? RPCError, e.code == .unavailable {
        printError("error: no graph server at \(address) (start one with 'plexus graph serve' or set \(GraphAddress.environmentVariable)): \(e.message)")
    } else if let e = error as? RPCError {
        printError("error: \(e.code): \(e.message)")
    } else {
        printError("error: \(error)")
    }
    return ExitCode(1)
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func shortId(_ id: String) -> String { String(id.prefix(8)) }

func age(_ unixNanos: UInt64) -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    let now = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    guard now > unixNanos else { return "0s" }
    let s = Double(now - unixNanos) / 1e9
    return s < 60 ? String(format: "%.1fs", s) : String(format: "%.0fm", s / 60)
}

/// Pads columns of a table for a terminal.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    var widths = [Int](repeating: 0, count: header.count)
    for row in all { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    return all.map { row in
        row.enumerated().map { i, c in i == row.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            .joined(separator: "  ")
    }.joined(separator: "\n")
}

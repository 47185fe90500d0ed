// plexus: the command line of a Plexus graph.
//   plexus graph serve                   run a graph server
//   plexus ps                            processes
//   plexus topology [--watch]            processes, units, topics, edges, endpoints (+ live events)
//   plexus settings get|set|watch        unit settings, schema-aware
//   plexus profile                       per-process topic and method statistics
import ArgumentParser

@main
struct PlexusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plexus",
        abstract: "Run and inspect a Plexus graph.",
        subcommands: [GraphCommand.self, PsCommand.self, TopologyCommand.self, SettingsCommand.self, ProfileCommand.self])
}

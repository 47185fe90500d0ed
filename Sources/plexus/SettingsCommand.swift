import ArgumentParser
import Foundation
import Plexus
import PlexusGraph
import PlexusProto

struct SettingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "settings", abstract: "Read, change and watch unit settings.",
                                                    subcommands: [Get.self, Set.self, Watch.self])

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the settings of every unit (or one), with their schema.")
        @OptionGroup var connection: GraphConnection
        @Argument(help: "The unit (default: every unit).") var unit: String?

        func run() async throws {
            let (graph, channel, address) = try connection.client()
            defer { Task { await channel.close() } }
            do {
                var r = Plexus_Graph_V1_SettingsSnapshotRequest()
                r.unit = unit ?? ""
                let snapshot = try await graph.settingsSnapshot(r)
                for u in snapshot.units {
                    let schema = u.schema ?? Plexus_Settings_V1_SettingsSchema()
                    say("\(u.unit) [\(schema.typeName)] owner \(shortId(u.processId)) seq \(u.seq)")
                    let values = try SchemaCodec(schema: schema).decode(u.value)
                    var rows: [[String]] = []
                    for (f, v) in values {
                        var rule: [String] = []
                        if let min = f.min { rule.append("min \(min.value)") }
                        if let max = f.max { rule.append("max \(max.value)") }
                        if !f.choices.isEmpty { rule.append("one of \(f.choices.joined(separator: "|"))") }
                        if f.readOnly { rule.append("read-only") }
                        rows.append(["  " + f.name, v.description, f.units, rule.joined(separator: ", "), f.description])
                    }
                    say(table(["  FIELD", "VALUE", "UNITS", "RULES", "DESCRIPTION"], rows))
                }
            } catch {
                throw explain(error, address: address)
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change one field; the owner applies it, then it is committed.")
        @OptionGroup var connection: GraphConnection
        @Argument var unit: String
        @Argument var field: String
        @Argument var value: String

        func run() async throws {
            let (graph, channel, address) = try connection.client()
            defer { Task { await channel.close() } }
            do {
                var s = Plexus_Graph_V1_SettingsSnapshotRequest()
                s.unit = unit
                let snapshot = try await graph.settingsSnapshot(s)
                guard let schema = snapshot.units.first?.schema else { throw ValidationError("unit '\(unit)' has no schema") }
                let f = try SchemaCodec(schema: schema).field(at: field)
                var r = Plexus_Graph_V1_UpdateSettingFieldRequest()
                r.unit = unit
                r.fieldPath = field
                r.value = try Plexus_Settings_V1_FieldValue(parsing: value, for: f)
                let event = try await graph.updateSettingField(r).event ?? Plexus_Graph_V1_SettingsEvent()
                say("\(unit).\(field) = \(value) (committed at seq \(event.seq))")
            } catch let e as SettingsError {
                printError("error: \(e)")
                throw ExitCode(1)
            } catch {
                throw explain(error, address: address)
            }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print settings events (replayed after --after, then live).")
        @OptionGroup var connection: GraphConnection
        @Option(help: "Replay events after this sequence number.") var after: UInt64 = 0
        @Option(help: "Stop after this many events (0 = until interrupted).") var count = 0

        func run() async throws {
            let (graph, channel, address) = try connection.client()
            defer { Task { await channel.close() } }
            do {
                var r = Plexus_Graph_V1_SubscribeSettingsRequest()
                r.afterSeq = after
                var seen = 0
                try await graph.subscribeSettings(r) { stream in
                    for try await item in stream {
                        switch item.kind {
                        case .event(let e)?:
                            let path = e.fieldPath.isEmpty ? "" : " \(e.fieldPath)"
                            say("[\(e.seq)] \(e.unit) \(e.source.protoName ?? "")\(path) (\(e.value.count) bytes)")
                        case .gap(let g)?:
                            say("-- gap: events after \(g.lastDeliveredSeq) are gone (oldest kept \(g.nextAvailableSeq)); take a snapshot --")
                            return
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
    }
}

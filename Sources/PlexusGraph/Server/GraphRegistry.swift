import Foundation
import Plexus
import PlexusProto

/// The graph server's state: processes, units, endpoints, topics, settings, topology history.
/// One actor, so every change and the events it emits happen in one order.
actor GraphRegistry {
    struct ProcessRecord {
        var id: String
        var info: Plexus_Graph_V1_ProcessInfo
        var units: Set<String>
        var connectedUnixNanos: UInt64
        var lastHeartbeat: ContinuousClock.Instant
        var lastHeartbeatUnixNanos: UInt64
        let outbox: Mailbox<Plexus_Graph_V1_SessionEvent>
    }

    let configuration: GraphServerConfiguration
    let serverId = UUID().uuidString

    var processes: [String: ProcessRecord] = [:]
    var unitOwner: [String: String] = [:]
    var addressOwner: [String: String] = [:]
    /// Units whose owner left, with that owner (for PROCESS_DISCONNECTED); bounded.
    var departedUnits: [String: String] = [:]

    // Discovery
    var endpoints: [UInt64: Plexus_Graph_V1_EndpointInstance] = [:]
    var nextInstanceId: UInt64 = 1
    var endpointWatchers: [UUID: (filter: Plexus_Graph_V1_EndpointName, mailbox: Mailbox<Plexus_Graph_V1_EndpointEvent>)] = [:]

    // Pub/sub
    struct TopicRecord {
        var typeName: String
        var publishers: Set<UInt64> = []
        var subscribers: Set<UInt64> = []
    }
    struct ClientRecord {
        var processId: String
        var topic: String
        var unit: String
        var maxInFlight: UInt32
        var policy: Plexus_Graph_V1_BackpressurePolicy
    }
    var topics: [String: TopicRecord] = [:]
    var publishers: [UInt64: ClientRecord] = [:]
    var subscribers: [UInt64: ClientRecord] = [:]
    var edges: [String: Set<String>] = [:]
    var edgeOwner: [String: String] = [:]
    var lastRoutes: [UInt64: [Plexus_Graph_V1_SubscriberRoute]] = [:]
    var nextClientId: UInt64 = 1

    // Settings
    struct SettingsRecord {
        var processId: String
        var codec: SchemaCodec
        var value: [UInt8]
        var seq: UInt64
    }
    var settings: [String: SettingsRecord] = [:]
    var settingsLog: EventLog<Plexus_Graph_V1_SettingsEvent>
    var settingsWatchers: [UUID: (unit: String, mailbox: Mailbox<Plexus_Graph_V1_SettingsStreamItem>)] = [:]

    // Topology
    var topologyLog: EventLog<Plexus_Graph_V1_TopologyEvent>
    var topologyWatchers: [UUID: Mailbox<Plexus_Graph_V1_TopologyStreamItem>] = [:]

    // Routed process control
    struct Pending {
        var processId: String
        var originalId: UInt64
        var continuation: CheckedContinuation<Plexus_Control_V1_ProcessControlResponse, Never>
    }
    var pending: [UInt64: Pending] = [:]
    var nextRequestId: UInt64 = 1

    // Profiling trace fan-out
    var traceWatchers: [UUID: (processIds: Set<String>, mailbox: Mailbox<Plexus_Profiling_V1_TraceBatch>)] = [:]

    init(configuration: GraphServerConfiguration) {
        self.configuration = configuration
        settingsLog = EventLog(capacity: configuration.settingsHistory)
        topologyLog = EventLog(capacity: configuration.topologyHistory)
    }

    static func nowUnixNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    // MARK: Processes

    /// Registers a process; fails with ALREADY_EXISTS when a unit or the address is held.
    func register(_ info: Plexus_Graph_V1_ProcessInfo, outbox: Mailbox<Plexus_Graph_V1_SessionEvent>) throws(RPCError) -> Plexus_Graph_V1_Registered {
        // The same process (id, pid and host) opening a new session while its old one has not been
        // noticed dead yet (a network blip): the new session replaces the old one.
        if !info.previousProcessId.isEmpty, let old = processes[info.previousProcessId],
           old.info.pid == info.pid, old.info.host == info.host, old.info.name == info.name {
            remove(old.id, reason: "replaced by a new session of the same process")
        }
        for unit in info.units {
            if let holder = unitOwner[unit] { throw alreadyExists("unit '\(unit)'", holder: holder) }
        }
        if Set(info.units).count != info.units.count {
            throw RPCError(code: .invalidArgument, message: "Register lists a unit twice: \(info.units)")
        }
        if !info.address.isEmpty, let holder = addressOwner[info.address] {
            throw alreadyExists("address \(info.address)", holder: holder)
        }
        var id = UUID().uuidString.lowercased()
        if !info.previousProcessId.isEmpty, processes[info.previousProcessId] == nil, UUID(uuidString: info.previousProcessId) != nil {
            id = info.previousProcessId
        }
        let now = Self.nowUnixNanos()
        let record = ProcessRecord(id: id, info: info, units: Set(info.units), connectedUnixNanos: now,
                                   lastHeartbeat: .now, lastHeartbeatUnixNanos: now, outbox: outbox)
        processes[id] = record
        for unit in info.units {
            unitOwner[unit] = id
            departedUnits[unit] = nil
        }
        if !info.address.isEmpty { addressOwner[info.address] = id }
        emitTopology(.processJoined(describe(record)))
        for unit in info.units.sorted() { emitTopology(.unitAdded(unitDescription(unit, owner: id))) }

        var registered = Plexus_Graph_V1_Registered()
        registered.processId = id
        registered.heartbeatInterval = Google_Protobuf_Duration(configuration.heartbeatInterval)
        registered.heartbeatTimeout = Google_Protobuf_Duration(configuration.heartbeatTimeout)
        registered.serverId = serverId
        return registered
    }

    func alreadyExists(_ what: String, holder: String) -> RPCError {
        let name = processes[holder].map { "'\($0.info.name)', pid \($0.info.pid)" } ?? "unknown"
        return RPCError(code: .alreadyExists, message: "\(what) is already held by process \(holder) (\(name)); choose another or stop that process")
    }

    func heartbeat(_ processId: String) {
        guard processes[processId] != nil else { return }
        processes[processId]?.lastHeartbeat = .now
        processes[processId]?.lastHeartbeatUnixNanos = Self.nowUnixNanos()
    }

    /// Drops processes whose heartbeats stopped.
    func sweep() {
        let deadline = ContinuousClock.now - configuration.heartbeatTimeout
        for (id, record) in processes where record.lastHeartbeat < deadline {
            remove(id, reason: "missed heartbeats for \(configuration.heartbeatTimeout)")
        }
    }

    /// Removes a process and releases everything it held. With `session`, only if that session is
    /// still the process's current one (a replaced session must not remove its successor).
    func remove(_ processId: String, reason: String, session: Mailbox<Plexus_Graph_V1_SessionEvent>? = nil) {
        if let session, processes[processId]?.outbox !== session { return }
        guard let record = processes.removeValue(forKey: processId) else { return }
        record.outbox.finish()
        // Routed requests waiting on it.
        for (id, p) in pending where p.processId == processId {
            pending[id] = nil
            p.continuation.resume(returning: Self.routingFailure(p.originalId, unit: "", .processDisconnected,
                                                                 "process \(processId) disconnected (\(reason)) before it answered"))
        }
        for (id, e) in endpoints where e.processId == processId {
            endpoints[id] = nil
            emitTopology(.endpointDown(e))
            notifyEndpoint(e, up: false)
        }
        let pubIds = publishers.filter { $0.value.processId == processId }.map(\.key)
        let subIds = subscribers.filter { $0.value.processId == processId }.map(\.key)
        for id in pubIds { removePubSub(id) }
        for id in subIds { removePubSub(id) }
        for (key, owner) in edgeOwner where owner == processId {
            let parts = key.split(separator: "\u{0}", maxSplits: 1).map(String.init)
            if parts.count == 2 { disconnectEdge(parts[0], parts[1]) }
        }
        for unit in record.units.sorted() {
            unitOwner[unit] = nil
            if departedUnits.count > 100_000 { departedUnits.removeAll() }
            departedUnits[unit] = processId
            if settings.removeValue(forKey: unit) != nil {
                appendSettingsEvent(unit: unit, processId: processId, source: .removed, typeName: "", value: [], fieldPath: "")
            }
            emitTopology(.unitRemoved(unitDescription(unit, owner: processId)))
        }
        if !record.info.address.isEmpty, addressOwner[record.info.address] == processId {
            addressOwner[record.info.address] = nil
        }
        emitTopology(.processLeft(describe(record)))
    }

    func updateOwnership(_ request: Plexus_Graph_V1_UpdateOwnershipRequest) throws(RPCError) -> [String] {
        guard var record = processes[request.processId] else { throw unknownProcess(request.processId) }
        for unit in request.addUnits {
            if let holder = unitOwner[unit], holder != request.processId { throw alreadyExists("unit '\(unit)'", holder: holder) }
        }
        for unit in request.removeUnits where !record.units.contains(unit) {
            throw RPCError(code: .failedPrecondition, message: "process \(request.processId) does not own unit '\(unit)'")
        }
        for unit in request.addUnits where !record.units.contains(unit) {
            record.units.insert(unit)
            unitOwner[unit] = request.processId
            departedUnits[unit] = nil
            emitTopology(.unitAdded(unitDescription(unit, owner: request.processId)))
        }
        for unit in request.removeUnits {
            record.units.remove(unit)
            unitOwner[unit] = nil
            if settings.removeValue(forKey: unit) != nil {
                appendSettingsEvent(unit: unit, processId: request.processId, source: .removed, typeName: "", value: [], fieldPath: "")
            }
            emitTopology(.unitRemoved(unitDescription(unit, owner: request.processId)))
        }
        processes[request.processId] = record
        return record.units.sorted()
    }

    func unknownProcess(_ id: String) -> RPCError {
        RPCError(code: .failedPrecondition, message: "process '\(id)' is not registered (open a Session and use the process_id from Registered)")
    }

    func describe(_ record: ProcessRecord) -> Plexus_Graph_V1_ProcessDescription {
        var d = Plexus_Graph_V1_ProcessDescription()
        d.processId = record.id
        d.info = record.info
        d.connectedUnixNanos = record.connectedUnixNanos
        d.lastHeartbeatUnixNanos = record.lastHeartbeatUnixNanos
        d.units = record.units.sorted()
        return d
    }

    func unitDescription(_ unit: String, owner: String) -> Plexus_Graph_V1_UnitDescription {
        var u = Plexus_Graph_V1_UnitDescription()
        u.name = unit
        u.processId = owner
        u.hasSettings = settings[unit] != nil
        return u
    }

    func listProcesses() -> [Plexus_Graph_V1_ProcessDescription] {
        processes.values.sorted { $0.connectedUnixNanos < $1.connectedUnixNanos }.map(describe)
    }
}

import Foundation
import Plexus
import PlexusProto

/// Moves a request iterator into the one child task that reads it.
final class IteratorBox<I: AsyncIteratorProtocol>: @unchecked Sendable {
    var iterator: I
    init(_ iterator: I) { self.iterator = iterator }
}

/// The `plexus.graph.v1.GraphService` implementation: thin handlers over ``GraphRegistry``.
struct GraphService: Plexus_Graph_V1_GraphServiceProtocol {
    let registry: GraphRegistry

    // MARK: Sessions

    func session(requests: RequestStream<Plexus_Graph_V1_SessionRequest>, response: ResponseWriter<Plexus_Graph_V1_SessionEvent>, context: ServerContext) async throws {
        var iterator = requests.makeAsyncIterator()
        guard let first = try await iterator.next(), case .register(let register)? = first.kind, let info = register.process else {
            throw RPCError(code: .invalidArgument, message: "the first message of a Session must be Register")
        }
        let outbox = Mailbox<Plexus_Graph_V1_SessionEvent>()
        let registered = try await registry.register(info, outbox: outbox)
        let processId = registered.processId
        var hello = Plexus_Graph_V1_SessionEvent()
        hello.kind = .registered(registered)
        do {
            try await response.write(hello)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while let event = await outbox.next() { try await response.write(event) }
                    throw RPCError(code: .unavailable, message: "the graph server dropped process \(processId) (missed heartbeats); register again")
                }
                let reader = IteratorBox(iterator)
                group.addTask {
                    while let message = try await reader.iterator.next() {
                        // The writer ends the session when the process was dropped; stop reading.
                        try Task.checkCancellation()
                        switch message.kind {
                        case .heartbeat?: await registry.heartbeat(processId)
                        case .controlReply(let reply)?:
                            await registry.heartbeat(processId)
                            if let r = reply.response { await registry.reply(from: processId, r) }
                        case .register?:
                            throw RPCError(code: .invalidArgument, message: "Register may only be the first message of a Session")
                        case nil: break
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            await registry.remove(processId, reason: "session ended: \(error)", session: outbox)
            throw error
        }
        await registry.remove(processId, reason: "session closed by the process", session: outbox)
    }

    func updateOwnership(request: Plexus_Graph_V1_UpdateOwnershipRequest, context: ServerContext) async throws -> Plexus_Graph_V1_UpdateOwnershipResponse {
        var r = Plexus_Graph_V1_UpdateOwnershipResponse()
        r.units = try await registry.updateOwnership(request)
        return r
    }

    func listProcesses(request: Plexus_Graph_V1_ListProcessesRequest, context: ServerContext) async throws -> Plexus_Graph_V1_ListProcessesResponse {
        var r = Plexus_Graph_V1_ListProcessesResponse()
        r.processes = await registry.listProcesses()
        return r
    }

    // MARK: Discovery

    func registerEndpoint(request: Plexus_Graph_V1_RegisterEndpointRequest, context: ServerContext) async throws -> Plexus_Graph_V1_RegisterEndpointResponse {
        var r = Plexus_Graph_V1_RegisterEndpointResponse()
        r.instance = try await registry.registerEndpoint(request)
        return r
    }

    func unregisterEndpoint(request: Plexus_Graph_V1_UnregisterEndpointRequest, context: ServerContext) async throws -> Plexus_Graph_V1_UnregisterEndpointResponse {
        try await registry.unregisterEndpoint(request)
        return Plexus_Graph_V1_UnregisterEndpointResponse()
    }

    func resolve(request: Plexus_Graph_V1_ResolveRequest, context: ServerContext) async throws -> Plexus_Graph_V1_ResolveResponse {
        var r = Plexus_Graph_V1_ResolveResponse()
        r.instances = await registry.resolve(request.name)
        return r
    }

    func watchEndpoints(request: Plexus_Graph_V1_ResolveRequest, response: ResponseWriter<Plexus_Graph_V1_EndpointEvent>, context: ServerContext) async throws {
        let (id, mailbox) = await registry.watchEndpoints(request.name)
        try await Self.drain(mailbox, into: response) { await registry.unwatchEndpoints(id) }
    }

    /// Writes a mailbox to a response stream until it ends or the call is cancelled.
    static func drain<M: Sendable>(_ mailbox: Mailbox<M>, into response: ResponseWriter<M>, onEnd: @Sendable () async -> Void) async throws {
        do {
            while let item = await mailbox.next() {
                try Task.checkCancellation()
                try await response.write(item)
            }
        } catch {
            mailbox.finish()
            await onEnd()
            throw error
        }
        await onEnd()
    }

    // MARK: Pub/sub

    func addPublisher(request: Plexus_Graph_V1_AddPublisherRequest, context: ServerContext) async throws -> Plexus_Graph_V1_AddPublisherResponse {
        var r = Plexus_Graph_V1_AddPublisherResponse()
        r.publisherId = try await registry.addPublisher(request)
        return r
    }

    func addSubscriber(request: Plexus_Graph_V1_AddSubscriberRequest, context: ServerContext) async throws -> Plexus_Graph_V1_AddSubscriberResponse {
        var r = Plexus_Graph_V1_AddSubscriberResponse()
        r.subscriberId = try await registry.addSubscriber(request)
        return r
    }

    func removeClient(request: Plexus_Graph_V1_RemoveClientRequest, context: ServerContext) async throws -> Plexus_Graph_V1_RemoveClientResponse {
        try await registry.removeClient(request)
        return Plexus_Graph_V1_RemoveClientResponse()
    }

    func connect(request: Plexus_Graph_V1_ConnectRequest, context: ServerContext) async throws -> Plexus_Graph_V1_ConnectResponse {
        try await registry.connect(request)
        return Plexus_Graph_V1_ConnectResponse()
    }

    func disconnect(request: Plexus_Graph_V1_DisconnectRequest, context: ServerContext) async throws -> Plexus_Graph_V1_DisconnectResponse {
        try await registry.disconnect(request)
        return Plexus_Graph_V1_DisconnectResponse()
    }

    // MARK: Settings

    func declareSettings(request: Plexus_Graph_V1_DeclareSettingsRequest, context: ServerContext) async throws -> Plexus_Graph_V1_DeclareSettingsResponse {
        var r = Plexus_Graph_V1_DeclareSettingsResponse()
        r.seq = try await registry.declareSettings(request)
        return r
    }

    func reportSettings(request: Plexus_Graph_V1_ReportSettingsRequest, context: ServerContext) async throws -> Plexus_Graph_V1_ReportSettingsResponse {
        var r = Plexus_Graph_V1_ReportSettingsResponse()
        r.seq = try await registry.reportSettings(request)
        return r
    }

    func settingsSnapshot(request: Plexus_Graph_V1_SettingsSnapshotRequest, context: ServerContext) async throws -> Plexus_Graph_V1_SettingsSnapshotResponse {
        try await registry.settingsSnapshot(unit: request.unit)
    }

    func settingsEvents(request: Plexus_Graph_V1_SettingsEventsRequest, context: ServerContext) async throws -> Plexus_Graph_V1_SettingsEventsResponse {
        await registry.settingsEvents(after: request.afterSeq, limit: request.limit)
    }

    func subscribeSettings(request: Plexus_Graph_V1_SubscribeSettingsRequest, response: ResponseWriter<Plexus_Graph_V1_SettingsStreamItem>, context: ServerContext) async throws {
        let (id, mailbox) = await registry.watchSettings(after: request.afterSeq, unit: request.unit)
        try await Self.drain(mailbox, into: response) { await registry.unwatchSettings(id) }
    }

    func updateSettings(request: Plexus_Graph_V1_UpdateSettingsRequest, context: ServerContext) async throws -> Plexus_Graph_V1_UpdateSettingsResponse {
        var r = Plexus_Graph_V1_UpdateSettingsResponse()
        r.event = try await registry.updateSettings(request)
        return r
    }

    func updateSettingField(request: Plexus_Graph_V1_UpdateSettingFieldRequest, context: ServerContext) async throws -> Plexus_Graph_V1_UpdateSettingFieldResponse {
        var r = Plexus_Graph_V1_UpdateSettingFieldResponse()
        r.event = try await registry.updateSettingField(request)
        return r
    }

    // MARK: Topology

    func getTopology(request: Plexus_Graph_V1_TopologyRequest, context: ServerContext) async throws -> Plexus_Graph_V1_TopologySnapshot {
        await registry.topologySnapshot()
    }

    func watchTopology(request: Plexus_Graph_V1_WatchTopologyRequest, response: ResponseWriter<Plexus_Graph_V1_TopologyStreamItem>, context: ServerContext) async throws {
        let (id, mailbox) = await registry.watchTopology(after: request.afterSeq)
        try await Self.drain(mailbox, into: response) { await registry.unwatchTopology(id) }
    }

    // MARK: Process control and profiling

    func processRequest(request: Plexus_Control_V1_ProcessControlRequest, context: ServerContext) async throws -> Plexus_Control_V1_ProcessControlResponse {
        await registry.route(request)
    }

    func profilingSnapshots(request: Plexus_Graph_V1_ProfilingSnapshotsRequest, context: ServerContext) async throws -> Plexus_Graph_V1_ProfilingSnapshotsResponse {
        var op = Plexus_Control_V1_ProcessControlRequest()
        op.timeout = request.timeout
        op.operation = .getProfilingSnapshot(Plexus_Control_V1_GetProfilingSnapshotRequest())
        let answers = await fanOut(op, to: request.processIds)
        var r = Plexus_Graph_V1_ProfilingSnapshotsResponse()
        for (id, answer) in answers.sorted(by: { $0.key < $1.key }) {
            if case .profilingSnapshot(let s)? = answer.result, answer.errorCode == .unspecified {
                r.snapshots.append(s)
            } else {
                r.errors[id] = "\(answer.errorCode.protoName ?? "error"): \(answer.errorMessage)"
            }
        }
        return r
    }

    func setTrace(request: Plexus_Graph_V1_SetTraceRequest, context: ServerContext) async throws -> Plexus_Graph_V1_SetTraceResponse {
        var trace = Plexus_Control_V1_SetProfilingTraceRequest()
        trace.enabled = request.enabled
        trace.ttl = request.ttl
        trace.topics = request.topics
        var op = Plexus_Control_V1_ProcessControlRequest()
        op.operation = .setProfilingTrace(trace)
        let answers = await fanOut(op, to: request.processIds)
        var r = Plexus_Graph_V1_SetTraceResponse()
        for (id, answer) in answers.sorted(by: { $0.key < $1.key }) {
            if answer.errorCode == .unspecified { r.processIds.append(id) } else { r.errors[id] = answer.errorMessage }
        }
        return r
    }

    func subscribeTraces(request: Plexus_Graph_V1_SubscribeTracesRequest, response: ResponseWriter<Plexus_Profiling_V1_TraceBatch>, context: ServerContext) async throws {
        var batch = Plexus_Control_V1_GetProfilingTraceBatchRequest()
        batch.maxSamples = 4_096
        var op = Plexus_Control_V1_ProcessControlRequest()
        op.operation = .getProfilingTraceBatch(batch)
        op.timeout = Google_Protobuf_Duration(.seconds(1))
        while !Task.isCancelled && !context.isCancelled {
            let answers = await fanOut(op, to: request.processIds)
            for (_, answer) in answers.sorted(by: { $0.key < $1.key }) {
                if case .traceBatch(let b)? = answer.result, !b.samples.isEmpty || b.droppedSamples > 0 {
                    try await response.write(b)
                }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Sends one operation to each process (all when `processIds` is empty), concurrently.
    func fanOut(_ op: Plexus_Control_V1_ProcessControlRequest, to processIds: [String]) async -> [String: Plexus_Control_V1_ProcessControlResponse] {
        let targets = processIds.isEmpty ? await registry.listProcesses().map(\.processId) : processIds
        return await withTaskGroup(of: (String, Plexus_Control_V1_ProcessControlResponse).self) { group in
            for id in targets {
                var request = op
                request.unit = id
                group.addTask { (id, await registry.route(request, to: id)) }
            }
            var result: [String: Plexus_Control_V1_ProcessControlResponse] = [:]
            for await (id, answer) in group { result[id] = answer }
            return result
        }
    }
}

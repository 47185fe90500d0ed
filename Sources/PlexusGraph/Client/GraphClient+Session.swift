import Foundation
import Plexus
import PlexusProto

extension GraphClient {
    func startSession() {
        let task = Task { await self.runSessions() }
        sessionTask.withLock { $0 = task }
    }

    /// Keeps a session open: registers, heartbeats, answers routed requests; after a failure
    /// (graph server restart, network), registers again with backoff and re-declares everything.
    func runSessions() async {
        var backoff = Duration.milliseconds(100)
        let started = ContinuousClock.now
        while !Task.isCancelled && !state.withLock({ $0.closed }) {
            do {
                try await runOneSession()
            } catch let error as RPCError where error.code == .alreadyExists || error.code == .invalidArgument {
                if state.withLock({ $0.registrations == 0 }) {
                    registeredSignal.push(.failure(error))
                    return
                }
            } catch {}
            if Task.isCancelled || state.withLock({ $0.closed }) { return }
            if state.withLock({ $0.registrations == 0 }) && ContinuousClock.now - started > connectTimeout {
                registeredSignal.push(.failure(RPCError(code: .unavailable, message: "no graph server at \(graphAddress) (start one with 'plexus graph serve' or set \(GraphAddress.environmentVariable))")))
                return
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(1))
        }
    }

    func runOneSession() async throws {
        let info: Plexus_Graph_V1_ProcessInfo = state.withLock { s in
            var i = Plexus_Graph_V1_ProcessInfo()
            i.name = name
            i.pid = UInt32(getpid())
            i.host = ProcessInfo.processInfo.hostName
            i.language = "swift"
            i.address = address
            i.units = s.units
            i.previousProcessId = s.processId
            i.customOperations = customHandlers.keys.sorted()
            return i
        }
        try await graph.session { writer, events in
            var register = Plexus_Graph_V1_Register()
            register.process = info
            var first = Plexus_Graph_V1_SessionRequest()
            first.kind = .register(register)
            try await writer.write(first)
            var iterator = events.makeAsyncIterator()
            guard let reply = try await iterator.next(), case .registered(let registered)? = reply.kind else {
                throw RPCError(code: .internal, message: "the graph server did not answer Register")
            }
            let isFirst = state.withLock { s in
                s.processId = registered.processId
                s.serverId = registered.serverId
                s.registrations += 1
                return s.registrations == 1
            }
            let interval = registered.heartbeatInterval?.swiftDuration ?? .milliseconds(500)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: interval)
                        var hb = Plexus_Graph_V1_SessionRequest()
                        var beat = Plexus_Graph_V1_Heartbeat()
                        beat.sentUnixNanos = TopicStatsProbe.nowUnixNanos()
                        hb.kind = .heartbeat(beat)
                        try await writer.write(hb)
                    }
                }
                if isFirst {
                    registeredSignal.push(.success(registered.processId))
                } else {
                    group.addTask { try await self.redeclare() }
                }
                while let event = try await iterator.next() {
                    switch event.kind {
                    case .routes(let update)?: routesArrived(update)
                    case .controlRequest(let request)?:
                        group.addTask {
                            var r = Plexus_Graph_V1_SessionRequest()
                            var reply = Plexus_Graph_V1_ControlReply()
                            reply.response = await self.handleControl(request)
                            r.kind = .controlReply(reply)
                            try await writer.write(r)
                        }
                    default: break
                    }
                }
                group.cancelAll()
                throw RPCError(code: .unavailable, message: "the graph server ended the session")
            }
        }
    }

    /// After re-registering with a restarted graph server: publishers, subscribers, edges and
    /// settings again (the server assigns new publisher/subscriber ids).
    func redeclare() async throws {
        let (publishers, subscribers, edges, settings, endpoints) = state.withLock { s in
            (Array(s.publishers.values), Array(s.subscribers.values), s.edges, Array(s.settings.values), s.endpoints)
        }
        state.withLock { s in
            s.routed.removeAll()
            s.lastRoutes.removeAll()
        }
        for entry in subscribers {
            _ = delivery.remove(entry.serverId)
            var r = entry.request
            r.processId = processId
            let id = try await graph.addSubscriber(r).subscriberId
            delivery.add(id, entry.core)
            state.withLock { $0.subscribers[ObjectIdentifier(entry.core)]?.serverId = id }
        }
        for entry in publishers {
            var r = entry.request
            r.processId = processId
            let id = try await graph.addPublisher(r).publisherId
            let routes = state.withLock { s -> [Plexus_Graph_V1_SubscriberRoute]? in
                s.publishers[ObjectIdentifier(entry.core)]?.serverId = id
                s.routed[id] = entry.core
                return s.lastRoutes[id]
            }
            if let routes { entry.core.apply(routes: routes, publisherId: id, resolver: self) }
        }
        for var e in edges {
            e.processId = processId
            _ = try? await graph.connect(e)
        }
        for owner in settings { try await declare(owner) }
        for var e in endpoints {
            e.processId = processId
            _ = try? await graph.registerEndpoint(e)
        }
    }

    func declare(_ owner: any SettingsOwner) async throws {
        var r = Plexus_Graph_V1_DeclareSettingsRequest()
        r.processId = processId
        r.unit = owner.unit
        r.schema = owner.schema
        r.value = owner.encoded
        _ = try await graph.declareSettings(r)
    }

    static func failure(_ request: Plexus_Control_V1_ProcessControlRequest, _ code: Plexus_Rpc_V1_RoutingCode, _ message: String) -> Plexus_Control_V1_ProcessControlResponse {
        var r = Plexus_Control_V1_ProcessControlResponse()
        r.requestId = request.requestId
        r.unit = request.unit
        r.errorCode = code
        r.errorMessage = message
        return r
    }

    /// Runs one routed process-control operation here.
    func handleControl(_ request: Plexus_Control_V1_ProcessControlRequest) async -> Plexus_Control_V1_ProcessControlResponse {
        var response = Plexus_Control_V1_ProcessControlResponse()
        response.requestId = request.requestId
        response.unit = request.unit
        switch request.operation {
        case .ping(let p)?:
            var result = Plexus_Control_V1_PingResult()
            result.payload = p.payload
            result.processTimeUnixNanos = TopicStatsProbe.nowUnixNanos()
            response.result = .ping(result)
        case .getProcessStats?:
            response.result = .processStats(ProcessStatsReader.read(units: state.withLock { $0.units }))
        case .getProfilingSnapshot?:
            response.result = .profilingSnapshot(Profiler.shared.snapshot(processId: processId, processName: name))
        case .setProfilingTrace(let t)?:
            var result = Plexus_Control_V1_SetProfilingTraceResult()
            result.enabled = t.enabled
            result.expiresUnixNanos = Profiler.shared.setTrace(enabled: t.enabled, ttl: t.ttl?.swiftDuration ?? .seconds(10), topics: t.topics)
            response.result = .profilingTrace(result)
        case .getProfilingTraceBatch(let b)?:
            var batch = Profiler.shared.drainTrace(max: Int(b.maxSamples == 0 ? 4096 : b.maxSamples))
            batch.processId = processId
            response.result = .traceBatch(batch)
        case .updateSettingField(let u)?:
            guard let owner = state.withLock({ $0.settings[request.unit] }) else {
                return Self.failure(request, .handlerNotConfigured, "unit '\(request.unit)' has no settings owner in this process")
            }
            guard let value = u.value else { return Self.failure(request, .handlerError, "the update has no value") }
            do {
                var result = Plexus_Control_V1_UpdateSettingFieldResult()
                result.settings = try await owner.apply(field: u.fieldPath, value: value)
                response.result = .updateSettingField(result)
            } catch {
                return Self.failure(request, .handlerError, "\(error)")
            }
        case .applySettings(let a)?:
            guard let owner = state.withLock({ $0.settings[request.unit] }) else {
                return Self.failure(request, .handlerNotConfigured, "unit '\(request.unit)' has no settings owner in this process")
            }
            do {
                var result = Plexus_Control_V1_ApplySettingsResult()
                result.settings = try await owner.apply(encoded: a.settings)
                response.result = .applySettings(result)
            } catch {
                return Self.failure(request, .handlerError, "\(error)")
            }
        case .custom(let op)?:
            guard let handler = customHandlers[op.name] else {
                return Self.failure(request, .handlerNotConfigured, "no handler for custom operation '\(op.name)'")
            }
            do {
                var result = Plexus_Control_V1_CustomResult()
                result.payload = try await handler(op.payload ?? Google_Protobuf_Any())
                response.result = .custom(result)
            } catch {
                return Self.failure(request, .handlerError, "\(error)")
            }
        case nil:
            return Self.failure(request, .unsupportedOperation, "the request names no operation")
        }
        return response
    }
}

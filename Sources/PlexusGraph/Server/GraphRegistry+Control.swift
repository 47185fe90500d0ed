import Foundation
import Plexus
import PlexusProto

extension GraphRegistry {
    static func routingFailure(_ requestId: UInt64, unit: String, _ code: Plexus_Rpc_V1_RoutingCode, _ message: String) -> Plexus_Control_V1_ProcessControlResponse {
        var r = Plexus_Control_V1_ProcessControlResponse()
        r.requestId = requestId
        r.unit = unit
        r.errorCode = code
        r.errorMessage = message
        return r
    }

    /// The process a request for `unit` goes to: the unit's owner, or the process whose id it is.
    func target(of unit: String) -> String? {
        if let owner = unitOwner[unit] { return owner }
        if processes[unit] != nil { return unit }
        return nil
    }

    /// Routes a process-control request to the process that owns its unit and waits for the
    /// answer; routing failures come back as the response's error_code.
    func route(_ request: Plexus_Control_V1_ProcessControlRequest) async -> Plexus_Control_V1_ProcessControlResponse {
        guard let processId = target(of: request.unit) else {
            if let gone = departedUnits[request.unit] {
                return Self.routingFailure(request.requestId, unit: request.unit, .processDisconnected,
                                           "unit '\(request.unit)' belonged to process \(gone), which disconnected")
            }
            return Self.routingFailure(request.requestId, unit: request.unit, .unroutableUnit,
                                       "no live process owns unit '\(request.unit)'")
        }
        return await route(request, to: processId)
    }

    func route(_ request: Plexus_Control_V1_ProcessControlRequest, to processId: String) async -> Plexus_Control_V1_ProcessControlResponse {
        guard let process = processes[processId] else {
            return Self.routingFailure(request.requestId, unit: request.unit, .processDisconnected, "process \(processId) is gone")
        }
        if case .custom(let op)? = request.operation, !process.info.customOperations.contains(op.name) {
            return Self.routingFailure(request.requestId, unit: request.unit, .handlerNotConfigured,
                                       "process \(processId) has no handler for custom operation '\(op.name)' (it registers: \(process.info.customOperations.joined(separator: ", ")))")
        }
        let timeout = request.timeout.map { $0.swiftDuration } ?? configuration.routedRequestTimeout
        let id = nextRequestId
        nextRequestId += 1
        var forwarded = request
        forwarded.requestId = id
        var event = Plexus_Graph_V1_SessionEvent()
        event.kind = .controlRequest(forwarded)
        let response = await withCheckedContinuation { (c: CheckedContinuation<Plexus_Control_V1_ProcessControlResponse, Never>) in
            guard process.outbox.push(event, force: true) == .queued else {
                c.resume(returning: Self.routingFailure(id, unit: request.unit, .routeWriteFailed,
                                                        "the session of process \(processId) is closing"))
                return
            }
            pending[id] = Pending(processId: processId, originalId: request.requestId, continuation: c)
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                await self?.expire(id, after: timeout)
            }
        }
        var result = response
        result.requestId = request.requestId
        result.unit = request.unit
        if result.errorCode == .unspecified, !Self.matches(request.operation, result.result) {
            return Self.routingFailure(request.requestId, unit: request.unit, .invalidResponse,
                                       "process \(processId) answered a \(Self.name(request.operation)) request with a \(Self.name(result.result)) result")
        }
        return result
    }

    func expire(_ id: UInt64, after timeout: Duration) {
        guard let p = pending.removeValue(forKey: id) else { return }
        p.continuation.resume(returning: Self.routingFailure(id, unit: "", .timeout,
                                                             "process \(p.processId) did not answer within \(timeout)"))
    }

    /// A process answered a routed request.
    func reply(from processId: String, _ response: Plexus_Control_V1_ProcessControlResponse) {
        guard let p = pending[response.requestId], p.processId == processId else { return }
        pending[response.requestId] = nil
        p.continuation.resume(returning: response)
    }

    static func name(_ op: Plexus_Control_V1_ProcessControlRequest.Operation?) -> String {
        guard let op else { return "empty" }
        switch op {
        case .ping: return "PING"
        case .getProcessStats: return "GET_PROCESS_STATS"
        case .getProfilingSnapshot: return "GET_PROFILING_SNAPSHOT"
        case .setProfilingTrace: return "SET_PROFILING_TRACE"
        case .getProfilingTraceBatch: return "GET_PROFILING_TRACE_BATCH"
        case .updateSettingField: return "UPDATE_SETTING_FIELD"
        case .custom: return "CUSTOM"
        case .applySettings: return "APPLY_SETTINGS"
        }
    }

    static func name(_ result: Plexus_Control_V1_ProcessControlResponse.Result?) -> String {
        guard let result else { return "empty" }
        switch result {
        case .ping: return "PING"
        case .processStats: return "GET_PROCESS_STATS"
        case .profilingSnapshot: return "GET_PROFILING_SNAPSHOT"
        case .profilingTrace: return "SET_PROFILING_TRACE"
        case .traceBatch: return "GET_PROFILING_TRACE_BATCH"
        case .updateSettingField: return "UPDATE_SETTING_FIELD"
        case .custom: return "CUSTOM"
        case .applySettings: return "APPLY_SETTINGS"
        }
    }

    static func matches(_ op: Plexus_Control_V1_ProcessControlRequest.Operation?, _ result: Plexus_Control_V1_ProcessControlResponse.Result?) -> Bool {
        name(op) == name(result)
    }

    /// The RPC error for a failed routed response (the routing code rides in metadata).
    static func rpcError(_ r: Plexus_Control_V1_ProcessControlResponse) -> RPCError {
        let code: Status.Code
        switch r.errorCode {
        case .unroutableUnit: code = .notFound
        case .routeWriteFailed, .processDisconnected: code = .unavailable
        case .timeout: code = .deadlineExceeded
        case .unsupportedOperation: code = .unimplemented
        case .handlerNotConfigured: code = .failedPrecondition
        case .handlerError: code = .aborted
        default: code = .internal
        }
        var metadata = Metadata()
        metadata.add("plexus-routing-code", r.errorCode.protoName ?? String(r.errorCode.rawValue))
        return RPCError(code: code, message: "\(r.errorCode.protoName ?? "routing error"): \(r.errorMessage)", metadata: metadata)
    }
}

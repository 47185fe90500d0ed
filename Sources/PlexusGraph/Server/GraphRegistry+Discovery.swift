import Foundation
import Plexus
import PlexusProto

extension GraphRegistry {
    func registerEndpoint(_ request: Plexus_Graph_V1_RegisterEndpointRequest) throws(RPCError) -> Plexus_Graph_V1_EndpointInstance {
        guard let process = processes[request.processId] else { throw unknownProcess(request.processId) }
        guard let name = request.name, !name.namespace.isEmpty, !name.component.isEmpty, !name.endpoint.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "an endpoint needs namespace, component and endpoint names")
        }
        let address = request.address.isEmpty ? process.info.address : request.address
        guard !address.isEmpty else {
            throw RPCError(code: .failedPrecondition, message: "endpoint \(Self.path(name)) has no address: give one, or register the process with its request-plane address")
        }
        if let existing = endpoints.values.first(where: { $0.name == name && $0.address == address }) {
            throw alreadyExists("endpoint \(Self.path(name)) at \(address)", holder: existing.processId)
        }
        var instance = Plexus_Graph_V1_EndpointInstance()
        instance.name = name
        instance.instanceId = nextInstanceId
        nextInstanceId += 1
        instance.processId = request.processId
        instance.address = address
        instance.metadata = request.metadata
        endpoints[instance.instanceId] = instance
        emitTopology(.endpointUp(instance))
        notifyEndpoint(instance, up: true)
        return instance
    }

    func unregisterEndpoint(_ request: Plexus_Graph_V1_UnregisterEndpointRequest) throws(RPCError) {
        guard let e = endpoints[request.instanceId], e.processId == request.processId else {
            throw RPCError(code: .notFound, message: "process \(request.processId) has no endpoint instance \(request.instanceId)")
        }
        endpoints[request.instanceId] = nil
        emitTopology(.endpointDown(e))
        notifyEndpoint(e, up: false)
    }

    static func path(_ n: Plexus_Graph_V1_EndpointName) -> String { "\(n.namespace)/\(n.component)/\(n.endpoint)" }

    static func matches(_ filter: Plexus_Graph_V1_EndpointName?, _ e: Plexus_Graph_V1_EndpointInstance) -> Bool {
        guard let filter else { return true }
        let n = e.name ?? Plexus_Graph_V1_EndpointName()
        return (filter.namespace.isEmpty || filter.namespace == n.namespace)
            && (filter.component.isEmpty || filter.component == n.component)
            && (filter.endpoint.isEmpty || filter.endpoint == n.endpoint)
    }

    func resolve(_ filter: Plexus_Graph_V1_EndpointName?) -> [Plexus_Graph_V1_EndpointInstance] {
        endpoints.keys.sorted().compactMap { endpoints[$0] }.filter { Self.matches(filter, $0) }
    }

    func watchEndpoints(_ filter: Plexus_Graph_V1_EndpointName?) -> (UUID, Mailbox<Plexus_Graph_V1_EndpointEvent>) {
        let mailbox = Mailbox<Plexus_Graph_V1_EndpointEvent>(limit: configuration.subscriberQueueLimit)
        var snapshot = Plexus_Graph_V1_EndpointEvent()
        snapshot.kind = .snapshot
        snapshot.instances = resolve(filter)
        mailbox.push(snapshot, force: true)
        let id = UUID()
        endpointWatchers[id] = (filter ?? Plexus_Graph_V1_EndpointName(), mailbox)
        return (id, mailbox)
    }

    func unwatchEndpoints(_ id: UUID) {
        endpointWatchers.removeValue(forKey: id)?.mailbox.finish()
    }

    func notifyEndpoint(_ e: Plexus_Graph_V1_EndpointInstance, up: Bool) {
        for (id, w) in endpointWatchers where Self.matches(w.filter, e) {
            var event = Plexus_Graph_V1_EndpointEvent()
            event.kind = up ? .up : .down
            event.instances = [e]
            if w.mailbox.push(event) != .queued {
                // Too slow or gone: end the watch; the client resolves again.
                w.mailbox.finish()
                endpointWatchers[id] = nil
            }
        }
    }
}

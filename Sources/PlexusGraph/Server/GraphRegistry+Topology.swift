import Foundation
import PlexusProto

extension GraphRegistry {
    /// Appends a topology event and pushes it to every watcher; a watcher too far behind gets a
    /// resync snapshot and its stream ends (it watches again after the snapshot's seq).
    func emitTopology(_ kind: Plexus_Graph_V1_TopologyEvent.Kind) {
        let event = topologyLog.append { seq in
            var e = Plexus_Graph_V1_TopologyEvent()
            e.seq = seq
            e.timestampUnixNanos = Self.nowUnixNanos()
            e.kind = kind
            return e
        }
        guard !topologyWatchers.isEmpty else { return }
        var item = Plexus_Graph_V1_TopologyStreamItem()
        item.kind = .event(event)
        for (id, mailbox) in topologyWatchers {
            switch mailbox.push(item) {
            case .queued: break
            case .finished: topologyWatchers[id] = nil
            case .full:
                var resync = Plexus_Graph_V1_TopologyStreamItem()
                resync.kind = .resync(topologySnapshot())
                mailbox.push(resync, force: true)
                mailbox.finish()
                topologyWatchers[id] = nil
            }
        }
    }

    func topologySnapshot() -> Plexus_Graph_V1_TopologySnapshot {
        var s = Plexus_Graph_V1_TopologySnapshot()
        s.seq = topologyLog.lastSeq
        s.serverId = serverId
        s.processes = listProcesses()
        s.units = unitOwner.keys.sorted().compactMap { unit in unitOwner[unit].map { unitDescription(unit, owner: $0) } }
        s.topics = topics.keys.sorted().map { topicDescription($0) }
        for from in edges.keys.sorted() {
            for to in (edges[from] ?? []).sorted() {
                var e = Plexus_Graph_V1_Edge()
                e.fromTopic = from
                e.toTopic = to
                s.edges.append(e)
            }
        }
        s.endpoints = endpoints.keys.sorted().compactMap { endpoints[$0] }
        return s
    }

    func topicDescription(_ name: String, publisher: UInt64? = nil, subscriber: UInt64? = nil) -> Plexus_Graph_V1_TopicDescription {
        var t = Plexus_Graph_V1_TopicDescription()
        t.name = name
        guard let record = topics[name] else { return t }
        t.typeName = record.typeName
        let pubs = publisher.map { [$0] } ?? (subscriber == nil ? record.publishers.sorted() : [])
        let subs = subscriber.map { [$0] } ?? (publisher == nil ? record.subscribers.sorted() : [])
        for id in pubs {
            guard let p = publishers[id] else { continue }
            var d = Plexus_Graph_V1_PublisherDescription()
            d.publisherId = id
            d.processId = p.processId
            d.unit = p.unit
            t.publishers.append(d)
        }
        for id in subs {
            guard let c = subscribers[id] else { continue }
            var d = Plexus_Graph_V1_SubscriberDescription()
            d.subscriberId = id
            d.processId = c.processId
            d.unit = c.unit
            d.maxInFlight = c.maxInFlight
            d.policy = c.policy
            t.subscribers.append(d)
        }
        return t
    }

    /// Starts a topology watch: events after `afterSeq` (or a resync snapshot when they were
    /// evicted), then live events, with no gap and no duplicate.
    func watchTopology(after afterSeq: UInt64) -> (UUID, Mailbox<Plexus_Graph_V1_TopologyStreamItem>) {
        let mailbox = Mailbox<Plexus_Graph_V1_TopologyStreamItem>(limit: configuration.subscriberQueueLimit)
        let (events, gap) = topologyLog.after(afterSeq)
        if gap {
            var item = Plexus_Graph_V1_TopologyStreamItem()
            item.kind = .resync(topologySnapshot())
            mailbox.push(item, force: true)
        } else {
            for e in events {
                var item = Plexus_Graph_V1_TopologyStreamItem()
                item.kind = .event(e)
                mailbox.push(item, force: true)
            }
        }
        let id = UUID()
        topologyWatchers[id] = mailbox
        return (id, mailbox)
    }

    func unwatchTopology(_ id: UUID) {
        topologyWatchers.removeValue(forKey: id)?.finish()
    }
}

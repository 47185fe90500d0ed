import Foundation
import Plexus
import PlexusProto

extension GraphRegistry {
    @discardableResult
    func appendSettingsEvent(unit: String, processId: String, source: Plexus_Graph_V1_SettingsEvent.Source,
                             typeName: String, value: [UInt8], fieldPath: String) -> Plexus_Graph_V1_SettingsEvent {
        let event = settingsLog.append { seq in
            var e = Plexus_Graph_V1_SettingsEvent()
            e.seq = seq
            e.unit = unit
            e.processId = processId
            e.source = source
            e.typeName = typeName
            e.value = value
            e.fieldPath = fieldPath
            e.timestampUnixNanos = Self.nowUnixNanos()
            return e
        }
        if settings[unit] != nil { settings[unit]?.seq = event.seq }
        for (id, w) in settingsWatchers where w.unit.isEmpty || w.unit == unit {
            var item = Plexus_Graph_V1_SettingsStreamItem()
            item.kind = .event(event)
            switch w.mailbox.push(item) {
            case .queued: break
            case .finished: settingsWatchers[id] = nil
            case .full:
                w.mailbox.push(gapItem(lastDelivered: event.seq - 1 - UInt64(w.mailbox.count)), force: true)
                w.mailbox.finish()
                settingsWatchers[id] = nil
            }
        }
        return event
    }

    func gapItem(lastDelivered: UInt64) -> Plexus_Graph_V1_SettingsStreamItem {
        var gap = Plexus_Graph_V1_SettingsGap()
        gap.lastDeliveredSeq = lastDelivered
        gap.nextAvailableSeq = settingsLog.firstSeq
        var item = Plexus_Graph_V1_SettingsStreamItem()
        item.kind = .gap(gap)
        return item
    }

    func invalid(_ e: SettingsError, unit: String) -> RPCError {
        RPCError(code: .invalidArgument, message: "unit '\(unit)': \(e.description)")
    }

    func declareSettings(_ r: Plexus_Graph_V1_DeclareSettingsRequest) throws(RPCError) -> UInt64 {
        guard processes[r.processId] != nil else { throw unknownProcess(r.processId) }
        guard unitOwner[r.unit] == r.processId else {
            throw RPCError(code: .failedPrecondition, message: "process \(r.processId) does not own unit '\(r.unit)': list it in Register.units or add it with UpdateOwnership first")
        }
        guard let schema = r.schema, !schema.typeName.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "unit '\(r.unit)': DeclareSettings needs the settings schema (type_name and fields)")
        }
        let codec = SchemaCodec(schema: schema)
        do { try codec.validate(r.value) } catch { throw invalid(error, unit: r.unit) }
        settings[r.unit] = SettingsRecord(processId: r.processId, codec: codec, value: r.value, seq: 0)
        return appendSettingsEvent(unit: r.unit, processId: r.processId, source: .declared,
                                   typeName: schema.typeName, value: r.value, fieldPath: "").seq
    }

    func reportSettings(_ r: Plexus_Graph_V1_ReportSettingsRequest) throws(RPCError) -> UInt64 {
        guard let record = settings[r.unit] else {
            throw RPCError(code: .notFound, message: "unit '\(r.unit)' has no declared settings (call DeclareSettings first)")
        }
        guard record.processId == r.processId else {
            throw RPCError(code: .permissionDenied, message: "only the owner of unit '\(r.unit)' (process \(record.processId)) reports its settings; others use UpdateSettings")
        }
        do { try record.codec.validate(r.value) } catch { throw invalid(error, unit: r.unit) }
        settings[r.unit]?.value = r.value
        return appendSettingsEvent(unit: r.unit, processId: r.processId, source: .ownerReported,
                                   typeName: record.codec.schema.typeName, value: r.value, fieldPath: "").seq
    }

    func settingsSnapshot(unit: String) throws(RPCError) -> Plexus_Graph_V1_SettingsSnapshotResponse {
        var response = Plexus_Graph_V1_SettingsSnapshotResponse()
        response.seq = settingsLog.lastSeq
        let names = unit.isEmpty ? settings.keys.sorted() : [unit]
        for name in names {
            guard let record = settings[name] else {
                throw RPCError(code: .notFound, message: "unit '\(name)' has no declared settings")
            }
            var u = Plexus_Graph_V1_UnitSettings()
            u.unit = name
            u.processId = record.processId
            u.schema = record.codec.schema
            u.value = record.value
            u.seq = record.seq
            response.units.append(u)
        }
        return response
    }

    func settingsEvents(after seq: UInt64, limit: UInt32) -> Plexus_Graph_V1_SettingsEventsResponse {
        let (events, gap) = settingsLog.after(seq, limit: limit == 0 ? 1_000 : Int(limit))
        var r = Plexus_Graph_V1_SettingsEventsResponse()
        r.events = events
        r.firstAvailableSeq = settingsLog.firstSeq
        r.lastSeq = settingsLog.lastSeq
        r.gap = gap || seq > settingsLog.lastSeq
        return r
    }

    /// Replays events after `afterSeq`, then streams live ones; a gap marker ends the stream when
    /// the history no longer has them (or the seq is from another server instance).
    func watchSettings(after afterSeq: UInt64, unit: String) -> (UUID, Mailbox<Plexus_Graph_V1_SettingsStreamItem>) {
        let mailbox = Mailbox<Plexus_Graph_V1_SettingsStreamItem>(limit: configuration.subscriberQueueLimit)
        let id = UUID()
        let (events, gap) = settingsLog.after(afterSeq)
        if gap || afterSeq > settingsLog.lastSeq {
            mailbox.push(gapItem(lastDelivered: afterSeq), force: true)
            mailbox.finish()
            return (id, mailbox)
        }
        for e in events where unit.isEmpty || e.unit == unit {
            var item = Plexus_Graph_V1_SettingsStreamItem()
            item.kind = .event(e)
            mailbox.push(item, force: true)
        }
        settingsWatchers[id] = (unit, mailbox)
        return (id, mailbox)
    }

    func unwatchSettings(_ id: UUID) {
        settingsWatchers.removeValue(forKey: id)?.mailbox.finish()
    }

    /// Validates a whole new settings message, routes it to the owner, commits what it applied.
    func updateSettings(_ r: Plexus_Graph_V1_UpdateSettingsRequest) async throws(RPCError) -> Plexus_Graph_V1_SettingsEvent {
        guard let record = settings[r.unit] else {
            throw RPCError(code: .notFound, message: "unit '\(r.unit)' has no declared settings")
        }
        do { try record.codec.validate(r.value, current: record.value) } catch { throw invalid(error, unit: r.unit) }
        var request = Plexus_Control_V1_ProcessControlRequest()
        request.unit = r.unit
        request.timeout = r.timeout
        var apply = Plexus_Control_V1_ApplySettingsRequest()
        apply.settings = r.value
        request.operation = .applySettings(apply)
        let response = await route(request)
        guard response.errorCode == .unspecified else { throw Self.rpcError(response) }
        guard case .applySettings(let result)? = response.result else { throw Self.rpcError(response) }
        return try commit(unit: r.unit, owner: record.processId, value: result.settings, fieldPath: "")
    }

    func updateSettingField(_ r: Plexus_Graph_V1_UpdateSettingFieldRequest) async throws(RPCError) -> Plexus_Graph_V1_SettingsEvent {
        guard let record = settings[r.unit] else {
            throw RPCError(code: .notFound, message: "unit '\(r.unit)' has no declared settings")
        }
        guard let value = r.value else {
            throw RPCError(code: .invalidArgument, message: "unit '\(r.unit)': UpdateSettingField needs a value for '\(r.fieldPath)'")
        }
        do { _ = try record.codec.checkedValue(value, at: r.fieldPath) } catch { throw invalid(error, unit: r.unit) }
        var request = Plexus_Control_V1_ProcessControlRequest()
        request.unit = r.unit
        request.timeout = r.timeout
        var update = Plexus_Control_V1_UpdateSettingFieldRequest()
        update.fieldPath = r.fieldPath
        update.value = value
        request.operation = .updateSettingField(update)
        let response = await route(request)
        guard response.errorCode == .unspecified else { throw Self.rpcError(response) }
        guard case .updateSettingField(let result)? = response.result else { throw Self.rpcError(response) }
        return try commit(unit: r.unit, owner: record.processId, value: result.settings, fieldPath: r.fieldPath)
    }

    /// Commits the value the owner acknowledged (checked against the schema first).
    func commit(unit: String, owner: String, value: [UInt8], fieldPath: String) throws(RPCError) -> Plexus_Graph_V1_SettingsEvent {
        guard let record = settings[unit], record.processId == owner else {
            throw RPCError(code: .unavailable, message: "unit '\(unit)' changed owner while the update was in flight; retry")
        }
        do { try record.codec.validate(value) } catch {
            throw RPCError(code: .internal, message: "INVALID_RESPONSE: the owner of '\(unit)' answered with settings that break the schema: \(error)")
        }
        settings[unit]?.value = value
        return appendSettingsEvent(unit: unit, processId: owner, source: .updated, typeName: record.codec.schema.typeName,
                                   value: value, fieldPath: fieldPath)
    }
}

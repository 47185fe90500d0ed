import Plexus
import PlexusCodec
import PlexusProto

extension GraphClient {
    /// Declares the settings of `unit` (owned by this process; taken now if not yet owned) and
    /// applies routed updates through `onUpdate` (throw to refuse one).
    public func ownSettings<T: ProtoMessage & SettingsSchemaProviding>(
        unit: String, initial: T, onUpdate: @escaping @Sendable (T) async throws -> Void = { _ in }
    ) async throws -> OwnedSettings<T> {
        if !state.withLock({ $0.units.contains(unit) }) {
            var r = Plexus_Graph_V1_UpdateOwnershipRequest()
            r.processId = processId
            r.addUnits = [unit]
            _ = try await graph.updateOwnership(r)
            state.withLock { $0.units.append(unit) }
        }
        let owned = OwnedSettings(unit: unit, initial: initial, onUpdate: onUpdate) { [weak self] bytes in
            guard let self else { return }
            var r = Plexus_Graph_V1_ReportSettingsRequest()
            r.processId = self.processId
            r.unit = unit
            r.value = bytes
            _ = try await self.graph.reportSettings(r)
        }
        state.withLock { $0.settings[unit] = owned }
        try await declare(owned)
        return owned
    }

    /// Updates one field of a unit's settings (validated by the graph server, applied by the
    /// owner); returns the committed event.
    public func updateSetting(unit: String, field: String, value: Plexus_Settings_V1_FieldValue,
                              timeout: Duration? = nil) async throws -> Plexus_Graph_V1_SettingsEvent {
        var r = Plexus_Graph_V1_UpdateSettingFieldRequest()
        r.unit = unit
        r.fieldPath = field
        r.value = value
        if let timeout { r.timeout = Google_Protobuf_Duration(timeout) }
        return try await graph.updateSettingField(r).event ?? Plexus_Graph_V1_SettingsEvent()
    }

    /// Replaces a unit's whole settings message.
    public func updateSettings<T: ProtoMessage>(unit: String, _ value: T, timeout: Duration? = nil) async throws -> Plexus_Graph_V1_SettingsEvent {
        var r = Plexus_Graph_V1_UpdateSettingsRequest()
        r.unit = unit
        r.value = value.serializedBytes()
        if let timeout { r.timeout = Google_Protobuf_Duration(timeout) }
        return try await graph.updateSettings(r).event ?? Plexus_Graph_V1_SettingsEvent()
    }

    /// Current settings of every unit (or one).
    public func settingsSnapshot(unit: String = "") async throws -> Plexus_Graph_V1_SettingsSnapshotResponse {
        var r = Plexus_Graph_V1_SettingsSnapshotRequest()
        r.unit = unit
        return try await graph.settingsSnapshot(r)
    }
}

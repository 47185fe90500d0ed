import PlexusLoop
import Plexus
import PlexusCodec
import PlexusProto
import Synchronization

/// The type-erased side of owned settings the session applies routed updates to.
protocol SettingsOwner: Sendable {
    var unit: String { get }
    var schema: Plexus_Settings_V1_SettingsSchema { get }
    var encoded: [UInt8] { get }
    /// Applies a whole new encoded value; returns what was applied.
    func apply(encoded: [UInt8]) async throws -> [UInt8]
    /// Applies one field; returns the whole encoded value after it.
    func apply(field path: String, value: Plexus_Settings_V1_FieldValue) async throws -> [UInt8]
}

/// Settings of a unit this process owns. The graph server holds the source of truth; updates
/// from anywhere are validated there, routed here, applied through `onUpdate`, then committed.
///
/// ```swift
/// let settings = try await graph.ownSettings(unit: "filter", initial: FilterSettings(...)) { new in
///     filter.reconfigure(new)   // throw to refuse the update
/// }
/// try await settings.set(changed)  // the owner's own change, reported to the log
/// ```
public final class OwnedSettings<T: ProtoMessage & SettingsSchemaProviding>: SettingsOwner {
    public let unit: String
    private let current: Locked<T>
    private let onUpdate: @Sendable (T) async throws -> Void
    let report: @Sendable ([UInt8]) async throws -> Void
    let codec: SchemaCodec

    init(unit: String, initial: T, onUpdate: @escaping @Sendable (T) async throws -> Void,
         report: @escaping @Sendable ([UInt8]) async throws -> Void) {
        self.unit = unit
        current = Locked(initial)
        self.onUpdate = onUpdate
        self.report = report
        codec = SchemaCodec(schema: T.settingsSchema)
    }

    /// The value in force.
    public var value: T { current.withLock { $0 } }
    var schema: Plexus_Settings_V1_SettingsSchema { T.settingsSchema }
    var encoded: [UInt8] { value.serializedBytes() }

    /// Changes the settings from the owner's side and reports them to the graph server's log.
    public func set(_ newValue: T) async throws {
        current.withLock { $0 = newValue }
        try await report(newValue.serializedBytes())
    }

    func apply(encoded: [UInt8]) async throws -> [UInt8] {
        let new = try T(serializedBytes: encoded)
        try await onUpdate(new)
        current.withLock { $0 = new }
        return new.serializedBytes()
    }

    func apply(field path: String, value: Plexus_Settings_V1_FieldValue) async throws -> [UInt8] {
        let patched = try codec.patch(encoded, path: path, value: value)
        return try await apply(encoded: patched)
    }
}

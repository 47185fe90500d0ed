/// A settings message whose fields carry `(plexus.settings.v1.field)` options; the generator
/// emits the schema (descriptions, units, bounds, choices, widget hints) as static metadata.
public protocol SettingsSchemaProviding {
    /// The schema read from the .proto options at generation time.
    static var settingsSchema: Plexus_Settings_V1_SettingsSchema { get }
}

extension Plexus_Settings_V1_Bound {
    /// A bound with the given value.
    public init(value: Double) {
        self.init()
        self.value = value
    }
}

extension Plexus_Settings_V1_EnumValueName {
    /// An enum value's name and number.
    public init(name: String, number: Int32) {
        self.init()
        self.name = name
        self.number = number
    }
}

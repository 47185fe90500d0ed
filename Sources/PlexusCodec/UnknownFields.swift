/// Fields a decoder met whose numbers its schema does not know.
///
/// They are kept as raw wire data and written back after the known fields on encode, so a
/// message passes through a process built against an older schema without losing data.
public struct UnknownFields: Sendable, Hashable {
    /// One unknown field as it appeared on the wire.
    public struct Field: Sendable, Hashable {
        /// The field number.
        public var number: UInt32
        /// The protobuf wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
        public var wireType: UInt8
        /// The bytes that followed the tag on the wire (for wire type 2 they include the length prefix).
        public var data: [UInt8]

        public init(number: UInt32, wireType: UInt8, data: [UInt8]) {
            self.number = number
            self.wireType = wireType
            self.data = data
        }
    }

    /// The fields in the order they were read.
    public var fields: [Field]

    public init(fields: [Field] = []) {
        self.fields = fields
    }

    /// Whether there are none.
    public var isEmpty: Bool { fields.isEmpty }
}

/// An immutable heap box that lets a message hold a field of its own type.
///
/// Generated code stores singular fields whose type leads back to the containing message in a
/// box, so the struct has a finite size; the box is never mutated, so value semantics hold.
public final class ProtoBox<Value: Sendable & Hashable>: Sendable, Hashable {
    /// The boxed value.
    public let value: Value

    public init(_ value: Value) {
        self.value = value
    }

    public static func == (lhs: ProtoBox, rhs: ProtoBox) -> Bool {
        lhs === rhs || lhs.value == rhs.value
    }

    public func hash(into hasher: inout Hasher) {
        value.hash(into: &hasher)
    }
}

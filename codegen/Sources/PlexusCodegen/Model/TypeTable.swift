/// Every message and enum protoc handed over (the files to generate and all their imports),
/// with Swift names and the recursion facts the renderer needs.
public struct TypeTable: Sendable {
    /// What a fully qualified proto name is.
    public enum Entry: Sendable {
        case message(MessageDescriptor, swiftName: String, file: String)
        case enumType(EnumDescriptor, swiftName: String, file: String)
    }

    public private(set) var entries: [String: Entry] = [:]
    /// Messages that can reach a cycle of message-typed fields (need a nesting-depth check).
    public private(set) var needsDepthCheck: Set<String> = []
    /// Strongly connected component id of each message over singular message fields.
    private var singularComponent: [String: Int] = [:]

    public init(files: [FileDescriptor]) {
        for file in files {
            let prefix = Naming.packagePrefix(file.package)
            for message in file.messages { add(message, swiftName: Naming.typeName(message.name, topLevelPrefix: prefix), file: file.name) }
            for e in file.enums { entries[e.fullName] = .enumType(e, swiftName: Naming.typeName(e.name, topLevelPrefix: prefix), file: file.name) }
        }
        analyse()
    }

    private mutating func add(_ message: MessageDescriptor, swiftName: String, file: String) {
        entries[message.fullName] = .message(message, swiftName: swiftName, file: file)
        for nested in message.nested { add(nested, swiftName: swiftName + "." + Naming.typeName(nested.name), file: file) }
        for e in message.enums { entries[e.fullName] = .enumType(e, swiftName: swiftName + "." + Naming.typeName(e.name), file: file) }
    }

    public func message(_ name: String) -> MessageDescriptor? {
        if case .message(let m, _, _)? = entries[name] { return m }
        return nil
    }

    public func swiftName(_ name: String) -> String? {
        switch entries[name] {
        case .message(_, let swiftName, _)?: return swiftName
        case .enumType(_, let swiftName, _)?: return swiftName
        case nil: return nil
        }
    }

    /// Whether a singular field of type `target` inside `owner` closes a cycle (must be boxed).
    public func isRecursive(owner: String, target: String) -> Bool {
        guard let a = singularComponent[owner], let b = singularComponent[target] else { return false }
        return a == b
    }

    // MARK: Graph analysis (Tarjan's strongly connected components)

    private mutating func analyse() {
        var allEdges: [String: [String]] = [:]
        var singularEdges: [String: [String]] = [:]
        for (name, entry) in entries {
            guard case .message(let m, _, _) = entry else { continue }
            var all: [String] = []
            var singular: [String] = []
            for field in m.fields where field.type == .message {
                if let target = message(field.typeName), target.isMapEntry {
                    // A map: its value type is the edge.
                    if let value = target.fields.first(where: { $0.number == 2 }), value.type == .message {
                        all.append(value.typeName)
                    }
                    continue
                }
                all.append(field.typeName)
                if field.label != .repeated { singular.append(field.typeName) }
            }
            allEdges[name] = all
            singularEdges[name] = singular
        }
        let allComponents = Self.components(allEdges)
        var cyclic: Set<String> = []
        for (name, targets) in allEdges {
            if targets.contains(where: { allComponents[$0] == allComponents[name] }) { cyclic.insert(name) }
        }
        // A message needs a depth check if anything reachable from it is cyclic.
        for name in allEdges.keys {
            var seen: Set<String> = [name]
            var stack = [name]
            while let next = stack.popLast() {
                if cyclic.contains(next) {
                    needsDepthCheck.insert(name)
                    break
                }
                for target in allEdges[next] ?? [] where !seen.contains(target) {
                    seen.insert(target)
                    stack.append(target)
                }
            }
        }
        singularComponent = Self.components(singularEdges)
        // Components of size one without a self edge are not recursive: give them unique ids.
        var id = -1
        for (name, targets) in singularEdges {
            let component = singularComponent[name]
            let size = singularComponent.values.filter { $0 == component }.count
            if size == 1 && !targets.contains(name) {
                singularComponent[name] = id
                id -= 1
            }
        }
    }

    private static func components(_ edges: [String: [String]]) -> [String: Int] {
        var index = 0
        var indices: [String: Int] = [:]
        var lowlink: [String: Int] = [:]
        var onStack: Set<String> = []
        var stack: [String] = []
        var result: [String: Int] = [:]
        var componentID = 0

        func strongConnect(_ v: String) {
            indices[v] = index
            lowlink[v] = index
            index += 1
            stack.append(v)
            onStack.insert(v)
            for w in edges[v] ?? [] where edges[w] != nil {
                if indices[w] == nil {
                    strongConnect(w)
                    lowlink[v] = min(lowlink[v] ?? 0, lowlink[w] ?? 0)
                } else if onStack.contains(w) {
                    lowlink[v] = min(lowlink[v] ?? 0, indices[w] ?? 0)
                }
            }
            if lowlink[v] == indices[v] {
                while let w = stack.popLast() {
                    onStack.remove(w)
                    result[w] = componentID
                    if w == v { break }
                }
                componentID += 1
            }
        }
        for v in edges.keys.sorted() where indices[v] == nil {
            strongConnect(v)
        }
        return result
    }
}

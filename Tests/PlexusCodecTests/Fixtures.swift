import PlexusCodec
import PlexusProto
import PlexusTestProto

/// Messages that exercise every feature of the generator, shared by the tests.
enum Fixtures {
    static var scalars: Plexus_Test_V1_Scalars {
        var m = Plexus_Test_V1_Scalars()
        m.i32 = -42
        m.i64 = Int64.min
        m.u32 = UInt32.max
        m.u64 = UInt64.max
        m.s32 = Int32.min
        m.s64 = Int64.max
        m.f32 = 0xdead_beef
        m.f64 = 0x0123_4567_89ab_cdef
        m.sf32 = -7
        m.sf64 = -8_000_000_000
        m.flt = 3.5
        m.dbl = -1e300
        m.flag = true
        m.text = "héllo wörld ✓ 😈"
        m.data = [0, 1, 2, 255, 0]
        m.color = .blue
        return m
    }

    static var repeated: Plexus_Test_V1_Repeated {
        var m = Plexus_Test_V1_Repeated()
        m.i32 = [1, -1, Int32.max, Int32.min]
        m.i64 = [Int64.min, 0, Int64.max]
        m.u32 = [0, 1, UInt32.max]
        m.u64 = [UInt64.max, 12]
        m.s32 = [-1, 1, Int32.min]
        m.s64 = [Int64.min, -2]
        m.f32 = [1, 2, 3]
        m.f64 = [4, 5]
        m.sf32 = [-1, -2]
        m.sf64 = [-3]
        m.flt = [1.5, -2.25]
        m.dbl = [Double.infinity, -0.0, 1e-300]
        m.flag = [true, false, true]
        m.text = ["a", "", "ünï"]
        m.data = [[1, 2], [], [0]]
        m.color = [.red, .green, .UNRECOGNIZED(77)]
        m.messages = [scalars, Plexus_Test_V1_Scalars()]
        m.unpackedI32 = [3, -4, 5]
        return m
    }

    static var maps: Plexus_Test_V1_Maps {
        var m = Plexus_Test_V1_Maps()
        m.stringToString = ["b": "2", "a": "1", "ä": "umlaut"]
        m.intToLong = [3: -3, -1: 1, 100: Int64.max]
        m.stringToMessage = ["one": scalars, "two": Plexus_Test_V1_Scalars()]
        m.idToColor = [1: .red, UInt64.max: .blue]
        // A `false` key would be omitted by protobuf-c (see DESIGN.md), so only `true` here.
        m.flagToBytes = [true: [1]]
        m.sintToDouble = [-5: 0.5, 5: -0.5]
        return m
    }

    static var oneofs: Plexus_Test_V1_Oneofs {
        var inner = Plexus_Test_V1_Oneofs()
        inner.choice = .name("inner")
        inner.other = .ratio(0.25)
        var m = Plexus_Test_V1_Oneofs()
        m.choice = .scalars(scalars)
        m.other = .nested(inner)
        m.after = "after"
        return m
    }

    static var outer: Plexus_Test_V1_Outer {
        var deepest = Plexus_Test_V1_Outer.Inner.Deepest()
        deepest.leaf = "leaf"
        var inner = Plexus_Test_V1_Outer.Inner()
        inner.value = 9
        inner.deepest = deepest
        var m = Plexus_Test_V1_Outer()
        m.inner = inner
        m.inners = [inner, Plexus_Test_V1_Outer.Inner()]
        m.mode = .safe
        m.class = "class"
        m.self_p = 5
        m.default = "default"
        m.protocol = true
        m.type = "type"
        var imported = Plexus_Test_V1_ImportedMessage()
        imported.note = "note"
        m.imported = imported
        m.someSnakeCaseName = 77
        return m
    }

    static func tree(depth: Int) -> Plexus_Test_V1_Tree {
        var t = Plexus_Test_V1_Tree()
        t.label = "d\(depth)"
        if depth > 0 {
            t.left = tree(depth: depth - 1)
            t.right = tree(depth: depth - 1)
            t.children = [tree(depth: depth - 1)]
        }
        return t
    }

    static var wellKnown: Plexus_Test_V1_WellKnown {
        var m = Plexus_Test_V1_WellKnown()
        m.at = Google_Protobuf_Timestamp(unixNanoseconds: 1_700_000_000_123_456_789)
        m.took = Google_Protobuf_Duration(.milliseconds(1500))
        m.nothing = Google_Protobuf_Empty()
        m.anything = Google_Protobuf_Any(packing: scalars)
        var s = Google_Protobuf_Struct()
        var number = Google_Protobuf_Value()
        number.kind = .numberValue(42)
        var text = Google_Protobuf_Value()
        text.kind = .stringValue("text")
        var null = Google_Protobuf_Value()
        null.kind = .nullValue(.nullValue)
        var list = Google_Protobuf_ListValue()
        list.values = [number, text, null]
        var listValue = Google_Protobuf_Value()
        listValue.kind = .listValue(list)
        var nested = Google_Protobuf_Struct()
        nested.fields = ["flag": { var v = Google_Protobuf_Value(); v.kind = .boolValue(true); return v }()]
        var nestedValue = Google_Protobuf_Value()
        nestedValue.kind = .structValue(nested)
        s.fields = ["number": number, "list": listValue, "nested": nestedValue]
        m.object = s
        m.value = listValue
        var status = Plexus_Rpc_V1_Status()
        status.code = .notFound
        status.message = "missing"
        status.details = [Google_Protobuf_Any(packing: scalars)]
        m.status = status
        return m
    }

    static var proto2: Plexus_Test_V1_Proto2 {
        var m = Plexus_Test_V1_Proto2()
        m.id = 7
        m.big = 0
        m.values = [1, 2, 3]
        m.packedValues = [4, 5]
        m.pick = .right("right")
        return m
    }
}

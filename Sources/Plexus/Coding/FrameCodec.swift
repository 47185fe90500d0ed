import PlexusLoop
/// Encodes and decodes frames: `u32 BE header length | u32 BE payload length | FrameHeader |
/// payload`. The header is standard protobuf (plexus.wire.v1.FrameHeader), written by hand here
/// because it is on every frame's path.
enum FrameCodec {
    static let prefixSize = 8

    // MARK: Encoding

    /// Appends a frame whose payload `payload` writes to `out`.
    static func append(_ header: FrameHeader, into out: inout [UInt8], payload: (inout [UInt8]) -> Void) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: prefixSize))
        encodeHeader(header, into: &out)
        let headerEnd = out.count
        payload(&out)
        let headerLength = UInt32(headerEnd - start - prefixSize)
        let payloadLength = UInt32(out.count - headerEnd)
        out.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: headerLength.bigEndian, toByteOffset: start, as: UInt32.self)
            raw.storeBytes(of: payloadLength.bigEndian, toByteOffset: start + 4, as: UInt32.self)
        }
    }

    /// Appends a frame without payload to `out`.
    static func append(_ header: FrameHeader, into out: inout [UInt8]) {
        append(header, into: &out) { _ in }
    }

    static func encodeHeader(_ h: FrameHeader, into out: inout [UInt8]) {
        WireWriter.uint(1, UInt64(h.kind.rawValue), into: &out)
        WireWriter.uint(2, UInt64(h.streamID), into: &out)
        WireWriter.uint(3, UInt64(h.flags.rawValue), into: &out)
        WireWriter.string(4, h.method, into: &out)
        for entry in h.headers.entries { encodeEntry(5, entry, into: &out) }
        WireWriter.uint(6, h.timeoutMicros, into: &out)
        if let status = h.status {
            WireWriter.message(7, size: statusSize(status), into: &out) { encodeStatus(status, into: &$0) }
        }
        for entry in h.trailers.entries { encodeEntry(8, entry, into: &out) }
        WireWriter.uint(9, UInt64(h.windowIncrement), into: &out)
        WireWriter.uint(10, h.pingData, into: &out)
        if let hello = h.hello {
            WireWriter.message(11, size: helloSize(hello), into: &out) { encodeHello(hello, into: &$0) }
        }
        if let goAway = h.goAway {
            WireWriter.message(12, size: goAwaySize(goAway), into: &out) { encodeGoAway(goAway, into: &$0) }
        }
    }

    static func entrySize(_ entry: (key: String, value: Metadata.Value)) -> Int {
        var size = WireWriter.bytesSize(1, entry.key.utf8.count)
        switch entry.value {
        case .text(let text):
            // A oneof member is written even when empty (presence is explicit).
            size += WireWriter.varintSize(2 << 3) + WireWriter.varintSize(UInt64(text.utf8.count)) + text.utf8.count
        case .binary(let bytes):
            size += WireWriter.varintSize(3 << 3) + WireWriter.varintSize(UInt64(bytes.count)) + bytes.count
        }
        return size
    }

    static func encodeEntry(_ field: UInt32, _ entry: (key: String, value: Metadata.Value), into out: inout [UInt8]) {
        WireWriter.message(field, size: entrySize(entry), into: &out) { out in
            WireWriter.string(1, entry.key, into: &out)
            switch entry.value {
            case .text(let text):
                WireWriter.tag(2, 2, into: &out)
                WireWriter.varint(UInt64(text.utf8.count), into: &out)
                out.append(contentsOf: text.utf8)
            case .binary(let bytes):
                WireWriter.tag(3, 2, into: &out)
                WireWriter.varint(UInt64(bytes.count), into: &out)
                out.append(contentsOf: bytes)
            }
        }
    }

    static func statusSize(_ s: Status) -> Int {
        WireWriter.uintSize(1, UInt64(UInt32(bitPattern: s.code.rawValue))) + WireWriter.bytesSize(2, s.message.utf8.count)
            + s.details.reduce(0) { $0 + WireWriter.messageSize(3, $1.count) }
    }

    static func encodeStatus(_ s: Status, into out: inout [UInt8]) {
        // Enums are int32 on the wire: negative values take ten bytes.
        WireWriter.uint(1, UInt64(bitPattern: Int64(s.code.rawValue)), into: &out)
        WireWriter.string(2, s.message, into: &out)
        for detail in s.details {
            WireWriter.message(3, size: detail.count, into: &out) { $0.append(contentsOf: detail) }
        }
    }

    static func helloSize(_ h: Hello) -> Int {
        WireWriter.uintSize(1, UInt64(h.protocolVersion)) + WireWriter.uintSize(2, UInt64(h.maxMessageSize))
            + WireWriter.uintSize(3, UInt64(h.maxConcurrentStreams)) + WireWriter.uintSize(4, UInt64(h.initialWindow))
            + WireWriter.uintSize(5, UInt64(h.maxHeaderSize)) + WireWriter.bytesSize(6, h.authToken.utf8.count)
            + WireWriter.bytesSize(7, h.agent.utf8.count)
    }

    static func encodeHello(_ h: Hello, into out: inout [UInt8]) {
        WireWriter.uint(1, UInt64(h.protocolVersion), into: &out)
        WireWriter.uint(2, UInt64(h.maxMessageSize), into: &out)
        WireWriter.uint(3, UInt64(h.maxConcurrentStreams), into: &out)
        WireWriter.uint(4, UInt64(h.initialWindow), into: &out)
        WireWriter.uint(5, UInt64(h.maxHeaderSize), into: &out)
        WireWriter.string(6, h.authToken, into: &out)
        WireWriter.string(7, h.agent, into: &out)
    }

    static func goAwaySize(_ g: GoAway) -> Int {
        WireWriter.uintSize(1, UInt64(g.lastStreamID)) + WireWriter.uintSize(2, UInt64(bitPattern: Int64(g.code.rawValue)))
            + WireWriter.bytesSize(3, g.reason.utf8.count)
    }

    static func encodeGoAway(_ g: GoAway, into out: inout [UInt8]) {
        WireWriter.uint(1, UInt64(g.lastStreamID), into: &out)
        WireWriter.uint(2, UInt64(bitPattern: Int64(g.code.rawValue)), into: &out)
        WireWriter.string(3, g.reason, into: &out)
    }

    // MARK: Decoding

    static func decodeHeader(_ bytes: UnsafeRawBufferPointer) throws(FrameError) -> FrameHeader {
        var r = WireReader(bytes)
        var h = FrameHeader(kind: .unspecified)
        while let (number, wireType) = try r.field() {
            switch number {
            case 1:
                try WireReader.expect(wireType, 0, "kind")
                let raw = try r.varint()
                h.kind = FrameKind(rawValue: UInt8(truncatingIfNeeded: raw)) ?? .unspecified
                if raw > 255 { h.kind = .unspecified }
            case 2: try WireReader.expect(wireType, 0, "stream_id"); h.streamID = UInt32(truncatingIfNeeded: try r.varint())
            case 3: try WireReader.expect(wireType, 0, "flags"); h.flags = FrameFlags(rawValue: UInt32(truncatingIfNeeded: try r.varint()))
            case 4: try WireReader.expect(wireType, 2, "method"); h.method = try r.string()
            case 5: try WireReader.expect(wireType, 2, "headers"); try decodeEntry(try r.lengthDelimited(), into: &h.headers)
            case 6: try WireReader.expect(wireType, 0, "timeout_micros"); h.timeoutMicros = try r.varint()
            case 7: try WireReader.expect(wireType, 2, "status"); h.status = try decodeStatus(try r.lengthDelimited())
            case 8: try WireReader.expect(wireType, 2, "trailers"); try decodeEntry(try r.lengthDelimited(), into: &h.trailers)
            case 9: try WireReader.expect(wireType, 0, "window_increment"); h.windowIncrement = UInt32(truncatingIfNeeded: try r.varint())
            case 10: try WireReader.expect(wireType, 0, "ping_data"); h.pingData = try r.varint()
            case 11: try WireReader.expect(wireType, 2, "hello"); h.hello = try decodeHello(try r.lengthDelimited())
            case 12: try WireReader.expect(wireType, 2, "goaway"); h.goAway = try decodeGoAway(try r.lengthDelimited())
            default: try r.skip(wireType)
            }
        }
        return h
    }

    static func decodeEntry(_ bytes: UnsafeRawBufferPointer, into metadata: inout Metadata) throws(FrameError) {
        var r = WireReader(bytes)
        var key = ""
        var value = Metadata.Value.text("")
        while let (number, wireType) = try r.field() {
            switch number {
            case 1: try WireReader.expect(wireType, 2, "key"); key = try r.string()
            case 2: try WireReader.expect(wireType, 2, "text"); value = .text(try r.string())
            case 3: try WireReader.expect(wireType, 2, "binary"); value = .binary(try r.lengthDelimited().copiedBytes())
            default: try r.skip(wireType)
            }
        }
        metadata.append(key, value)
    }

    static func decodeStatus(_ bytes: UnsafeRawBufferPointer) throws(FrameError) -> Status {
        var r = WireReader(bytes)
        var s = Status(code: .ok)
        while let (number, wireType) = try r.field() {
            switch number {
            case 1: try WireReader.expect(wireType, 0, "code"); s.code = Status.Code(rawValue: Int32(truncatingIfNeeded: try r.varint()))
            case 2: try WireReader.expect(wireType, 2, "message"); s.message = try r.string()
            case 3: try WireReader.expect(wireType, 2, "details"); s.details.append(try r.lengthDelimited().copiedBytes())
            default: try r.skip(wireType)
            }
        }
        return s
    }

    static func decodeHello(_ bytes: UnsafeRawBufferPointer) throws(FrameError) -> Hello {
        var r = WireReader(bytes)
        var h = Hello()
        h.protocolVersion = 0
        while let (number, wireType) = try r.field() {
            switch number {
            case 1...5:
                try WireReader.expect(wireType, 0, "hello field \(number)")
                let v = UInt32(truncatingIfNeeded: try r.varint())
                switch number {
                case 1: h.protocolVersion = v
                case 2: h.maxMessageSize = v
                case 3: h.maxConcurrentStreams = v
                case 4: h.initialWindow = v
                default: h.maxHeaderSize = v
                }
            case 6: try WireReader.expect(wireType, 2, "auth_token"); h.authToken = try r.string()
            case 7: try WireReader.expect(wireType, 2, "agent"); h.agent = try r.string()
            default: try r.skip(wireType)
            }
        }
        return h
    }

    static func decodeGoAway(_ bytes: UnsafeRawBufferPointer) throws(FrameError) -> GoAway {
        var r = WireReader(bytes)
        var g = GoAway()
        while let (number, wireType) = try r.field() {
            switch number {
            case 1: try WireReader.expect(wireType, 0, "last_stream_id"); g.lastStreamID = UInt32(truncatingIfNeeded: try r.varint())
            case 2: try WireReader.expect(wireType, 0, "code"); g.code = Status.Code(rawValue: Int32(truncatingIfNeeded: try r.varint()))
            case 3: try WireReader.expect(wireType, 2, "reason"); g.reason = try r.string()
            default: try r.skip(wireType)
            }
        }
        return g
    }
}

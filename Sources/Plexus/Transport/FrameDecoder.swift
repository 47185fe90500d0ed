import PlexusLoop
/// Splits a byte stream into frames. Every complete frame of a read is handed out in the same
/// call; a partial frame is kept (in a reused buffer) until the rest arrives.
struct FrameDecoder {
    /// What the decoder produces.
    enum Event {
        /// A frame; `payload` is nil when the frame has no payload bytes. The buffer is valid
        /// only during the callback.
        case frame(FrameHeader, payload: UnsafeRawBufferPointer?)
        /// A payload over the message-size limit on `streamID`; its bytes were skipped.
        case oversizePayload(FrameHeader, size: Int)
    }

    var maxHeaderSize: Int
    var maxPayloadSize: Int
    private var pending: [UInt8] = []
    /// Bytes of an oversize payload still to skip.
    private var skipping = 0

    init(maxHeaderSize: Int, maxPayloadSize: Int) {
        self.maxHeaderSize = maxHeaderSize
        self.maxPayloadSize = maxPayloadSize
    }

    /// Feeds bytes; calls `handle` for every complete frame.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ handle: (Event) throws(FrameError) -> Void) throws(FrameError) {
        var input = bytes
        if skipping > 0 {
            let n = min(skipping, input.count)
            skipping -= n
            input = UnsafeRawBufferPointer(rebasing: input[n...])
            if input.isEmpty { return }
        }
        if pending.isEmpty {
            let consumed = try parse(input, handle)
            if consumed < input.count {
                let rest = UnsafeRawBufferPointer(rebasing: input[consumed...])
                // A large frame arrives over many reads: make room for all of it once instead
                // of growing (and copying) the buffer by doubling. Capped, so that a peer
                // announcing a huge frame cannot make us reserve more than it has sent plus 16 MiB.
                if rest.count >= FrameCodec.prefixSize {
                    let (headerLength, payloadLength) = Self.prefix(rest, at: 0)
                    if headerLength <= maxHeaderSize && payloadLength <= maxPayloadSize {
                        pending.reserveCapacity(min(FrameCodec.prefixSize + headerLength + payloadLength, 16 << 20))
                    }
                }
                pending.appendBytes(rest)
            }
            return
        }
        pending.appendBytes(input)
        // Take the buffer out of `self` while parsing (parse mutates self).
        var buffer: [UInt8] = []
        swap(&buffer, &pending)
        let consumed: Int
        do {
            consumed = try buffer.withUnsafeBytes { raw in try parse(raw, handle) }
        } catch let error as FrameError {
            throw error
        } catch {
            throw FrameError.protocolViolation("\(error)")
        }
        if consumed == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
        } else if consumed > 0 {
            buffer = buffer.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[consumed...]).copiedBytes() }
        }
        swap(&buffer, &pending)
    }

    /// The header and payload lengths of the frame prefix at `offset` (two big-endian u32s).
    private static func prefix(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> (header: Int, payload: Int) {
        (Int(UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))),
         Int(UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))))
    }

    /// Parses complete frames from `buffer`; returns the bytes consumed.
    private mutating func parse(_ buffer: UnsafeRawBufferPointer, _ handle: (Event) throws(FrameError) -> Void) throws(FrameError) -> Int {
        var offset = 0
        while buffer.count - offset >= FrameCodec.prefixSize {
            let (headerLength, payloadLength) = Self.prefix(buffer, at: offset)
            if headerLength > maxHeaderSize {
                throw FrameError.headerTooLarge(size: headerLength, limit: maxHeaderSize)
            }
            if payloadLength > maxPayloadSize {
                // The header is still needed to know which stream failed.
                guard buffer.count - offset >= FrameCodec.prefixSize + headerLength else { break }
                let headerBytes = UnsafeRawBufferPointer(rebasing: buffer[(offset + 8)..<(offset + 8 + headerLength)])
                let header = try FrameCodec.decodeHeader(headerBytes)
                let available = buffer.count - offset - 8 - headerLength
                let skipNow = min(available, payloadLength)
                offset += 8 + headerLength + skipNow
                skipping = payloadLength - skipNow
                try handle(.oversizePayload(header, size: payloadLength))
                if skipping > 0 { return buffer.count }
                continue
            }
            let total = FrameCodec.prefixSize + headerLength + payloadLength
            guard buffer.count - offset >= total else { break }
            let headerBytes = UnsafeRawBufferPointer(rebasing: buffer[(offset + 8)..<(offset + 8 + headerLength)])
            let header = try FrameCodec.decodeHeader(headerBytes)
            // Message presence is the flag alone (PROTOCOL.md §1); bytes without it are a bug.
            guard header.flags.contains(.message) || payloadLength == 0 else {
                throw FrameError.protocolViolation("a \(header.kind) frame on stream \(header.streamID) carries \(payloadLength) payload bytes without FLAG_MESSAGE")
            }
            let payload: UnsafeRawBufferPointer? = header.flags.contains(.message)
                ? UnsafeRawBufferPointer(rebasing: buffer[(offset + 8 + headerLength)..<(offset + total)]) : nil
            offset += total
            try handle(.frame(header, payload: payload))
        }
        return offset
    }
}

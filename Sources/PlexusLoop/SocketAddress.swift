import CUV
#if canImport(Glibc)
import Glibc
#endif

/// Conversions between `host:port` strings and socket addresses.
enum SocketAddress {
    /// Parses a numeric IPv4/IPv6 address (or `localhost`) and a port.
    static func make(host: String, port: Int) throws(LoopError) -> sockaddr_storage {
        var storage = sockaddr_storage()
        let name = host == "localhost" ? "127.0.0.1" : host
        let ok = withUnsafeMutableBytes(of: &storage) { raw -> Bool in
            if name.contains(":") {
                return uv_ip6_addr(name, Int32(port), raw.baseAddress?.assumingMemoryBound(to: sockaddr_in6.self)) == 0
            }
            return uv_ip4_addr(name, Int32(port), raw.baseAddress?.assumingMemoryBound(to: sockaddr_in.self)) == 0
        }
        guard ok else { throw LoopError.invalidAddress(host) }
        return storage
    }

    static func describe(_ storage: sockaddr_storage) -> String? {
        var storage = storage
        let family = Int32(storage.ss_family)
        return withUnsafeBytes(of: &storage) { raw -> String? in
            guard let base = raw.baseAddress else { return nil }
            var text = [CChar](repeating: 0, count: 64)
            if family == AF_INET {
                let address = base.assumingMemoryBound(to: sockaddr_in.self)
                uv_ip4_name(address, &text, text.count)
                return "\(string(text)):\(UInt16(bigEndian: address.pointee.sin_port))"
            } else if family == AF_INET6 {
                let address = base.assumingMemoryBound(to: sockaddr_in6.self)
                uv_ip6_name(address, &text, text.count)
                return "[\(string(text))]:\(UInt16(bigEndian: address.pointee.sin6_port))"
            }
            return nil
        }
    }

    static func string(_ text: [CChar]) -> String {
        let bytes = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func port(_ storage: sockaddr_storage) -> Int {
        var storage = storage
        let family = Int32(storage.ss_family)
        return withUnsafeBytes(of: &storage) { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            if family == AF_INET6 {
                return Int(UInt16(bigEndian: base.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port))
            }
            return Int(UInt16(bigEndian: base.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port))
        }
    }

    static func local(of handle: UnsafeMutablePointer<uv_tcp_t>) -> String? {
        storage(handle, peer: false).flatMap(describe)
    }

    static func peer(of handle: UnsafeMutablePointer<uv_tcp_t>) -> String? {
        storage(handle, peer: true).flatMap(describe)
    }

    static func storage(_ handle: UnsafeMutablePointer<uv_tcp_t>, peer: Bool) -> sockaddr_storage? {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutableBytes(of: &storage) { raw -> Int32 in
            let address = raw.baseAddress?.assumingMemoryBound(to: sockaddr.self)
            return peer ? uv_tcp_getpeername(handle, address, &length) : uv_tcp_getsockname(handle, address, &length)
        }
        return result == 0 ? storage : nil
    }
}

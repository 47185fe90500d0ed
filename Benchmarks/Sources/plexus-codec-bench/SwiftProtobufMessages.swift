// The benchmark messages for apple/swift-protobuf, written in the exact shape protoc-gen-swift
// 1.39 emits for Benchmarks/proto/plexus/bench/v1/bench.proto (kept by hand so the benchmark
// does not need swift-protobuf's plugin, whose first build takes ~10 minutes here).
import Foundation
import SwiftProtobuf

struct SPSmall: Sendable, Equatable {
    var id: Int32 = 0
    var timestamp: Int64 = 0
    var value: Double = 0
    var flag: Bool = false
    var name: String = ""
    var seq: UInt32 = 0
    var unknownFields = SwiftProtobuf.UnknownStorage()
}

struct SPBlob: Sendable, Equatable {
    var name: String = ""
    var data = Data()
    var unknownFields = SwiftProtobuf.UnknownStorage()
}

extension SPSmall: SwiftProtobuf.Message, SwiftProtobuf._MessageImplementationBase, SwiftProtobuf._ProtoNameProviding {
    static let protoMessageName: String = "plexus.bench.v1.Small"
    static let _protobuf_nameMap = SwiftProtobuf._NameMap(bytecode: "\0\u{1}id\0\u{1}timestamp\0\u{1}value\0\u{1}flag\0\u{1}name\0\u{1}seq\0")

    mutating func decodeMessage<D: SwiftProtobuf.Decoder>(decoder: inout D) throws {
        while let fieldNumber = try decoder.nextFieldNumber() {
            switch fieldNumber {
            case 1: try decoder.decodeSingularInt32Field(value: &self.id)
            case 2: try decoder.decodeSingularInt64Field(value: &self.timestamp)
            case 3: try decoder.decodeSingularDoubleField(value: &self.value)
            case 4: try decoder.decodeSingularBoolField(value: &self.flag)
            case 5: try decoder.decodeSingularStringField(value: &self.name)
            case 6: try decoder.decodeSingularUInt32Field(value: &self.seq)
            default: break
            }
        }
    }

    func traverse<V: SwiftProtobuf.Visitor>(visitor: inout V) throws {
        if self.id != 0 { try visitor.visitSingularInt32Field(value: self.id, fieldNumber: 1) }
        if self.timestamp != 0 { try visitor.visitSingularInt64Field(value: self.timestamp, fieldNumber: 2) }
        if self.value.bitPattern != 0 { try visitor.visitSingularDoubleField(value: self.value, fieldNumber: 3) }
        if self.flag != false { try visitor.visitSingularBoolField(value: self.flag, fieldNumber: 4) }
        if !self.name.isEmpty { try visitor.visitSingularStringField(value: self.name, fieldNumber: 5) }
        if self.seq != 0 { try visitor.visitSingularUInt32Field(value: self.seq, fieldNumber: 6) }
        try unknownFields.traverse(visitor: &visitor)
    }

    static func == (lhs: SPSmall, rhs: SPSmall) -> Bool {
        lhs.id == rhs.id && lhs.timestamp == rhs.timestamp && lhs.value == rhs.value && lhs.flag == rhs.flag
            && lhs.name == rhs.name && lhs.seq == rhs.seq && lhs.unknownFields == rhs.unknownFields
    }
}

extension SPBlob: SwiftProtobuf.Message, SwiftProtobuf._MessageImplementationBase, SwiftProtobuf._ProtoNameProviding {
    static let protoMessageName: String = "plexus.bench.v1.Blob"
    static let _protobuf_nameMap = SwiftProtobuf._NameMap(bytecode: "\0\u{1}name\0\u{1}data\0")

    mutating func decodeMessage<D: SwiftProtobuf.Decoder>(decoder: inout D) throws {
        while let fieldNumber = try decoder.nextFieldNumber() {
            switch fieldNumber {
            case 1: try decoder.decodeSingularStringField(value: &self.name)
            case 2: try decoder.decodeSingularBytesField(value: &self.data)
            default: break
            }
        }
    }

    func traverse<V: SwiftProtobuf.Visitor>(visitor: inout V) throws {
        if !self.name.isEmpty { try visitor.visitSingularStringField(value: self.name, fieldNumber: 1) }
        if !self.data.isEmpty { try visitor.visitSingularBytesField(value: self.data, fieldNumber: 2) }
        try unknownFields.traverse(visitor: &visitor)
    }

    static func == (lhs: SPBlob, rhs: SPBlob) -> Bool {
        lhs.name == rhs.name && lhs.data == rhs.data && lhs.unknownFields == rhs.unknownFields
    }
}

/// The part of `tensorboard.Event` (tensorboard/compat/proto/event.proto) that this project
/// writes and reads:
///
///     Event          { double wall_time = 1; int64 step = 2;
///                      oneof what { string file_version = 3; Summary summary = 5;
///                                   SessionLog session_log = 6; ... } }
///     SessionLog     { SessionStatus status = 1; string checkpoint_path = 2; string msg = 3; }  START = 1
///     Summary        { repeated Value value = 1; }
///     Summary.Value  { string tag = 1; SummaryMetadata metadata = 9;
///                      oneof value { float simple_value = 2; TensorProto tensor = 8; ... } }
///     SummaryMetadata{ PluginData plugin_data = 1; }  PluginData { string plugin_name = 1; bytes content = 2; }
///     TensorProto    { DataType dtype = 1; TensorShapeProto tensor_shape = 2; repeated bytes string_val = 8; }
///
/// (summary.proto, tensor.proto; `DataType.DT_STRING == 7` in types.proto.) Other fields are
/// skipped when reading, as protobuf requires.
public struct TensorBoardEvent: Sendable, Equatable {
    /// One `Summary.Value` with `simple_value`: a point of a scalar chart.
    public struct Scalar: Sendable, Equatable {
        public var tag: String
        public var value: Float
        public init(tag: String, value: Float) {
            self.tag = tag
            self.value = value
        }
    }

    /// One `Summary.Value` holding a DT_STRING tensor (the text plugin's format).
    public struct Text: Sendable, Equatable {
        public var tag: String
        /// The tensor's strings joined with "\n" (a rank-0 tensor has exactly one).
        public var text: String
        /// `metadata.plugin_data.plugin_name`, "text" for text summaries; nil when the value
        /// carries no metadata (TensorBoard sends metadata only with a tag's first value).
        public var pluginName: String?
        public init(tag: String, text: String, pluginName: String?) {
            self.tag = tag
            self.text = text
            self.pluginName = pluginName
        }
    }

    /// Seconds since 1970-01-01 UTC.
    public var wallTime: Double
    /// Global step (proto3 default 0).
    public var step: Int64
    /// Set only on the first event of a file: "brain.Event:2".
    public var fileVersion: String?
    public var scalars: [Scalar]
    public var texts: [Text]
    /// A `SessionLog` with status START: the program (re)started at `step`. TensorBoard then
    /// drops the points of earlier files whose step is >= this step ("purge orphaned data"),
    /// which is how a run resumed from a checkpoint hides what was logged after that checkpoint
    /// before a crash. The string is the checkpoint path (may be empty).
    public var sessionStart: String?

    public init(wallTime: Double, step: Int64 = 0, fileVersion: String? = nil,
                scalars: [Scalar] = [], texts: [Text] = [], sessionStart: String? = nil) {
        self.wallTime = wallTime
        self.step = step
        self.fileVersion = fileVersion
        self.scalars = scalars
        self.texts = texts
        self.sessionStart = sessionStart
    }

    /// The version string TensorBoard expects in the first event of every file.
    public static let currentFileVersion = "brain.Event:2"

    // MARK: - Field numbers

    enum Field {
        static let wallTime = 1, step = 2, fileVersion = 3, summary = 5, sessionLog = 6
        static let sessionStatus = 1, sessionCheckpointPath = 2
        static let statusStart: Int64 = 1
        static let summaryValue = 1
        static let valueTag = 1, valueSimpleValue = 2, valueTensor = 8, valueMetadata = 9
        static let metadataPluginData = 1, pluginName = 1
        static let tensorDType = 1, tensorShape = 2, tensorStringVal = 8
        static let dtypeString: Int64 = 7
    }

    // MARK: - Encoding

    /// The serialized `tensorboard.Event`. Scalars are written before texts; fields in
    /// field-number order, as protobuf's own serializers do.
    public func serialized() -> [UInt8] {
        var event = _ProtobufEncoder()
        event.appendDoubleField(Field.wallTime, wallTime)
        if step != 0 { event.appendVarintField(Field.step, step) }
        if let fileVersion {
            event.appendStringField(Field.fileVersion, fileVersion)
        }
        if let sessionStart {
            event.appendMessageField(Field.sessionLog) { log in
                log.appendVarintField(Field.sessionStatus, Field.statusStart)
                if !sessionStart.isEmpty { log.appendStringField(Field.sessionCheckpointPath, sessionStart) }
            }
        }
        if !scalars.isEmpty || !texts.isEmpty {
            event.appendMessageField(Field.summary) { summary in
                for scalar in scalars {
                    summary.appendMessageField(Field.summaryValue) { value in
                        value.appendStringField(Field.valueTag, scalar.tag)
                        value.appendFloatField(Field.valueSimpleValue, scalar.value)
                    }
                }
                for text in texts {
                    summary.appendMessageField(Field.summaryValue) { value in
                        value.appendStringField(Field.valueTag, text.tag)
                        value.appendMessageField(Field.valueTensor) { tensor in
                            tensor.appendVarintField(Field.tensorDType, Field.dtypeString)
                            // An empty TensorShapeProto: a rank-0 (scalar) string tensor.
                            tensor.appendMessageField(Field.tensorShape) { _ in }
                            tensor.appendStringField(Field.tensorStringVal, text.text)
                        }
                        if let plugin = text.pluginName {
                            value.appendMessageField(Field.valueMetadata) { metadata in
                                metadata.appendMessageField(Field.metadataPluginData) { pluginData in
                                    pluginData.appendStringField(Field.pluginName, plugin)
                                }
                            }
                        }
                    }
                }
            }
        }
        return event.bytes
    }

    // MARK: - Decoding

    /// Decodes a serialized `tensorboard.Event`, keeping the fields this type models.
    /// Summary values of other kinds (images, histograms, non-string tensors) are skipped.
    public init(serialized bytes: [UInt8]) throws {
        self.init(wallTime: 0)
        var reader = _ProtobufDecoder(bytes)
        while let (field, wireType) = try reader.readKey() {
            switch field {
            case Field.wallTime:
                try _ProtobufDecoder.expect(wireType, .fixed64, field: field, in: "Event")
                wallTime = try reader.readDouble()
            case Field.step:
                try _ProtobufDecoder.expect(wireType, .varint, field: field, in: "Event")
                step = Int64(bitPattern: try reader.readVarint())
            case Field.fileVersion:
                try _ProtobufDecoder.expect(wireType, .lengthDelimited, field: field, in: "Event")
                fileVersion = try reader.readString()
            case Field.summary:
                try _ProtobufDecoder.expect(wireType, .lengthDelimited, field: field, in: "Event")
                try decodeSummary(try reader.readLengthDelimited())
            case Field.sessionLog:
                try _ProtobufDecoder.expect(wireType, .lengthDelimited, field: field, in: "Event")
                try decodeSessionLog(try reader.readLengthDelimited())
            default:
                try reader.skip(wireType)
            }
        }
    }

    /// Keeps a SessionLog only if its status is START.
    private mutating func decodeSessionLog(_ bytes: ArraySlice<UInt8>) throws {
        var reader = _ProtobufDecoder(bytes)
        var status: Int64 = 0, path = ""
        while let (field, wireType) = try reader.readKey() {
            switch field {
            case Field.sessionStatus:
                try _ProtobufDecoder.expect(wireType, .varint, field: field, in: "SessionLog")
                status = Int64(bitPattern: try reader.readVarint())
            case Field.sessionCheckpointPath:
                try _ProtobufDecoder.expect(wireType, .lengthDelimited, field: field, in: "SessionLog")
                path = try reader.readString()
            default:
                try reader.skip(wireType)
            }
        }
        if status == Field.statusStart { sessionStart = path }
    }

    private mutating func decodeSummary(_ bytes: ArraySlice<UInt8>) throws {
        var reader = _ProtobufDecoder(bytes)
        while let (field, wireType) = try reader.readKey() {
            guard field == Field.summaryValue else {
                try reader.skip(wireType)
                continue
            }
            try _ProtobufDecoder.expect(wireType, .lengthDelimited, field: field, in: "Summary")
            try decodeValue(try reader.readLengthDelimited())
        }
    }

    private mutating func decodeValue(_ bytes: ArraySlice<UInt8>) throws {
        var reader = _ProtobufDecoder(bytes)
        var tag = ""
        var simpleValue: Float?
        var strings: [String]?
        var pluginName: String?
        while let (field, wireType) = try reader.readKey() {
            switch field {
            case Field.valueTag:
                try _ProtobufDecoder.expect(wireType, .lengthDelimited, field: field, in: "Summary.Value")
                tag = try reader.readString()
            case Field.valueSimpleValue:
                try _ProtobufDecoder.expect(wireType, .fixed32, field: field, in: "Summary.Value")
                simpleValue = try reader.readFloat()
            case Field.valueTensor:
                try _ProtobufDecoder.expect(wireType, .lengthDelimited, field: field, in: "Summary.Value")
                strings = try Self.decodeStringTensor(try reader.readLengthDelimited())
            case Field.valueMetadata:
                try _ProtobufDecoder.expect(wireType, .lengthDelimited, field: field, in: "Summary.Value")
                pluginName = try Self.decodePluginName(try reader.readLengthDelimited())
            default:
                try reader.skip(wireType)
            }
        }
        if let simpleValue {
            scalars.append(Scalar(tag: tag, value: simpleValue))
        } else if let strings {
            texts.append(Text(tag: tag, text: strings.joined(separator: "\n"), pluginName: pluginName))
        }
    }

    /// The `string_val`s of a DT_STRING TensorProto, or nil for any other dtype.
    private static func decodeStringTensor(_ bytes: ArraySlice<UInt8>) throws -> [String]? {
        var reader = _ProtobufDecoder(bytes)
        var dtype: Int64 = 0
        var strings: [String] = []
        while let (field, wireType) = try reader.readKey() {
            switch field {
            case Field.tensorDType:
                try _ProtobufDecoder.expect(wireType, .varint, field: field, in: "TensorProto")
                dtype = Int64(bitPattern: try reader.readVarint())
            case Field.tensorStringVal:
                try _ProtobufDecoder.expect(wireType, .lengthDelimited, field: field, in: "TensorProto")
                // string_val is `bytes`; text summaries hold UTF-8, anything else is replaced.
                strings.append(String(decoding: try reader.readLengthDelimited(), as: UTF8.self))
            default:
                try reader.skip(wireType)
            }
        }
        return dtype == Field.dtypeString ? strings : nil
    }

    private static func decodePluginName(_ bytes: ArraySlice<UInt8>) throws -> String? {
        var metadata = _ProtobufDecoder(bytes)
        var name: String?
        while let (field, wireType) = try metadata.readKey() {
            guard field == Field.metadataPluginData, wireType == .lengthDelimited else {
                try metadata.skip(wireType)
                continue
            }
            var pluginData = _ProtobufDecoder(try metadata.readLengthDelimited())
            while let (innerField, innerWireType) = try pluginData.readKey() {
                if innerField == Field.pluginName, innerWireType == .lengthDelimited {
                    name = try pluginData.readString()
                } else {
                    try pluginData.skip(innerWireType)
                }
            }
        }
        return name
    }
}

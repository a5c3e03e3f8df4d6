// safetensors files (https://github.com/huggingface/safetensors), float32 only:
//
//   bytes 0..<8        N, the header length, UInt64 little-endian
//   bytes 8..<8+N      JSON: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//                            "__metadata__": {string: string}}, padded with spaces so 8 + N is a multiple of 8
//   bytes 8+N..<end    the data section; offsets are relative to its start
//
// The encoder stores the CRC-32 (IEEE, as zlib) of the data section in __metadata__["a3c.crc32"]; the
// reader verifies it when present. Files are written by whoever owns them (the Training module's
// CheckpointStore, atomically, with Telemetry's AtomicFile): this file is the format only.
//
// The reader trusts nothing: header size capped (100 MB) and checked against the file size, JSON parsed by
// Foundation's JSONSerialization (a header is a few KB: its speed does not matter) with every value's type
// checked, dtype must be F32, shapes and offsets checked for overflow, range, size, overlap and full
// coverage of the data section (a duplicated tensor name, which JSONSerialization folds into one entry,
// leaves a gap and is refused too). Every problem is a thrown SafeTensorsError.
import Foundation

/// What is wrong with a safetensors file (or with loading it into a model).
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "safetensors: " + message }
}

/// A named float32 tensor: shape (row-major) and values.
public struct NamedTensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
                     "NamedTensor \(name): shape \(shape) does not hold \(values.count) values")
        self.name = name; self.shape = shape; self.values = values
    }
}

/// The contents of a safetensors file: tensors in file order (of their data offsets) and metadata.
public struct SafeTensorsFile: Equatable, Sendable {
    public var tensors: [NamedTensor]
    public var metadata: [String: String]

    /// The tensor called `name`, if any.
    public subscript(name: String) -> NamedTensor? { tensors.first { $0.name == name } }
}

/// Reading and writing safetensors files.
public enum SafeTensors {
    /// Largest header the reader accepts: 100 MB (the reference implementation's limit), far above any
    /// real header, so a corrupt length cannot make the reader allocate gigabytes.
    public static let maximumHeaderSize = 100_000_000
    /// Metadata key of the CRC-32 of the data section, 8 lowercase hex digits.
    public static let crcMetadataKey = "a3c.crc32"

    // MARK: Writing

    /// The file's bytes: header (with the CRC added to `metadata`) and data, tensors in the given order.
    public static func encode(tensors: [NamedTensor], metadata: [String: String] = [:]) -> [UInt8] {
        var seen = Set<String>()
        for tensor in tensors {
            precondition(tensor.name != "__metadata__" && seen.insert(tensor.name).inserted,
                         "SafeTensors: tensor name \(tensor.name) is reserved or duplicated")
        }
        var data = [UInt8]()
        data.reserveCapacity(tensors.reduce(0) { $0 + $1.values.count * 4 })
        var entries: [String: Any] = [:]
        for tensor in tensors {
            let begin = data.count
            #if _endian(little)
            tensor.values.withUnsafeBytes { data.append(contentsOf: $0) }  // F32 little-endian as in memory: one copy
            #else
            for value in tensor.values {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
            #endif
            entries[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [begin, data.count]]
        }
        var fullMetadata = metadata
        fullMetadata[crcMetadataKey] = String(format: "%08x", CRC32.checksum(data))
        entries["__metadata__"] = fullMetadata
        // Sorted keys: the same tensors and metadata always give the same bytes.
        var header = Array(try! JSONSerialization.data(withJSONObject: entries, options: [.sortedKeys]))
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + header.count + data.count)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        bytes.append(contentsOf: data)
        return bytes
    }

    // MARK: Reading

    /// Reads and validates a safetensors file.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SafeTensorsError("cannot read \(url.path): \(error.localizedDescription)")
        }
        return try decode([UInt8](data))
    }

    /// Parses and validates the bytes of a safetensors file.
    public static func decode(_ bytes: [UInt8]) throws -> SafeTensorsFile {
        guard bytes.count >= 8 else { throw SafeTensorsError("file is \(bytes.count) bytes, shorter than the 8-byte header length") }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(maximumHeaderSize) else {
            throw SafeTensorsError("header length \(headerLength) exceeds the limit of \(maximumHeaderSize) bytes")
        }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw SafeTensorsError("header length \(headerLength) exceeds the \(bytes.count - 8) bytes after the length (file truncated?)")
        }
        let headerEnd = 8 + Int(headerLength)
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])) } catch {
            throw SafeTensorsError("header is not valid JSON (\(error.localizedDescription))")
        }
        guard let members = root as? [String: Any] else { throw SafeTensorsError("header is not a JSON object") }

        let dataCount = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in members {
            if name == "__metadata__" {
                guard let pairs = value as? [String: Any] else { throw SafeTensorsError("__metadata__ is not an object") }
                for (key, item) in pairs {
                    guard let text = item as? String else { throw SafeTensorsError("__metadata__[\"\(key)\"] is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let fields = value as? [String: Any] else { throw SafeTensorsError("entry \"\(name)\" is not an object") }
            var dtype: String?, shape: [Int]?, offsets: [Int]?
            for (key, field) in fields {
                switch key {
                case "dtype":
                    guard let text = field as? String else { throw SafeTensorsError("\"\(name)\": dtype is not a string") }
                    dtype = text
                case "shape": shape = try _integers(field, what: "\"\(name)\": shape")
                case "data_offsets": offsets = try _integers(field, what: "\"\(name)\": data_offsets")
                default: throw SafeTensorsError("\"\(name)\": unknown field \"\(key)\"")
                }
            }
            guard let dtype else { throw SafeTensorsError("\"\(name)\": no dtype") }
            guard dtype == "F32" else { throw SafeTensorsError("\"\(name)\": dtype \(dtype) is not supported (only F32)") }
            guard let shape else { throw SafeTensorsError("\"\(name)\": no shape") }
            guard let offsets, offsets.count == 2 else { throw SafeTensorsError("\"\(name)\": data_offsets must be [begin, end]") }
            var elementCount = 1
            for dimension in shape {
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= dataCount else {
                    throw SafeTensorsError("\"\(name)\": shape \(shape) has more elements than the data section holds")
                }
                elementCount = product
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end, end <= dataCount else {
                throw SafeTensorsError("\"\(name)\": data_offsets [\(begin), \(end)] out of range of the \(dataCount)-byte data section")
            }
            guard end - begin == elementCount * 4 else {
                throw SafeTensorsError("\"\(name)\": data_offsets span \(end - begin) bytes but shape \(shape) of F32 needs \(elementCount * 4)")
            }
            entries.append((name, shape, begin, end))
        }
        // The tensors must tile the data section: no gap, no overlap, nothing after the last one.
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var position = 0
        for entry in entries {
            guard entry.begin == position else {
                throw SafeTensorsError(entry.begin < position
                    ? "\"\(entry.name)\": data overlaps the previous tensor (begins at \(entry.begin), previous ends at \(position))"
                    : "\"\(entry.name)\": gap in the data section before byte \(entry.begin) (previous tensor ends at \(position))")
            }
            position = entry.end
        }
        guard position == dataCount else {
            throw SafeTensorsError("tensors cover \(position) bytes but the data section has \(dataCount)")
        }
        if let stored = metadata[crcMetadataKey] {
            let actual = bytes.withUnsafeBufferPointer { CRC32.checksum(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer($0)[headerEnd...])) }
            guard stored.lowercased() == String(format: "%08x", actual) else {
                throw SafeTensorsError("CRC-32 of the data section is \(String(format: "%08x", actual)) but the header says \(stored) (file corrupted)")
            }
        }
        let tensors = bytes.withUnsafeBufferPointer { raw -> [NamedTensor] in
            entries.map { entry in
                let count = (entry.end - entry.begin) / 4
                let start = raw.baseAddress! + headerEnd + entry.begin
                let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    for i in 0..<count {
                        var bits: UInt32 = 0
                        for b in 0..<4 { bits |= UInt32(start[4 * i + b]) << (8 * UInt32(b)) }
                        buffer[i] = Float(bitPattern: bits)
                    }
                    initialized = count
                }
                return NamedTensor(name: entry.name, shape: entry.shape, values: values)
            }
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    /// A JSON array of non-negative integers (a shape, or data offsets); anything else is refused.
    private static func _integers(_ value: Any, what: String) throws -> [Int] {
        guard let items = value as? [Any] else { throw SafeTensorsError("\(what) is not an array") }
        return try items.map { item in
            // 2.5 and "2" are not integers; 2 is (a boolean reads as 0 or 1: the offsets check catches it).
            guard let number = item as? NSNumber, let integer = Int(exactly: number.doubleValue), integer >= 0 else {
                throw SafeTensorsError("\(what) must hold non-negative integers")
            }
            return integer
        }
    }
}

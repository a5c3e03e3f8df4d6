// safetensors: round trips (network, optimizer state), specific bad files, and a mutation fuzz test.
import Foundation
import Testing
@testable import NeuralCore
import GradientCheckSupport

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("neuralcore-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The bytes of a file with the given header text (padded to 8-byte alignment) and data.
func rawFile(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    var headerBytes = Array(header.utf8)
    while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
    var bytes = [UInt8]()
    withUnsafeBytes(of: (declaredLength ?? UInt64(headerBytes.count)).littleEndian) { bytes.append(contentsOf: $0) }
    return bytes + headerBytes + data
}

/// Expects `decode` to throw a SafeTensorsError whose message contains `fragment`.
func expectRejected(_ bytes: [UInt8], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try SafeTensors.decode(bytes)
        Issue.record("accepted a bad file (expected an error about \"\(fragment)\")", sourceLocation: sourceLocation)
    } catch let error as SafeTensorsError {
        #expect(error.message.contains(fragment), "message: \(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error type \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("SafeTensors checkpoints")
struct SafeTensorsTests {
    @Test("CRC-32: the standard check values, and a byte-at-a-time reference at every length and offset")
    func crc32() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(CRC32.checksum([]) == 0)
        func reference(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
            }
            return crc ^ 0xFFFF_FFFF
        }
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<5_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        var mismatches = 0
        for start in 0..<9 {
            for end in [start, start + 1, start + 7, start + 8, start + 9, start + 63, 5_000] {
                let slice = bytes[start..<end]
                let fast = slice.withUnsafeBytes { CRC32.checksum($0) }
                if fast != reference(slice) { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("network round trip: PyTorch names and shapes, bit-identical parameters, the same bytes every time")
    func networkRoundTrip() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        let network = ActorCriticNetwork(actionCount: 3, seed: 1)
        let bytes = network.checkpointBytes(metadata: ["run": "test \"quoted\"\n"])
        #expect(network.checkpointBytes(metadata: ["run": "test \"quoted\"\n"]) == bytes)  // sorted keys: deterministic
        try Data(bytes).write(to: url)
        let file = try SafeTensors.read(from: url)
        let expectedShapes: [String: [Int]] = [
            "conv1.weight": [16, 1, 8, 8], "conv1.bias": [16], "conv2.weight": [32, 16, 4, 4], "conv2.bias": [32],
            "fc.weight": [256, 2592], "fc.bias": [256], "lstm.weight_ih": [1024, 256], "lstm.weight_hh": [1024, 256],
            "lstm.bias_ih": [1024], "lstm.bias_hh": [1024], "policy.weight": [3, 256], "value.weight": [1, 256],
        ]
        #expect(Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0.shape) }) == expectedShapes)
        #expect(file.metadata["run"] == "test \"quoted\"\n" && file.metadata["format"] == "pt")
        #expect(file.metadata[SafeTensors.crcMetadataKey]?.count == 8)
        let restored = ActorCriticNetwork(actionCount: 3, seed: 2)
        #expect(restored.parameters.array != network.parameters.array)
        try restored.loadCheckpoint(from: url)
        do { let same = restored.parameters.array == network.parameters.array; #expect(same) }  // a Bool: a failing array #expect diffs every element for minutes
        // The 8-byte header length is followed by an 8-byte aligned header.
        // (the file read back is `bytes`)
        let headerLength = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        #expect((8 + headerLength) % 8 == 0)
    }

    @Test("a checkpoint for another action count is refused, naming the tensor and both shapes")
    func actionCountMismatch() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        try Data(ActorCriticNetwork(actionCount: 3, seed: 1).checkpointBytes()).write(to: url)
        let other = ActorCriticNetwork(actionCount: 4, seed: 1)
        let before = other.parameters.array
        do {
            try other.loadCheckpoint(from: url)
            Issue.record("loaded a 3-action checkpoint into a 4-action network")
        } catch let error as SafeTensorsError {
            #expect(error.message.contains("policy.weight") && error.message.contains("[3, 256]") && error.message.contains("[4, 256]"),
                    "message: \(error.message)")
        }
        do { let same = other.parameters.array == before; #expect(same) }  // unchanged (a Bool: a failing array #expect diffs for minutes)
    }

    @Test("shared parameters + Adam state round trip: a resumed run continues exactly")
    func optimizerStateRoundTrip() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let modelURL = directory.appendingPathComponent("model.safetensors")
        let optimizerURL = directory.appendingPathComponent("optimizer.safetensors")
        let layout = ParameterLayout(tensors: [("w", [5, 3]), ("b", [5])])
        var rng = Xoshiro256StarStar(seed: 3)
        let initial = randomBuffer(layout.totalCount, rng: &rng)
        let gradients = (0..<4).map { _ in randomBuffer(layout.totalCount, rng: &rng) }
        for g in gradients { for view in layout.views { for i in (view.offset + view.count)..<(view.offset + (view.count + 15) / 16 * 16) { g.pointer[i] = 0 } } }
        let original = SharedParameters(layout: layout, initialParameters: initial, optimizer: Adam(parameterCount: layout.totalCount, learningRate: 0.05))
        original.apply(gradients: gradients[0], maxGradientNorm: nil)
        original.apply(gradients: gradients[1], maxGradientNorm: nil)
        let files = original.checkpointBytes()
        try Data(files.model).write(to: modelURL)
        try Data(files.optimizer).write(to: optimizerURL)
        let optimizerFile = try SafeTensors.read(from: optimizerURL)
        #expect(Set(optimizerFile.tensors.map(\.name)) == ["adam.m.w", "adam.m.b", "adam.v.w", "adam.v.b"])
        #expect(optimizerFile.metadata["adam.step"] == "2")

        let resumed = SharedParameters(layout: layout, initialParameters: FloatBuffer(count: layout.totalCount),
                                       optimizer: Adam(parameterCount: layout.totalCount, learningRate: 0.05))
        try resumed.loadCheckpoint(parametersFrom: modelURL, optimizerStateFrom: optimizerURL)
        #expect(resumed.updateCount == 2)
        for shared in [original, resumed] {
            shared.apply(gradients: gradients[2], maxGradientNorm: nil)
            shared.apply(gradients: gradients[3], maxGradientNorm: nil)
        }
        let a = FloatBuffer(count: layout.totalCount), b = FloatBuffer(count: layout.totalCount)
        original.copyParameters(into: a); resumed.copyParameters(into: b)
        #expect(layout.tensors(from: a) == layout.tensors(from: b)) // padding aside, bit-identical
        // RMSProp state cannot be loaded into Adam.
        let rmsShared = SharedParameters(layout: layout, initialParameters: initial, optimizer: RMSProp(parameterCount: layout.totalCount))
        #expect(throws: SafeTensorsError.self) { try rmsShared.loadCheckpoint(parametersFrom: modelURL, optimizerStateFrom: optimizerURL) }
    }

    @Test("bad files are refused with a SafeTensorsError saying what is wrong")
    func badFiles() throws {
        let good = SafeTensors.encode(tensors: [NamedTensor(name: "a", shape: [2, 2], values: [1, 2, 3, 4]),
                                                NamedTensor(name: "b", shape: [3], values: [5, 6, 7])])
        #expect(try SafeTensors.decode(good)["b"]?.values == [5, 6, 7])
        let four: [UInt8] = Array(repeating: 0, count: 16)
        expectRejected(Array(good.prefix(5)), "shorter than the 8-byte header length")
        expectRejected(Array(good.dropLast(4)), "data section")                       // truncated data
        expectRejected(Array(good.prefix(20)), "exceeds")                               // truncated header
        expectRejected(rawFile(header: "{}", declaredLength: UInt64.max), "exceeds the limit")
        expectRejected(rawFile(header: "{}", declaredLength: 1 << 40), "exceeds the limit")
        expectRejected(rawFile(header: "{}", declaredLength: 50_000_000), "file truncated")
        expectRejected(rawFile(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}", data: four), "not valid JSON")
        expectRejected(rawFile(header: "[1,2]"), "not a JSON object")
        expectRejected(rawFile(header: "{\"a\":{\"dtype\":\"F16\",\"shape\":[8],\"data_offsets\":[0,16]}}", data: four), "dtype F16")
        expectRejected(rawFile(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", data: four), "needs 12")
        expectRejected(rawFile(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,32]}}", data: four), "out of range")
        expectRejected(rawFile(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,4]}}", data: four), "out of range")
        expectRejected(rawFile(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                               data: four), "overlaps")
        expectRejected(rawFile(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data: four), "cover 8 bytes")
        expectRejected(rawFile(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", data: four), "gap")
        expectRejected(rawFile(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", data: four), "non-negative")
        expectRejected(rawFile(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,16]}}", data: four), "more elements")
        expectRejected(rawFile(header: "{\"__metadata__\":{\"k\":1}}"), "not a string")
        expectRejected(rawFile(header: "{\"a\":{\"shape\":[4],\"data_offsets\":[0,16]}}", data: four), "no dtype")
        expectRejected(rawFile(header: String(repeating: "[", count: 100)), "not valid JSON")
        expectRejected(rawFile(header: "[1, 2]"), "not a JSON object")
        expectRejected(rawFile(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,16]}}", data: four), "non-negative integers")
        var corrupted = good
        corrupted[corrupted.count - 1] ^= 0x01
        expectRejected(corrupted, "CRC-32")
        // Loading checks shapes against the model.
        let layout = ParameterLayout(tensors: [("a", [4]), ("b", [3])])
        #expect(throws: SafeTensorsError.self) { try layout.load(try SafeTensors.decode(good).tensors, into: FloatBuffer(count: layout.totalCount)) }
        let missing = SafeTensors.encode(tensors: [NamedTensor(name: "a", shape: [4], values: [1, 2, 3, 4])])
        #expect(throws: SafeTensorsError.self) { try layout.load(try SafeTensors.decode(missing).tensors, into: FloatBuffer(count: layout.totalCount)) }
    }

    @Test("fuzz: 4000 mutated checkpoint files either load or throw, never crash")
    func fuzzMutatedFiles() {
        let layout = ParameterLayout(tensors: [("conv.weight", [2, 1, 3, 3]), ("conv.bias", [2]), ("fc.weight", [4, 8]), ("fc.bias", [4])])
        var rng = Xoshiro256StarStar(seed: 1234)
        let parameters = randomBuffer(layout.totalCount, rng: &rng)
        let base = SafeTensors.encode(tensors: layout.tensors(from: parameters), metadata: ["format": "pt"])
        let headerEnd = 8 + Int(base[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let jsonAlphabet = Array("{}[]\":,0123456789-+eE. aFU3216_metadata_offsetsdtypeshape\\".utf8)
        var loaded = 0, refused = 0
        for iteration in 0..<4000 {
            var bytes = base
            switch iteration % 6 {
            case 0: // bit flips anywhere
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let i = Int(rng.next() % UInt64(bytes.count))
                    bytes[i] ^= UInt8(1) << UInt8(rng.next() % 8)
                }
            case 1: // truncation
                bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
            case 2: // header byte replaced by a JSON-ish character
                for _ in 0..<(1 + Int(rng.next() % 3)) {
                    bytes[8 + Int(rng.next() % UInt64(headerEnd - 8))] = jsonAlphabet[Int(rng.next() % UInt64(jsonAlphabet.count))]
                }
            case 3: // header length field rewritten
                let value = rng.next() >> (rng.next() % 64)
                for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            case 4: // bytes inserted or deleted inside the header, length field kept consistent or not
                let i = 8 + Int(rng.next() % UInt64(headerEnd - 8))
                if rng.next() % 2 == 0 { bytes.insert(jsonAlphabet[Int(rng.next() % UInt64(jsonAlphabet.count))], at: i) } else { bytes.remove(at: i) }
                if rng.next() % 2 == 0 {
                    let length = UInt64(headerEnd - 8 + (bytes.count - base.count))
                    for k in 0..<8 { bytes[k] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(k))) }
                }
            default: // a digit of a number in the header changed (shapes, offsets)
                let digits = (8..<headerEnd).filter { bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }
                bytes[digits[Int(rng.next() % UInt64(digits.count))]] = UInt8(0x30 + rng.next() % 10)
            }
            do {
                let file = try SafeTensors.decode(bytes)
                try layout.load(file.tensors, into: FloatBuffer(count: layout.totalCount))
                loaded += 1
            } catch is SafeTensorsError {
                refused += 1
            } catch {
                Issue.record("unexpected error type \(error)")
            }
        }
        print("fuzz: \(loaded) mutated files loaded, \(refused) refused")
        #expect(loaded + refused == 4000 && refused > 3000)
    }
}

/// GIF's variable-length-code LZW (GIF89a specification, section 22 and appendix F;
/// https://www.w3.org/Graphics/GIF/spec-gif89a.txt).
///
/// With a minimum code size `m` (8 for a 256-colour table): codes 0 ..< 2^m are the pixel
/// values, `clear = 2^m`, `end = 2^m + 1`, and new strings get codes from `2^m + 2` up. Codes are
/// packed least-significant-bit first, starting at m + 1 bits; the width grows by one bit as soon
/// as the next code to be assigned no longer fits, up to 12 bits (4096 codes). When the table is
/// full the encoder sends `clear` and starts over, as giflib does (it clears once code 4095
/// would be assigned, so codes stay below 4095 and every decoder agrees on the widths).
///
/// The decoder adds each table entry one code later than the encoder, so the encoder widens
/// when the code it is about to assign reaches 2^width, which is exactly when the decoder,
/// one step behind, will read the next code with the wider width.
final class _LZWEncoder {
    let minimumCodeSize: Int
    private let clearCode: Int
    private let endCode: Int
    /// Codes below this never get assigned; giflib's LZ_MAX_CODE.
    private static let maximumCode = 4095

    // Open-addressing hash table from (prefix code, next index) to the string's code.
    // 8192 slots for at most ~3840 live entries keeps probes short and clearing cheap (32 KiB).
    private static let tableSize = 8192
    private var keys: [Int32]
    private var codes: [UInt16]

    // Bit packer state.
    private var bitBuffer: UInt64 = 0
    private var bitCount = 0

    init(minimumCodeSize: Int) {
        precondition((2 ... 8).contains(minimumCodeSize), "GIF LZW minimum code size must be 2...8")
        self.minimumCodeSize = minimumCodeSize
        clearCode = 1 << minimumCodeSize
        endCode = clearCode + 1
        keys = [Int32](repeating: -1, count: _LZWEncoder.tableSize)
        codes = [UInt16](repeating: 0, count: _LZWEncoder.tableSize)
    }

    /// LZW-compresses `indices` (each < 2^minimumCodeSize) into `output` as the packed code
    /// stream (without the code-size byte and without sub-block framing).
    func encode(_ indices: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        bitBuffer = 0
        bitCount = 0
        var codeWidth = minimumCodeSize + 1
        var nextCode = endCode + 1
        resetTable()
        emit(clearCode, width: codeWidth, into: &output)
        guard let first = indices.first else {
            emit(endCode, width: codeWidth, into: &output)
            flushBits(into: &output)
            return
        }
        precondition(Int(first) < clearCode, "pixel index \(first) does not fit \(minimumCodeSize)-bit codes")
        var prefix = Int(first)
        keys.withUnsafeMutableBufferPointer { keys in
            codes.withUnsafeMutableBufferPointer { codes in
                let mask = _LZWEncoder.tableSize - 1
                for position in 1 ..< indices.count {
                    let index = Int(indices[position])
                    precondition(index < clearCode, "pixel index \(index) does not fit \(minimumCodeSize)-bit codes")
                    let key = Int32(prefix << 8 | index)
                    var slot = Int((UInt32(bitPattern: key) &* 2_654_435_761) >> 19) & mask
                    var found = -1
                    while keys[slot] >= 0 {
                        if keys[slot] == key {
                            found = Int(codes[slot])
                            break
                        }
                        slot = (slot + 1) & mask
                    }
                    if found >= 0 {
                        prefix = found
                        continue
                    }
                    emit(prefix, width: codeWidth, into: &output)
                    if nextCode >= _LZWEncoder.maximumCode {
                        emit(clearCode, width: codeWidth, into: &output)
                        for i in keys.indices { keys[i] = -1 }
                        codeWidth = minimumCodeSize + 1
                        nextCode = endCode + 1
                    } else {
                        // The decoder will read the next code after adding `nextCode`.
                        if nextCode >= 1 << codeWidth { codeWidth += 1 }
                        keys[slot] = key
                        codes[slot] = UInt16(nextCode)
                        nextCode += 1
                    }
                    prefix = index
                }
            }
        }
        emit(prefix, width: codeWidth, into: &output)
        // The decoder adds one more entry after reading that last code; the end code must use
        // the width the decoder then expects.
        if nextCode >= 1 << codeWidth && codeWidth < 12 { codeWidth += 1 }
        emit(endCode, width: codeWidth, into: &output)
        flushBits(into: &output)
    }

    private func resetTable() {
        keys.withUnsafeMutableBufferPointer { keys in
            for i in keys.indices { keys[i] = -1 }
        }
    }

    @inline(__always)
    private func emit(_ code: Int, width: Int, into output: inout [UInt8]) {
        bitBuffer |= UInt64(code) << UInt64(bitCount)
        bitCount += width
        while bitCount >= 8 {
            output.append(UInt8(truncatingIfNeeded: bitBuffer))
            bitBuffer >>= 8
            bitCount -= 8
        }
    }

    private func flushBits(into output: inout [UInt8]) {
        if bitCount > 0 {
            output.append(UInt8(truncatingIfNeeded: bitBuffer))
        }
        bitBuffer = 0
        bitCount = 0
    }
}

/// Why GIF data could not be decoded.
struct _GIFDecodingError: Error, CustomStringConvertible {
    let description: String
}

/// The inverse of `_LZWEncoder`, written from the specification (not from the encoder) so that
/// round-trip tests check the encoder against an independent reading of the format.
enum _LZWDecoder {
    /// What a decode saw, for tests that must prove a path was exercised.
    struct Statistics {
        /// Clear codes in the stream, the leading one included.
        var clearCodes = 0
        /// Widest code read, in bits.
        var widestCode = 0
    }

    /// Decodes a packed code stream into exactly `pixelCount` indices.
    static func decode(_ data: [UInt8], minimumCodeSize: Int, pixelCount: Int) throws -> [UInt8] {
        var statistics = Statistics()
        return try decode(data, minimumCodeSize: minimumCodeSize, pixelCount: pixelCount, statistics: &statistics)
    }

    static func decode(_ data: [UInt8], minimumCodeSize: Int, pixelCount: Int,
                       statistics: inout Statistics) throws -> [UInt8] {
        guard (2 ... 8).contains(minimumCodeSize) else {
            throw _GIFDecodingError(description: "LZW minimum code size \(minimumCodeSize) outside 2...8")
        }
        let clearCode = 1 << minimumCodeSize
        let endCode = clearCode + 1
        // Each table entry is (prefix code, last byte, length); strings are rebuilt backwards.
        var prefixes = [Int](repeating: -1, count: 4096)
        var suffixes = [UInt8](repeating: 0, count: 4096)
        var lengths = [Int](repeating: 0, count: 4096)
        for code in 0 ..< clearCode {
            suffixes[code] = UInt8(code)
            lengths[code] = 1
        }
        var codeWidth = minimumCodeSize + 1
        var nextCode = endCode + 1
        var previous = -1
        var output: [UInt8] = []
        output.reserveCapacity(pixelCount)

        var bitPosition = 0
        func readCode() -> Int? {
            guard bitPosition + codeWidth <= data.count * 8 else { return nil }
            var code = 0
            for bit in 0 ..< codeWidth {
                let position = bitPosition + bit
                if data[position >> 3] & (1 << (position & 7)) != 0 { code |= 1 << bit }
            }
            bitPosition += codeWidth
            statistics.widestCode = max(statistics.widestCode, codeWidth)
            return code
        }

        func firstByte(of code: Int) -> UInt8 {
            var code = code
            while prefixes[code] >= 0 { code = prefixes[code] }
            return suffixes[code]
        }

        func append(string code: Int) {
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: lengths[code]))
            var code = code
            var position = start + lengths[code] - 1
            while code >= 0 {
                output[position] = suffixes[code]
                position -= 1
                code = prefixes[code]
            }
        }

        while true {
            guard let code = readCode() else {
                throw _GIFDecodingError(description: "LZW data ends without an end code after \(output.count) pixels")
            }
            if code == clearCode {
                statistics.clearCodes += 1
                codeWidth = minimumCodeSize + 1
                nextCode = endCode + 1
                previous = -1
                continue
            }
            if code == endCode { break }
            if previous < 0 {
                guard code < clearCode else {
                    throw _GIFDecodingError(description: "first code after clear is \(code), not a pixel value")
                }
                append(string: code)
                previous = code
                continue
            }
            guard code <= nextCode, code != clearCode, code != endCode else {
                throw _GIFDecodingError(description: "code \(code) not yet defined (next is \(nextCode))")
            }
            // code == nextCode is the KwKwK case: the string is previous + first byte of previous.
            let first = code == nextCode ? firstByte(of: previous) : firstByte(of: code)
            if nextCode < 4096 {
                prefixes[nextCode] = previous
                suffixes[nextCode] = first
                lengths[nextCode] = lengths[previous] + 1
                nextCode += 1
                if nextCode == 1 << codeWidth && codeWidth < 12 { codeWidth += 1 }
            }
            append(string: code)
            previous = code
        }
        guard output.count == pixelCount else {
            throw _GIFDecodingError(description: "LZW data decodes to \(output.count) pixels, expected \(pixelCount)")
        }
        return output
    }
}

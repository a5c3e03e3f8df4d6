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

import Foundation

/// The maps of a Doom WAD file, read from its directory: to check a scenario's `doom_map` before an
/// engine starts (an engine given a map it cannot find fails with a message that names neither the
/// map nor the file).
///
/// Format (the Doom wiki, "WAD"): a 12-byte header, `IWAD` or `PWAD`, the lump count and the
/// directory's offset as little-endian Int32; the directory holds 16 bytes a lump: offset, size and
/// an 8-byte name padded with NULs. A map is a marker lump named `MAPxx` (Doom II) or `ExMy` (Doom).
public enum WADDirectory {
    /// The names of the maps in the WAD at `url`, upper-case, in file order.
    /// Throws `ViZDoomError.invalidArgument` naming the file if it is not a WAD.
    public static func mapNames(of url: URL) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ViZDoomError.fileNotFound(path: url.path) }
        let bytes = [UInt8](data)
        func notAWAD(_ why: String) -> ViZDoomError {
            .invalidArgument(message: "\(url.path) is not a Doom WAD file (\(why)); doom_scenario_path must name a .wad")
        }
        func int32(at offset: Int) -> Int {
            Int(Int32(bitPattern: UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                                  | UInt32(bytes[offset + 3]) << 24))
        }
        guard bytes.count >= 12 else { throw notAWAD("\(bytes.count) bytes, shorter than a header") }
        let magic = String(decoding: bytes[0..<4], as: UTF8.self)
        guard magic == "IWAD" || magic == "PWAD" else { throw notAWAD("it starts with '\(magic)', not IWAD or PWAD") }
        let count = int32(at: 4), directory = int32(at: 8)
        guard count >= 0, directory >= 12, directory <= bytes.count, count <= (bytes.count - directory) / 16 else {
            throw notAWAD("its directory of \(count) lumps at byte \(directory) lies outside the file's \(bytes.count) bytes")
        }
        return (0..<count).compactMap { lump in
            let start = directory + 16 * lump + 8
            let name = String(decoding: bytes[start..<(start + 8)].prefix { $0 != 0 }, as: UTF8.self).uppercased()
            return isMapName(name) ? name : nil
        }
    }

    /// `MAP01`...`MAP99` or `E1M1`...`E9M9`.
    static func isMapName(_ name: String) -> Bool {
        let characters = Array(name)
        if characters.count == 5, name.hasPrefix("MAP") { return characters[3].isNumber && characters[4].isNumber }
        return characters.count == 4 && characters[0] == "E" && characters[1].isNumber && characters[2] == "M"
            && characters[3].isNumber
    }
}

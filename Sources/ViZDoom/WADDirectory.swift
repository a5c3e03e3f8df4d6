import Foundation

/// The maps of a Doom WAD file, read from its directory: to check a scenario's `doom_map` before an
/// engine starts (an engine given a map it cannot find fails with a message that names neither the
/// map nor the file).
///
/// Format (the Doom wiki, "WAD"): a 12-byte header, `IWAD` or `PWAD`, the lump count and the
/// directory's offset as little-endian Int32; the directory holds 16 bytes a lump: offset, size and
/// an 8-byte name padded with NULs. A map is a marker lump named `MAPxx` (Doom II) or `ExMy` (Doom).
///
/// Only the 12-byte header and the directory (16 bytes a lump) are read, never the lumps: every engine
/// start checks its scenario this way, and the IWAD (freedoom2.wad) is tens of MB.
public enum WADDirectory {
    /// Which WAD is being read: it decides the fix an error message gives.
    enum Role {
        /// A scenario's .wad, named by the .cfg's `doom_scenario_path`.
        case scenario
        /// The installation's IWAD (`ViZDoomInstallation.iwad`, freedoom2.wad).
        case iwad

        /// The fix for a file that is not a WAD.
        var notAWADFix: String {
            switch self {
            case .scenario: return "doom_scenario_path must name a .wad"
            case .iwad: return "it is the ViZDoom installation's IWAD: run scripts/bootstrap (or `make setup`) to reinstall it"
            }
        }

        /// The fix for a file that cannot be opened or read.
        var unreadableFix: String {
            switch self {
            case .scenario: return "check that it is a file you may read, or point doom_scenario_path at a readable .wad"
            case .iwad: return "check that it is a file you may read, or run scripts/bootstrap (or `make setup`) to reinstall the IWAD"
            }
        }
    }

    /// The names of the maps in the WAD at `url`, upper-case, in file order.
    /// Throws `ViZDoomError.fileNotFound` if there is no such file, and `ViZDoomError.invalidArgument`
    /// naming the file if it cannot be read or is not a WAD.
    public static func mapNames(of url: URL) throws -> [String] {
        try mapNames(of: url, role: .scenario)
    }

    /// `mapNames(of:)`, with error messages whose fix suits `role`.
    static func mapNames(of url: URL, role: Role) throws -> [String] {
        let path = url.path
        func notAWAD(_ why: String) -> ViZDoomError {
            .invalidArgument(message: "\(path) is not a Doom WAD file (\(why)); \(role.notAWADFix)")
        }
        func unreadable(_ error: Error) -> ViZDoomError {
            .invalidArgument(message: "cannot read the WAD file \(path) (\(error.localizedDescription)); \(role.unreadableFix)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ViZDoomError.fileNotFound(path: path) }
        guard !isDirectory.boolValue else { throw notAWAD("it is a folder") }
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch { throw unreadable(error) }
        defer { try? handle.close() }
        /// Up to `count` bytes from `offset` (fewer only at the end of the file).
        func readBytes(at offset: Int, count: Int) throws -> [UInt8] {
            do {
                try handle.seek(toOffset: UInt64(offset))
                var bytes: [UInt8] = []
                bytes.reserveCapacity(count)
                while bytes.count < count {
                    guard let chunk = try handle.read(upToCount: count - bytes.count), !chunk.isEmpty else { break }
                    bytes.append(contentsOf: chunk)
                }
                return bytes
            } catch {
                throw unreadable(error)
            }
        }
        let fileSize: Int
        do {
            let end = try handle.seekToEnd()
            fileSize = Int(clamping: end)
        } catch {
            throw unreadable(error)
        }
        let header = try readBytes(at: 0, count: 12)
        guard header.count == 12 else { throw notAWAD("\(header.count) bytes, shorter than a header") }
        let magic = String(decoding: header[0..<4], as: UTF8.self)
        guard magic == "IWAD" || magic == "PWAD" else { throw notAWAD("it starts with '\(magic)', not IWAD or PWAD") }
        let count = int32(header, at: 4), directory = int32(header, at: 8)
        // Checked against the file's size before anything is allocated: a corrupt count cannot ask for gigabytes.
        guard count >= 0, directory >= 12, directory <= fileSize, count <= (fileSize - directory) / 16 else {
            throw notAWAD("its directory of \(count) lumps at byte \(directory) lies outside the file's \(fileSize) bytes")
        }
        let entries = try readBytes(at: directory, count: 16 * count)
        guard entries.count == 16 * count else {
            throw notAWAD("the file ended \(entries.count) bytes into its directory of \(count) lumps at byte \(directory)")
        }
        return (0..<count).compactMap { lump in
            let start = 16 * lump + 8
            let name = String(decoding: entries[start..<(start + 8)].prefix { $0 != 0 }, as: UTF8.self).uppercased()
            return isMapName(name) ? name : nil
        }
    }

    /// The little-endian Int32 at `offset` of `bytes`.
    private static func int32(_ bytes: [UInt8], at offset: Int) -> Int {
        Int(Int32(bitPattern: UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                              | UInt32(bytes[offset + 3]) << 24))
    }

    /// `MAP01`...`MAP99` or `E1M1`...`E9M9`.
    static func isMapName(_ name: String) -> Bool {
        let characters = Array(name)
        if characters.count == 5, name.hasPrefix("MAP") { return characters[3].isNumber && characters[4].isNumber }
        return characters.count == 4 && characters[0] == "E" && characters[1].isNumber && characters[2] == "M"
            && characters[3].isNumber
    }
}

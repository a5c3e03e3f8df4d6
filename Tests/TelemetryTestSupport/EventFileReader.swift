import Foundation
import Telemetry

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads TensorBoard event files back, for tests (of Telemetry and of the trainer).
///
/// Every record's framing and both CRCs are verified; a file that ends inside a record, or
/// whose bytes do not match their CRCs, throws (`TelemetryError.truncatedRecord`,
/// `.corruptRecord`) instead of returning a silently shortened history.
public enum EventFileReader {
    /// All events of the file at `url`, in file order (the first is the file-version event).
    public static func events(at url: URL) throws -> [TensorBoardEvent] {
        let path = url.absoluteURL.path
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: url)) } catch {
            throw TelemetryError.io(operation: "read", path: path, errno: EIO)
        }
        return try TFRecord.records(in: bytes, path: path).map { record in
            do {
                return try TensorBoardEvent(serialized: record.data)
            } catch {
                throw TelemetryError.malformedEvent(path: path, offset: record.offset, reason: "\(error)")
            }
        }
    }

    /// The points `(step, value)` of scalar chart `tag` in the file at `url`, in file order.
    public static func scalars(tag: String, at url: URL) throws -> [(step: Int64, value: Float)] {
        try events(at: url).flatMap { event in
            event.scalars.filter { $0.tag == tag }.map { (event.step, $0.value) }
        }
    }

    /// The event files (names containing "tfevents", as TensorBoard selects them) directly in
    /// `directory`, sorted by name, so by creation second.
    public static func eventFiles(in directory: URL) throws -> [URL] {
        let path = directory.absoluteURL.path
        guard let stream = opendir(path) else {
            throw TelemetryError.io(operation: "list directory", path: path, errno: errno)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            names.append(name)
        }
        return names.filter { $0.contains("tfevents") && !$0.hasPrefix(".") }.sorted()
            .map { directory.appendingPathComponent($0) }
    }
}

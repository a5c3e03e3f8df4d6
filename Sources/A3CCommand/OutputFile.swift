import ArgumentParser
import Foundation

/// Checks, before any work, that the folder an output option writes into exists, so that a typo
/// fails at once rather than after minutes of playing or drawing.
/// - option: the option's name as the user typed it (`--gif`); what: the thing written ("the GIF").
func requireOutputFolder(of path: String, option: String, what: String) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ValidationError("the folder of \(option), \(folder), does not exist: create it first, or write \(what) elsewhere")
    }
}

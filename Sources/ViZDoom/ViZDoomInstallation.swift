import Foundation
import _ViZDoomShim

/// Where the engine, its assets and the launcher are: the folder `scripts/bootstrap` fills.
///
/// The location is fixed when the package is built (`.deps/vizdoom` in the package folder), so
/// no environment variable is needed. `A3C_VIZDOOM_HOME` overrides it for relocated installs.
///
///     <home>/vizdoom/vizdoom            the engine executable
///     <home>/vizdoom/freedoom2.wad      the IWAD
///     <home>/vizdoom/vizdoom.pk3        the engine's resources
///     <home>/vizdoom/scenarios/         every scenario shipped with ViZDoom 1.3.2
///     <home>/bin/a3c-engine-launcher    ties each engine's life to its owner (native/engine-launcher.c)
public struct ViZDoomInstallation: Sendable, Equatable {
    public let home: URL

    public init(home: URL) { self.home = home }

    /// The installation this package was built against, or the one named by `A3C_VIZDOOM_HOME`.
    public static var `default`: ViZDoomInstallation {
        if let override = ProcessInfo.processInfo.environment["A3C_VIZDOOM_HOME"], !override.isEmpty {
            return ViZDoomInstallation(home: URL(fileURLWithPath: override))
        }
        return ViZDoomInstallation(home: URL(fileURLWithPath: String(cString: vzd_default_home())))
    }

    public var engine: URL { home.appendingPathComponent("vizdoom/vizdoom") }
    public var launcher: URL { home.appendingPathComponent("bin/a3c-engine-launcher") }
    public var iwad: URL { home.appendingPathComponent("vizdoom/freedoom2.wad") }
    public var resources: URL { home.appendingPathComponent("vizdoom/vizdoom.pk3") }
    public var scenariosDirectory: URL { home.appendingPathComponent("vizdoom/scenarios") }

    /// Throws `.notInstalled` naming the first missing file.
    public func validate() throws {
        let fileManager = FileManager.default
        for file in [engine, launcher, iwad, resources] where !fileManager.isExecutableFile(atPath: file.path) && !fileManager.fileExists(atPath: file.path) {
            throw ViZDoomError.notInstalled(missing: file.path)
        }
        for executable in [engine, launcher] where !fileManager.isExecutableFile(atPath: executable.path) {
            throw ViZDoomError.notInstalled(missing: executable.path + " (as an executable)")
        }
        var isDirectory: ObjCBool = false
        if !fileManager.fileExists(atPath: scenariosDirectory.path, isDirectory: &isDirectory) || !isDirectory.boolValue {
            throw ViZDoomError.notInstalled(missing: scenariosDirectory.path)
        }
    }
}

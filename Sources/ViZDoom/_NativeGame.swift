import _ViZDoomShim

/// Owns one `VZDGame` from the shim and turns its statuses into `ViZDoomError`s.
///
/// The error record is allocated once, so that stepping allocates nothing on the Swift side.
final class _NativeGame {
    let handle: OpaquePointer
    private let error: UnsafeMutablePointer<VZDError>

    init() throws {
        guard let handle = vzd_create() else { throw ViZDoomError.engine(message: "out of memory creating a game") }
        self.handle = handle
        error = .allocate(capacity: 1)
        error.initialize(to: VZDError())
    }

    deinit {
        vzd_destroy(handle)
        error.deallocate()
    }

    /// Runs one shim call; a non-OK status becomes the matching Swift error with the engine's message.
    @inline(__always)
    func check(_ body: (OpaquePointer, UnsafeMutablePointer<VZDError>) -> VZDStatus) throws {
        let status = body(handle, error)
        if status != VZD_OK { throw currentError(status) }
    }

    private func currentError(_ status: VZDStatus) -> ViZDoomError {
        let message = withUnsafeBytes(of: &error.pointee.message) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        switch status {
        case VZD_ERROR_FILE_NOT_FOUND: return .fileNotFound(path: message)
        case VZD_ERROR_ENGINE_EXITED: return .engineExited(message: message)
        case VZD_ERROR_NOT_RUNNING: return .closed
        case VZD_ERROR_IPC: return .communication(message: message)
        case VZD_ERROR_INVALID_ARGUMENT: return .invalidArgument(message: message)
        default: return .engine(message: message)
        }
    }

    func set(_ setting: VZDBoolSetting, _ value: Bool) throws {
        try check { vzd_set_bool($0, setting, value ? 1 : 0, $1) }
    }

    func set(_ setting: VZDIntSetting, _ value: Int64) throws {
        try check { vzd_set_int($0, setting, value, $1) }
    }

    func int(_ setting: VZDIntSetting) throws -> Int64 {
        var value: Int64 = 0
        try check { vzd_get_int($0, setting, &value, $1) }
        return value
    }

    func set(_ setting: VZDDoubleSetting, _ value: Double) throws {
        try check { vzd_set_double($0, setting, value, $1) }
    }

    func double(_ setting: VZDDoubleSetting) throws -> Double {
        var value = 0.0
        try check { vzd_get_double($0, setting, &value, $1) }
        return value
    }

    func set(_ setting: VZDStringSetting, _ value: String) throws {
        try check { vzd_set_string($0, setting, value, $1) }
    }

    func loadConfig(_ path: String) throws {
        try check { vzd_load_config($0, path, $1) }
    }

    func buttons() throws -> [Button] {
        var codes = [Int32](repeating: 0, count: 64)
        var count = 0
        try check { vzd_get_buttons($0, &codes, codes.count, &count, $1) }
        return codes.prefix(count).compactMap { Button(code: $0) }
    }

    func gameVariables() throws -> [GameVariable] {
        var codes = [Int32](repeating: 0, count: 256)
        var count = 0
        try check { vzd_get_game_variables($0, &codes, codes.count, &count, $1) }
        return codes.prefix(count).compactMap { GameVariable(code: $0) }
    }

    func setButtons(_ buttons: [Button]) throws {
        try check { vzd_clear_buttons($0, $1) }
        for button in buttons { try check { vzd_add_button($0, button.code, $1) } }
    }

    func setGameVariables(_ variables: [GameVariable]) throws {
        try check { vzd_clear_game_variables($0, $1) }
        for variable in variables { try check { vzd_add_game_variable($0, variable.code, $1) } }
    }
}

import Foundation
import ThreadSafety

/// Streams an animated GIF to a file, one frame at a time, so that memory stays bounded by one
/// frame however long the episode (each frame is compressed and written as it arrives).
///
/// The frames go to a hidden temporary file beside `url`; `finish()` appends the trailer and
/// renames it into place atomically (`AtomicFile`), so a viewer never opens a half-written GIF
/// and an earlier GIF of the same name is replaced only by a complete one. A writer dropped
/// without `finish()` removes its temporary file.
///
/// ```swift
/// let gif = try GIFWriter(url: runDirectory.appendingPathComponent("episode-000120.gif"),
///                         width: 84, height: 84, framesPerSecond: 9, scale: 2)
/// for frame in episodeFrames { try gif.append(frame: frame) }   // 84 * 84 GRAY8 bytes each
/// try gif.finish()
/// ```
///
/// Thread-safe (one lock), although one episode's frames normally come from one worker.
public final class GIFWriter: Sendable {
    /// The final path of the GIF.
    public let url: URL

    private struct State {
        var encoder: GIFEncoder
        var staging: _StagedFile?
        var frameCount = 0
    }

    private let state: LockedValue<State>

    /// Starts a GIF at `url` (its directory must exist); see `GIFEncoder.init` for the
    /// parameters.
    /// - Throws: `TelemetryError.io` if the temporary file cannot be created or written.
    public init(url: URL, width: Int, height: Int, pixelFormat: GIFEncoder.PixelFormat = .gray8,
                framesPerSecond: Double, scale: Int = 1, loopCount: Int = 0) throws {
        self.url = url.absoluteURL
        let encoder = GIFEncoder(width: width, height: height, pixelFormat: pixelFormat,
                                 framesPerSecond: framesPerSecond, scale: scale, loopCount: loopCount)
        let staging = try _StagedFile(destination: self.url)
        try staging.file.write(encoder.header())
        state = LockedValue(State(encoder: encoder, staging: staging))
    }

    /// Number of frames appended so far.
    public var frameCount: Int {
        state.withLockedValue { $0.frameCount }
    }

    /// Compresses and writes one frame (`width * height * bytesPerPixel` bytes, row-major).
    public func append(frame: UnsafeBufferPointer<UInt8>) throws {
        try state.withLockedValue { state in
            guard let staging = state.staging else { throw TelemetryError.writerClosed(path: url.path) }
            try staging.file.write(state.encoder.encodeFrame(frame))
            state.frameCount += 1
        }
    }

    public func append(frame: [UInt8]) throws {
        try frame.withUnsafeBufferPointer { try append(frame: $0) }
    }

    /// Writes the trailer and moves the GIF into place.
    /// - Throws: `TelemetryError.emptyAnimation` if no frame was appended (a GIF needs at least
    ///   one image); `TelemetryError.io` on a write or rename failure. Either way the temporary
    ///   file is removed.
    public func finish() throws {
        try state.withLockedValue { state in
            guard let staging = state.staging else { throw TelemetryError.writerClosed(path: url.path) }
            state.staging = nil
            do {
                guard state.frameCount > 0 else { throw TelemetryError.emptyAnimation(path: url.path) }
                try staging.file.write(GIFEncoder.trailer)
                try staging.commit()
            } catch {
                staging.discard()
                throw error
            }
        }
    }

    /// Abandons the GIF: removes the temporary file; `url` is left as it was.
    public func cancel() {
        state.withLockedValue { state in
            state.staging?.discard()
            state.staging = nil
        }
    }

    /// Writes `frames` as one GIF at `url`, atomically.
    public static func write(frames: [[UInt8]], to url: URL, width: Int, height: Int,
                             pixelFormat: GIFEncoder.PixelFormat = .gray8, framesPerSecond: Double,
                             scale: Int = 1, loopCount: Int = 0) throws {
        let writer = try GIFWriter(url: url, width: width, height: height, pixelFormat: pixelFormat,
                                   framesPerSecond: framesPerSecond, scale: scale, loopCount: loopCount)
        do {
            for frame in frames {
                try writer.append(frame: frame)
            }
            try writer.finish()
        } catch {
            writer.cancel()
            throw error
        }
    }
}

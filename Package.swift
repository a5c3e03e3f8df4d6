// swift-tools-version:6.0
//
// swift-a3c: A3C agents that learn ViZDoom from pixels on a multi-core CPU.
//
// Modules, bottom up (one job each):
//   ThreadSafety  the one locked-value type and the stop flag every module shares
//   _ViZDoomShim  C API over the ViZDoom C++ client library (built by scripts/bootstrap into .deps/)
//   ViZDoom       typed Swift API: DoomGame, scenarios, buttons, frame preprocessing
//   _CBLAS        system library: Debian's OpenBLAS (cblas.h)
//   _NeuralKernels  C kernels: matrix products through Debian's oneDNN (dnnl_sgemm); element-wise loops
//                   (optimizers, activations, LSTM cell, sums), the acting step's direct convolution and
//                   few-rows dense product, and the convolutions' weight gradients, each with
//                   AVX-512/AVX2/scalar variants (levels picked at run time); im2col/col2im
//   NeuralCore    layers, the conv-LSTM actor-critic, optimizers, safetensors checkpoints
//   Telemetry     TensorBoard event files, animated GIFs, CSV, SVG line charts
//   _COpenMPI     system library: Debian's Open MPI (mpi.h, libmpi), through pkg-config's ompi-c
//   _MPIShim      C API over mpi.h (its handles are macros Swift cannot import)
//   MessagePassing  MPIWorld: ranks, byte and Float messages, probes, barrier, abort
//   Training      the trainer: workers and their engines, rollouts, A3C/A2C/PPO rounds and the APPO
//                 learner, checkpoints, run directories and outputs
//   A3CCommand    the `a3c` command-line tool
import PackageDescription

/// Where scripts/bootstrap puts the engine, the assets and the compiled client library.
/// Absolute, so that every binary of the package finds them with no environment variable.
let vizdoomHome = Context.packageDirectory + "/.deps/vizdoom"

let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "swift-a3c",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "a3c", targets: ["A3CCommand"]),
        .library(name: "ViZDoom", targets: ["ViZDoom"]),
        .library(name: "NeuralCore", targets: ["NeuralCore"]),
        .library(name: "Algorithms", targets: ["Algorithms"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "_ViZDoomShim",
            cxxSettings: [
                .define("A3C_VIZDOOM_HOME", to: "\"\(vizdoomHome)\""),
                .unsafeFlags(["-I", vizdoomHome + "/include", "-std=c++17"]),
            ],
            linkerSettings: [
                .unsafeFlags(["-L", vizdoomHome + "/lib"]),
                .linkedLibrary("vizdoom_client"),
                .linkedLibrary("boost_filesystem"),
                .linkedLibrary("boost_thread"),
                .linkedLibrary("boost_system"),
                .linkedLibrary("boost_chrono"),
                .linkedLibrary("pthread"),
            ]
        ),
        .target(name: "ThreadSafety", swiftSettings: v5),
        .target(name: "ViZDoom", dependencies: ["_ViZDoomShim", "ThreadSafety"], swiftSettings: v5),
        .systemLibrary(name: "_CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // Optimized in debug builds too (the tests train through it, like NeuralCore below); no FMA
        // contraction, so that its variants give bit-identical results (the few fused multiply-adds
        // are explicit: fmaf and _mm256_fmadd_ps); no errno from sqrtf, so that the scalar loops vectorize.
        // Links Debian's oneDNN (libdnnl-dev, installed by scripts/bootstrap) for the matrix products (GEMM.c).
        .target(name: "_NeuralKernels",
                cSettings: [.unsafeFlags(["-ffp-contract=off", "-fno-math-errno"]),
                            .unsafeFlags(["-O2"], .when(configuration: .debug))],
                linkerSettings: [.linkedLibrary("dnnl")]),
        // Optimized even in debug builds: the tests train real networks (the learning tests would
        // take minutes instead of seconds at -Onone), and this module is exercised, not stepped through.
        .target(name: "NeuralCore", dependencies: ["_CBLAS", "_NeuralKernels", "ThreadSafety"],
                swiftSettings: v5 + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Returns, advantages and losses (A3C, PPO, V-trace); optimized in debug builds like NeuralCore
        // (the tests' training runs go through the losses).
        .target(name: "Algorithms", dependencies: ["NeuralCore"],
                swiftSettings: v5 + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "Telemetry", dependencies: ["ThreadSafety"], swiftSettings: v5),
        .systemLibrary(name: "_COpenMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "_MPIShim", dependencies: ["_COpenMPI"]),
        .target(name: "MessagePassing", dependencies: ["_MPIShim"], swiftSettings: v5),
        .target(name: "Training", dependencies: ["ThreadSafety", "ViZDoom", "NeuralCore", "Algorithms", "Telemetry", "MessagePassing"],
                swiftSettings: v5),
        .executableTarget(
            name: "A3CCommand",
            dependencies: [
                "Training", "ThreadSafety", "ViZDoom", "NeuralCore", "Algorithms", "Telemetry", "MessagePassing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: v5
        ),
        // Helpers for tests that run the `a3c` executable as a child process (not shipped).
        .target(name: "A3CTestSupport", path: "Tests/A3CTestSupport", swiftSettings: v5),
        // Readers of what Telemetry writes (event files, GIFs), for the tests of Telemetry and of the trainer (not shipped).
        .target(name: "TelemetryTestSupport", dependencies: ["Telemetry"], path: "Tests/TelemetryTestSupport", swiftSettings: v5),
        .testTarget(name: "ViZDoomTests", dependencies: ["ViZDoom", "ThreadSafety", "A3CTestSupport"], swiftSettings: v5),
        // Random buffers and the finite-difference gradient checker of the NeuralCore and Algorithms tests (not shipped).
        .target(name: "GradientCheckSupport", dependencies: ["NeuralCore"], path: "Tests/GradientCheckSupport", swiftSettings: v5),
        .testTarget(name: "NeuralCoreTests", dependencies: ["NeuralCore", "_NeuralKernels", "Algorithms", "GradientCheckSupport"],
                    swiftSettings: v5),
        .testTarget(name: "AlgorithmsTests", dependencies: ["Algorithms", "NeuralCore", "GradientCheckSupport"], swiftSettings: v5),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry", "TelemetryTestSupport"], swiftSettings: v5),
        .testTarget(name: "MessagePassingTests", dependencies: ["MessagePassing", "_MPIShim", "A3CTestSupport"], swiftSettings: v5),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "ThreadSafety", "ViZDoom", "NeuralCore", "Algorithms", "Telemetry", "A3CTestSupport",
                                                "TelemetryTestSupport"],
                    swiftSettings: v5),
    ],
    cxxLanguageStandard: .cxx17
)

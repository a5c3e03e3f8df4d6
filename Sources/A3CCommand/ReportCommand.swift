import Training
import ArgumentParser
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Draw the learning curves of one or more runs, overlaid, into one SVG file.",
        discussion: """
            Each run is one coloured line in every panel: the mean raw return of the last 100 episodes \
            against frames and against wall time, and the same for a metric column of episodes.csv \
            (--metric; by default the scenario's main metric when every run logs it). Compare seeds or \
            settings: a3c report runs/basic__a3c__1__* runs/basic__a3c__2__* --output seeds.svg
            """
    )

    @Argument(help: "Run directories written by `a3c train` (each has an episodes.csv).")
    var runs: [String]

    @Option(help: "The SVG file to write.")
    var output = "report.svg"

    @Option(help: "A column of episodes.csv to draw below the return (e.g. kills, success, length); default: the scenario's main metric, if every run logs it.")
    var metric: String?

    @Option(name: .customLong("label"), help: "Legend label of a run; repeat it once per run, in the order of the runs (default: the run directories' names).")
    var labels: [String] = []

    @Option(help: "Title above the charts (default: the run's name, or the number of runs).")
    var title: String?

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one run directory, e.g. a3c report runs/basic__a3c__1__20261125-120000") }
        guard output.lowercased().hasSuffix(".svg") else { throw ValidationError("--output must name a .svg file, got \(output)") }
        try requireOutputFolder(of: output, option: "--output", what: "the report")
        guard labels.isEmpty || labels.count == runs.count else {
            throw ValidationError("--label was given \(labels.count) times for \(runs.count) runs: give one label per run, or none")
        }
        if let metric, metric.isEmpty { throw ValidationError("--metric must name a column of episodes.csv, got an empty name") }
    }

    func run() throws {
        let outputURL = URL(fileURLWithPath: output)
        try LearningCurves.writeReport(runs: runs.map { URL(fileURLWithPath: $0) }, labels: labels.isEmpty ? nil : labels,
                                       metric: metric, title: title, to: outputURL)
        print("wrote \(outputURL.path): \(runs.count) run\(runs.count == 1 ? "" : "s")")
    }
}

import ArgumentParser

@main
struct A3CCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "a3c",
        abstract: "A3C agents that learn ViZDoom from pixels on a multi-core CPU.",
        subcommands: [TrainCommand.self, PlayCommand.self, EvalCommand.self, ReportCommand.self, ChartCommand.self,
                      ScenariosCommand.self, BenchCommand.self,
                      MPICheckCommand.self, HoldGameCommand.self]
    )
}

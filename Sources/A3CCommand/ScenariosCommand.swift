import Training
import ArgumentParser
import Foundation
import ViZDoom

struct ScenariosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "List the built-in ViZDoom scenarios: each preset's actions, metrics and reference score, and the buttons of the others."
    )

    @Argument(help: "Show only this scenario, with every action of its preset.")
    var name: String?

    @Flag(help: "Print the presets as one JSON array (name, summary, actions, reward_scale, frame_skip, episode_timeout, metrics, reference, source, shaping, lr_schedule, envs_per_worker, entropy_coefficient).")
    var json = false

    /// A preset as `--json` prints it.
    struct PresetJSON: Encodable {
        let name: String, summary: String, actions: String, rewardScale: Float, frameSkip: Int
        let episodeTimeout: Int?, metrics: [String], reference: String, source: String, shaping: String?
        let learningRateSchedule: String, envsPerWorker: Int?, entropyCoefficient: Float?
        enum CodingKeys: String, CodingKey {
            case name, summary, actions, metrics, reference, source, shaping
            case rewardScale = "reward_scale", frameSkip = "frame_skip", episodeTimeout = "episode_timeout"
            case learningRateSchedule = "lr_schedule", envsPerWorker = "envs_per_worker", entropyCoefficient = "entropy_coefficient"
        }
        init(_ preset: ScenarioPreset) {
            name = preset.name; summary = preset.summary; actions = preset.actions.description
            rewardScale = preset.rewardScale; frameSkip = preset.frameSkip; episodeTimeout = preset.episodeTimeout
            metrics = preset.metrics.map(\.columnName); reference = preset.reference.score; source = preset.reference.source
            shaping = preset.recommendedShaping?.rawValue
            learningRateSchedule = preset.learningRateSchedule.rawValue
            envsPerWorker = preset.envsPerWorker
            entropyCoefficient = preset.entropyCoefficient
        }
    }

    /// What a scenario without a preset gets.
    static var withoutPresetNote: String {
        "no preset: one action per button, reward scale \(format(ScenarioPreset.rewardScaleWithoutPreset))"
    }

    /// Longer action lists are shown only for a single scenario.
    static let maxListedActions = 12

    func run() throws {
        let catalog = try ScenarioCatalog()
        if json {
            guard let name else { try printJSON(ScenarioPreset.all.map(PresetJSON.init)); return }
            // One scenario: its preset, or what a scenario without one gets (an unknown name throws).
            let scenario = try catalog.scenario(named: name)
            let preset = try ScenarioPreset.named(scenario.name)
                ?? ScenarioPreset.withoutPreset(scenario: scenario.name, buttons: scenario.buttons)
            try printJSON([PresetJSON(preset)])
            return
        }
        if let name {
            let scenario = try catalog.scenario(named: name)
            if let preset = ScenarioPreset.named(scenario.name) {
                print(Self.describe(preset, scenario: scenario, allActions: true))
            } else {
                print("\(scenario.name): \(Self.withoutPresetNote)")
                print(Self.describeWithoutPreset([scenario]))
            }
            return
        }
        let scenarios = try catalog.all()
        print("Scenarios with a preset (`a3c train --scenario NAME` uses it; every value can be overridden):")
        for preset in ScenarioPreset.all {
            guard let scenario = scenarios.first(where: { $0.name == preset.name }) else { continue }
            print("")
            print(Self.describe(preset, scenario: scenario, allActions: false))
        }
        let others = scenarios.filter { ScenarioPreset.named($0.name) == nil }
        guard !others.isEmpty else { return }
        print("")
        print("Other scenarios (\(Self.withoutPresetNote)):")
        print(Self.describeWithoutPreset(others))
    }

    /// One preset as a block of labelled lines.
    static func describe(_ preset: ScenarioPreset, scenario: Scenario, allActions: Bool) -> String {
        let timeout = preset.episodeTimeout ?? GameConfiguration(scenario: preset.name).episodeTimeout ?? scenario.episodeTimeout
        var buttons = scenario.buttons.map(\.name).joined(separator: " ")
        if !preset.addedButtons.isEmpty {
            buttons += " + " + preset.addedButtons.map(\.name).joined(separator: " ") + " (added by the preset)"
        }
        let actions = allActions || preset.actions.count <= maxListedActions
            ? preset.actions.description
            : "(list them with `a3c scenarios \(preset.name)`)"
        var lines = [
            ("actions", "\(preset.actions.count), \(preset.actionScheme):"),
            ("", actions),
            ("buttons", buttons),
            ("learning", "reward scale \(format(preset.rewardScale)), frame skip \(preset.frameSkip), "
                + (timeout > 0 ? "timeout \(timeout) tics" : "no timeout")
                + (preset.episodeTimeout != nil ? " (set by the preset)" : "")
                + ", learning rate \(preset.learningRateSchedule.rawValue)"
                + (preset.learningRateSchedule == .linear ? " (annealed to 0 over the budget)" : "")
                + (preset.envsPerWorker.map { ", \($0) environment\($0 == 1 ? "" : "s") per worker" } ?? "")
                + (preset.entropyCoefficient.map { ", entropy coefficient \(format($0))" } ?? "")),
            ("metrics", preset.metrics.map { "\($0.columnName) = \($0.definition)" }.joined(separator: "; ")),
        ]
        if let shaping = preset.recommendedShaping {
            lines.append(("shaping", "opt-in, recommended for the learning suite's 20 minutes: --reward-shaping \(shaping.rawValue) (\(shaping.definition))"))
        }
        lines += [
            ("reference", preset.reference.score),
        ]
        if preset.reference.source != "-" { lines.append(("source", preset.reference.source)) }
        return "\(preset.name): \(preset.summary)\n" + lines.map { label, text in
            wrap(text, label: "    " + (label.isEmpty ? "" : label + ":").padding(toLength: 11, withPad: " ", startingAt: 0))
        }.joined(separator: "\n")
    }

    /// One line per scenario: its `.cfg`'s buttons, variables and timeout.
    static func describeWithoutPreset(_ scenarios: [Scenario]) -> String {
        let width = scenarios.map(\.name.count).max() ?? 0
        return scenarios.map { scenario in
            let name = scenario.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let buttons = scenario.buttons.map(\.name).joined(separator: " ")
            let variables = scenario.gameVariables.map(\.name).joined(separator: " ")
            return "\(name)  buttons: \(buttons.isEmpty ? "-" : buttons)  variables: \(variables.isEmpty ? "-" : variables)  timeout: \(scenario.episodeTimeout)"
        }.joined(separator: "\n")
    }

    /// 1, 0.01: no trailing `.0`.
    static func format(_ value: Float) -> String { String(format: "%g", Double(value)) }

    /// `text` after `label`, wrapped at spaces to `width` columns, continuation lines indented under it.
    static func wrap(_ text: String, label: String, width: Int = 110) -> String {
        let indent = String(repeating: " ", count: label.count)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && indent.count + line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " " + word
        }
        lines.append(line)
        return lines.enumerated().map { ($0.offset == 0 ? label : indent) + $0.element }.joined(separator: "\n")
    }
}

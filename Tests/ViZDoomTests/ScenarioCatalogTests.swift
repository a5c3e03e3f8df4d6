import Foundation
import Testing
@testable import ViZDoom

@Suite("Scenario catalog")
struct ScenarioCatalogTests {
    @Test("every scenario shipped in the wheel is in the catalog")
    func catalogHasEveryScenario() throws {
        let catalog = try ScenarioCatalog()
        for name in ["basic", "defend_the_center", "defend_the_line", "health_gathering", "health_gathering_supreme",
                     "deadly_corridor", "my_way_home", "predict_position", "take_cover", "rocket_basic",
                     "simpler_basic", "deathmatch"] {
            #expect(catalog.names.contains(name), "missing \(name)")
        }
    }

    @Test("basic has its buttons and game variables")
    func basicButtons() throws {
        let basic = try ScenarioCatalog().scenario(named: "basic")
        #expect(basic.buttons == [.moveLeft, .moveRight, .attack])
        #expect(basic.gameVariables == [.ammo2])
        #expect(basic.episodeTimeout == 300)
        #expect(basic.livingReward == -1)
        #expect(basic.episodeStartTime == 14)
        // A .cfg without episode_start_time gets ViZDoom's minimum of 1.
        #expect(try ScenarioCatalog().scenario(named: "health_gathering").episodeStartTime == 1)
    }

    @Test("every scenario's .cfg is readable and has buttons")
    func everyScenarioReads() throws {
        for scenario in try ScenarioCatalog().all() {
            #expect(!scenario.buttons.isEmpty, "\(scenario.name) has no buttons")
        }
    }

    @Test("an unknown scenario name lists the valid ones")
    func unknownScenario() throws {
        let catalog = try ScenarioCatalog()
        #expect(throws: ViZDoomError.unknownScenario(name: "basci", valid: catalog.names)) {
            try catalog.configFile(for: "basci")
        }
        let message = ViZDoomError.unknownScenario(name: "basci", valid: catalog.names).description
        #expect(message.contains("basic") && message.contains("defend_the_center"))
    }

    @Test("a missing .cfg names the path")
    func missingConfig() throws {
        #expect(throws: ViZDoomError.fileNotFound(path: "/nonexistent/scenario.cfg")) {
            try ScenarioCatalog().configFile(for: "/nonexistent/scenario.cfg")
        }
    }

    @Test("a missing installation says to run the setup")
    func missingInstallation() {
        let installation = ViZDoomInstallation(home: URL(fileURLWithPath: "/nonexistent/vizdoom"))
        #expect(throws: ViZDoomError.self) { try ScenarioCatalog(installation: installation) }
        do { try installation.validate() } catch {
            #expect("\(error)".contains("scripts/bootstrap"))
        }
    }

    @Test("buttons and game variables round-trip through their names")
    func namesRoundTrip() {
        #expect(Button.all.count == 43)
        for button in Button.all { #expect(Button(name: button.name) == button) }
        for variable in GameVariable.all { #expect(GameVariable(name: variable.name) == variable) }
        #expect(Button(name: "move_left") == .moveLeft)
        #expect(Button(name: "NOT_A_BUTTON") == nil)
    }

    @Test("stale segment names parse to their instance id")
    func segmentNames() {
        #expect(EngineHygiene.instanceId(ofSegment: "ViZDoomSMabc123") == "abc123")
        #expect(EngineHygiene.instanceId(ofSegment: "ViZDoomMQCtrabc123") == "abc123")
        #expect(EngineHygiene.instanceId(ofSegment: "ViZDoomMQDoomabc123") == "abc123")
        #expect(EngineHygiene.instanceId(ofSegment: "other") == nil)
    }

    @Test("only segments of dead owners are removed, and only after the grace period")
    func staleSegmentsRemoved() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-shm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let old = Date(timeIntervalSinceNow: -120)
        for name in ["ViZDoomSMdeadOwner1", "ViZDoomMQCtrdeadOwner1", "ViZDoomSMfreshOne01", "unrelated"] {
            let path = directory.appendingPathComponent(name).path
            #expect(FileManager.default.createFile(atPath: path, contents: Data()))
            if name.contains("dead") || name == "unrelated" {
                try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: path)
            }
        }
        let removed = EngineHygiene.removeStaleSegments(in: directory.path, gracePeriod: 30)
        #expect(Set(removed) == ["ViZDoomSMdeadOwner1", "ViZDoomMQCtrdeadOwner1"])
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(Set(left) == ["ViZDoomSMfreshOne01", "unrelated"])
    }

    @Test("only engine working directories that no process works in are removed, after the grace period")
    func staleScratchDirectoriesRemoved() throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-scratch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: parent) }
        let old = Date(timeIntervalSinceNow: -120)
        for name in ["a3c-engine-killed", "a3c-engine-inUse", "a3c-engine-young", "unrelated"] {
            let directory = parent.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("_vizdoom"),
                                                    withIntermediateDirectories: true)
            if name != "a3c-engine-young" {
                try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: directory.path)
            }
        }
        // A process working in one, as an engine does in its own.
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: "/bin/sleep")
        worker.arguments = ["30"]
        worker.currentDirectoryURL = parent.appendingPathComponent("a3c-engine-inUse")
        try worker.run()
        defer { kill(worker.processIdentifier, SIGKILL); worker.waitUntilExit() }

        let removed = EngineHygiene.removeStaleScratchDirectories(in: parent.path, gracePeriod: 30)
        #expect(removed == [parent.appendingPathComponent("a3c-engine-killed").path])
        let left = try FileManager.default.contentsOfDirectory(atPath: parent.path)
        #expect(Set(left) == ["a3c-engine-inUse", "a3c-engine-young", "unrelated"])
    }
}

import Foundation
import Telemetry
import TelemetryTestSupport
import Testing
import A3CTestSupport
@testable import Training

/// Runs a shell script with bash; returns its exit status and combined output.
private func runScript(_ script: String, environment: [String: String], timeout: Double = 240) throws -> (status: Int32, output: String) {
    try runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", script], environment: environment, timeout: timeout)
}

/// True when this process may run `command` (root with the needed capabilities, tools present).
private func shellSucceeds(_ command: String) -> Bool {
    (try? runScript(command, environment: [:], timeout: 30).status) == 0
}

/// A full disk needs a small file system of its own: a tmpfs in a private mount namespace, which
/// disappears with the namespace, so nothing is left mounted even if the test dies.
private let canMountPrivateTmpfs = shellSucceeds("unshare --mount --propagation private sh -c 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs $d && umount $d && rmdir $d'")
/// A read-only run directory needs a trainer that file permissions bind: root ignores them, so
/// the trainer runs as `nobody` (which must be able to reach the a3c binary and the engine).
private let canRunAsNobody: Bool = {
    guard let a3c = try? a3cExecutable() else { return false }
    return shellSucceeds("setpriv --reuid=65534 --regid=65534 --clear-groups '\(a3c.path)' scenarios >/dev/null")
}()

/// The script both cases share. It starts `a3c train` in $RUNS (as $AS_USER), waits for its first
/// checkpoint and a few more episodes, copies episodes.csv aside, injects $FAULT, and waits for
/// the trainer to stop; then it undoes the fault and resumes the run for a few seconds, and
/// copies the run directory to $OUT for the test to inspect.
private let faultScript = #"""
set -u
as_user() { if [ -n "$AS_USER" ]; then setpriv --reuid=$AS_USER --regid=$AS_USER --clear-groups "$@"; else "$@"; fi; }
if [ "$FAULT" = full ]; then mount -t tmpfs -o size=200m tmpfs "$RUNS" || exit 90; fi
as_user "$A3C" train --logdir "$RUNS" --quiet --max-minutes 2 --checkpoint-every 20 --checkpoint-min-seconds 0 --gif-every 0 >"$OUT/train.log" 2>&1 &
pid=$!
i=0
until ls -d "$RUNS"/*/checkpoints/ckpt-* >/dev/null 2>&1; do
    i=$((i + 1)); if [ $i -gt 900 ]; then echo "no checkpoint after 90 s"; kill $pid; exit 91; fi; sleep 0.1
done
sleep 1
run=$(ls -d "$RUNS"/*__a3c__*)
cp "$run/episodes.csv" "$OUT/episodes.before.csv"
case "$FAULT" in
    full) dd if=/dev/zero of="$RUNS/filler" bs=64k 2>/dev/null ;;
    readonly) chmod -R a-w "$run" ;;
esac
started=$(date +%s%N)
wait $pid; echo $? >"$OUT/status"
echo $(( ($(date +%s%N) - started) / 1000000 )) >"$OUT/stop.ms"
ls "$run/checkpoints" >"$OUT/checkpoints.txt"
newest=$(ls -d "$run"/checkpoints/ckpt-* | grep -E 'ckpt-[0-9]+$' | sort | tail -1)
cp "$newest/state.json" "$OUT/last-state.json"
case "$FAULT" in
    full) rm -f "$RUNS/filler" ;;
    readonly) chmod -R u+w "$run" ;;
esac
as_user "$A3C" train --resume "$run" --max-minutes 0.1 --quiet >"$OUT/resume.log" 2>&1; echo $? >"$OUT/resume.status"
mkdir -p "$OUT/run" && cp -a "$run/." "$OUT/run/"
"""#

@Suite("File system faults while training", .serialized)
struct FileSystemFaultTests {
    enum Fault: String, CaseIterable { case full, readonly }

    /// Runs the scenario; returns the folder with train.log, status, episodes.before.csv, run/...
    private func inject(_ fault: Fault) throws -> URL {
        let a3c = try a3cExecutable()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("a3c-fsfault-\(UUID().uuidString)")
        let runs = out.appendingPathComponent("runs")
        try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)
        var script = faultScript
        var asUser = ""
        if fault == .full {
            script = "exec unshare --mount --propagation private bash -c '\(script.replacingOccurrences(of: "'", with: "'\\''"))'"
        } else {
            asUser = "65534"
            _ = chown(runs.path, 65534, 65534)
        }
        let result = try runScript(script, environment: ["A3C": a3c.path, "RUNS": runs.path, "OUT": out.path,
                                                         "FAULT": fault.rawValue, "AS_USER": asUser])
        #expect(result.status == 0, "fault script: \(result.output)")
        return out
    }

    private func check(_ fault: Fault, in out: URL, expectedReason: String) throws {
        defer { try? FileManager.default.removeItem(at: out) }
        let read = { (name: String) in (try? String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)) ?? "" }
        let log = read("train.log")
        // 1. A clear error and a non-zero exit, soon after the fault.
        let status = Int32(read("status").trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(status != nil && status != 0, "status \(read("status")): \(log)")
        #expect(log.contains("cannot be written") && log.contains(expectedReason) && log.contains("--resume"), "\(log)")
        #expect(!log.contains("Fatal error") && !log.contains("Stack dump"), "\(log)")
        #expect(!log.contains("Error Domain="), "the reason is an NSError dump, not the OS's words: \(log)")
        let stopMilliseconds = Int(read("stop.ms").trimmingCharacters(in: .whitespacesAndNewlines)) ?? .max
        #expect(stopMilliseconds < 30_000, "took \(stopMilliseconds) ms to stop after the fault")

        // 2. The last good checkpoint is named, intact, and the run resumes from it.
        let run = out.appendingPathComponent("run")
        let afterFault = read("checkpoints.txt").split(separator: "\n").map(String.init)
        let newest = try #require(afterFault.filter { $0.hasPrefix("ckpt-") }.max())
        #expect(log.contains("the last good checkpoint is") && log.contains(newest), "\(log)")
        if fault == .full {  // (a read-only directory may keep a staging folder: nothing can be removed from it)
            #expect(!afterFault.contains { $0.hasSuffix(".tmp") }, "staging folders left behind: \(afterFault)")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("checkpoints").path)
            .filter { $0.hasSuffix(".tmp") || $0.hasSuffix(".old") }
        #expect(leftovers.isEmpty, "the resume did not clear what the failed writes left: \(leftovers)")
        #expect(read("resume.status").hasPrefix("0"), "resume failed: \(read("resume.log"))")
        #expect(read("resume.log").contains("resuming"), "\(read("resume.log"))")

        // 3. Results already on disk are whole and never truncated: every row written before the
        //    fault is still there, in order, and every event file reads with valid framing and CRCs.
        //    Rows of episodes after that checkpoint (their learning was not saved) were moved by
        //    the resume to episodes.discarded.csv, so the two files together start with them.
        let before = try CSVReader.read(out.appendingPathComponent("episodes.before.csv"))
        let after = try CSVReader.read(run.appendingPathComponent(RunDirectory.episodesFile))
        let discardedURL = run.appendingPathComponent(RunDirectory.discardedEpisodesFile)
        let discarded = FileManager.default.fileExists(atPath: discardedURL.path) ? try CSVReader.read(discardedURL) : []
        let lastState = try JSONDecoder().decode(TrainingStatistics.Counters.self,
                                                 from: Data(contentsOf: out.appendingPathComponent("last-state.json")))
        let checkpointEpisodes = lastState.episodes
        let kept = after.prefix { $0[1] == "episode" || Int($0[1])! <= checkpointEpisodes }
        let together = Array(kept) + discarded.dropFirst()
        #expect(before.count > 1 && together.count >= before.count)
        let whole = Array(together.prefix(before.count)) == before  // a Bool: a failing array #expect diffs every row
        #expect(whole, "rows written before the fault changed or went missing")
        #expect((after + discarded).allSatisfy { $0.count == after[0].count }, "a torn row")
        let frames = after.dropFirst().compactMap { Int($0[2]) }
        #expect(zip(frames, frames.dropFirst()).allSatisfy { $0 <= $1 }, "the frame column of episodes.csv steps back")
        let eventFiles = try EventFileReader.eventFiles(in: run)
        #expect(eventFiles.count == 2, "\(eventFiles)")  // the failed session's and the resumed one's
        for file in eventFiles { _ = try EventFileReader.events(at: file) }
    }

    @Test("a full disk stops training with a clear error; the last checkpoint and the logs stay whole",
          .enabled(if: canMountPrivateTmpfs, "needs root (unshare --mount, mount -t tmpfs)"))
    func fullDisk() throws {
        try check(.full, in: try inject(.full), expectedReason: "No space left on device")
    }

    @Test("a run directory made read-only stops training with a clear error; nothing is lost",
          .enabled(if: canRunAsNobody, "needs root and a checkout that user nobody can read"))
    func readOnlyDirectory() throws {
        try check(.readonly, in: try inject(.readonly), expectedReason: "ermission denied")
    }
}

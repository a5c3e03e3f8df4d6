// Optimizers, clipping, shared parameters, and an end-to-end learning test.
import Foundation
import Testing
@testable import NeuralCore
import GradientCheckSupport

@Suite("Optimizers and shared parameters")
struct OptimizerTests {
    @Test("Adam: two steps against the TF1 formulas by hand")
    func adamSteps() {
        let adam = Adam(parameterCount: 2, learningRate: 0.1)
        let parameters = FloatBuffer([1.0, -2.0])
        let gradient1 = FloatBuffer([0.5, -0.1]), gradient2 = FloatBuffer([-0.5, 0.4])
        adam.step(parameters: parameters.pointer, gradients: gradient1.pointer, gradientScale: 1)
        // t = 1: m = 0.1 g, v = 0.001 g^2, lr_1 = 0.1 * sqrt(0.001) / 0.1
        let lr1 = 0.1 * (0.001).squareRoot() / 0.1
        let expected1 = [1.0 - lr1 * 0.05 / ((0.001 * 0.25).squareRoot() + 1e-8),
                         -2.0 - lr1 * -0.01 / ((0.001 * 0.01).squareRoot() + 1e-8)]
        for i in 0..<2 { #expect(abs(Double(parameters[i]) - expected1[i]) < 1e-6) }
        // t = 2 with g = [-0.25, 0.2] passed as [-0.5, 0.4] scaled by 0.5 (the clipping path).
        adam.step(parameters: parameters.pointer, gradients: gradient2.pointer, gradientScale: 0.5)
        let m2 = [0.9 * 0.05 + 0.1 * -0.25, 0.9 * -0.01 + 0.1 * 0.2]
        let v2 = [0.999 * 0.00025 + 0.001 * 0.0625, 0.999 * 0.00001 + 0.001 * 0.04]
        let lr2 = 0.1 * (1 - 0.999 * 0.999).squareRoot() / (1 - 0.9 * 0.9)
        for i in 0..<2 {
            let expected = expected1[i] - lr2 * m2[i] / (v2[i].squareRoot() + 1e-8)
            #expect(abs(Double(parameters[i]) - expected) < 1e-6, "parameter \(i): \(parameters[i]) vs \(expected)")
            // (1 - 0.999 in Float is 0.00099998713: relative error 1.3e-5.)
            #expect(abs(Double(adam.m[i]) - m2[i]) < 1e-7 && abs(Double(adam.v[i]) - v2[i]) < 1e-4 * v2[i])
        }
        #expect(adam.stepCount == 2)
        withExtendedLifetime((gradient1, gradient2)) {}
    }

    @Test("RMSProp: the A3C paper's update by hand (epsilon inside the square root)")
    func rmsPropStep() {
        let rmsProp = RMSProp(parameterCount: 2, learningRate: 0.01)
        let parameters = FloatBuffer([1.0, 0.0])
        let gradient = FloatBuffer([0.5, -3])
        rmsProp.step(parameters: parameters.pointer, gradients: gradient.pointer, gradientScale: 1)
        rmsProp.step(parameters: parameters.pointer, gradients: gradient.pointer, gradientScale: 1)
        var theta = [1.0, 0.0], ms = [0.0, 0.0]
        let g = [0.5, -3.0]
        for _ in 0..<2 {
            for i in 0..<2 {
                ms[i] = 0.99 * ms[i] + 0.01 * g[i] * g[i]
                theta[i] -= 0.01 * g[i] / (ms[i] + 0.1).squareRoot()
            }
        }
        for i in 0..<2 { #expect(abs(Double(parameters[i]) - theta[i]) < 1e-6) }
        withExtendedLifetime(gradient) {}
    }

    @Test("clip by global norm: returns the norm before clipping; clips only above maxNorm")
    func clipping() {
        let gradients = FloatBuffer([3, 0, 4])
        #expect(clipByGlobalNorm(gradients, maxNorm: 10) == 5)
        #expect(gradients.array == [3, 0, 4])
        #expect(clipByGlobalNorm(gradients, maxNorm: 2.5) == 5)
        #expect(abs(gradients[0] - 1.5) < 1e-6 && abs(gradients[2] - 2) < 1e-6)
        #expect(abs(globalNorm(gradients) - 2.5) < 1e-6)
        #expect(clipScale(norm: 80, maxNorm: 40) == 0.5 && clipScale(norm: 1, maxNorm: 40) == 1)
    }

    @Test("shared parameters: concurrent apply from 8 threads loses no update")
    func concurrentApply() {
        let layout = ParameterLayout(tensors: [("a", [100]), ("b", [7, 3])])
        var rng = Xoshiro256StarStar(seed: 2)
        let initial = randomBuffer(layout.totalCount, rng: &rng)
        let gradients = randomBuffer(layout.totalCount, rng: &rng)
        let shared = SharedParameters(layout: layout, initialParameters: initial,
                                      optimizer: Adam(parameterCount: layout.totalCount, learningRate: 0.01))
        let (threads, updatesPerThread) = (8, 50)
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let local = FloatBuffer(count: layout.totalCount)
            for _ in 0..<updatesPerThread {
                shared.apply(gradients: gradients, maxGradientNorm: 1)
                shared.copyParameters(into: local)
            }
        }
        #expect(shared.updateCount == threads * updatesPerThread)
        // All gradients are equal, so the order of the updates does not matter: compare with a sequential run.
        let sequential = FloatBuffer(count: layout.totalCount)
        sequential.copy(from: initial)
        let adam = Adam(parameterCount: layout.totalCount, learningRate: 0.01)
        let scale = clipScale(norm: globalNorm(gradients), maxNorm: 1)
        for _ in 0..<(threads * updatesPerThread) { adam.step(parameters: sequential.pointer, gradients: gradients.pointer, gradientScale: scale) }
        let result = FloatBuffer(count: layout.totalCount)
        shared.copyParameters(into: result)
        do { let same = result.array == sequential.array; #expect(same) }  // a Bool: a failing array #expect diffs every element for minutes
    }

    @Test("replicas: the fused update equals a plain one, copies are skipped only while nothing else wrote")
    func replicaSynchronization() throws {
        // Array comparisons go through a Bool (`holds`): a failing #expect on two arrays diffs 1.2 M floats for minutes.
        let network = ActorCriticNetwork(actionCount: 3, maxSteps: 2, seed: 5)
        let layout = network.layout, count = layout.totalCount
        let fused = SharedParameters(layout: layout, initialParameters: network.parameters,
                                     optimizer: Adam(parameterCount: count, learningRate: 0.01))
        let plain = SharedParameters(layout: layout, initialParameters: network.parameters,
                                     optimizer: Adam(parameterCount: count, learningRate: 0.01))
        let a = ParameterReplica(network: network, global: fused)
        let b = ParameterReplica(network: ActorCriticNetwork(actionCount: 3, maxSteps: 2, seed: 6), global: fused)
        var rng = Xoshiro256StarStar(seed: 7)
        func globals(_ shared: SharedParameters) -> [Float] {
            let buffer = FloatBuffer(count: count)
            shared.copyParameters(into: buffer)
            return buffer.array
        }
        func fillGradients(_ replica: ParameterReplica) -> FloatBuffer {
            replica.zeroGradients()
            let g = replica.network.gradientPointer("conv1.weight")
            for i in 0..<count where i % 3 == 0 { g[i] = Float(rng.nextUniform(-1, 1)) }
            return FloatBuffer(replica.network.gradients.array)
        }
        // Worker a applies; its parameters become the new global ones and its gradients zero.
        a.synchronize()
        var copy = fillGradients(a)
        #expect(a.applyGradients(maxGradientNorm: 40).gradientNorm == plain.apply(gradients: copy, maxGradientNorm: 40).gradientNorm)
        do { let holds = globals(fused) == globals(plain) && a.network.parameters.array == globals(fused); #expect(holds) }
        do { let holds = a.network.gradients.array.allSatisfy { $0 == 0 }; #expect(holds) }
        // Worker b applies in between: a's next sync must bring b's update.
        b.synchronize()
        copy = fillGradients(b)
        b.applyGradients(maxGradientNorm: 40)
        plain.apply(gradients: copy, maxGradientNorm: 40)
        a.synchronize()
        do { let holds = a.network.parameters.array == globals(plain) && b.network.parameters.array == globals(plain); #expect(holds) }
        // b holds the current parameters, so its sync copies nothing (a scribble behind the replica's
        // back survives: the replica must be the network's only writer, which the worker is).
        b.network.parameters.pointer[0] += 1
        b.synchronize()
        do { let holds = b.network.parameters.pointer[0] == globals(plain)[0] + 1; #expect(holds) }
        // A write through withLockedValue (a checkpoint restore) makes every replica copy again.
        fused.withLockedValue { state in state.parameters.pointer[0] = 42 }
        b.synchronize()
        a.synchronize()
        #expect(a.network.parameters.pointer[0] == 42 && b.network.parameters.pointer[0] == 42)
        // A checkpoint's snapshot (a read) does not.
        fused.withLockedReading { _ in }
        b.network.parameters.pointer[1] = 7
        b.synchronize()
        #expect(b.network.parameters.pointer[1] == 7)

        // Non-finite gradients: nothing applied, the network's parameters and gradients left as they were.
        a.synchronize()
        let before = globals(fused), updates = fused.updateCount
        _ = fillGradients(a)
        a.network.gradients.pointer[10] = .nan
        #expect(a.applyGradients(maxGradientNorm: 40).gradientNorm.isNaN)
        do { let holds = globals(fused) == before && a.network.parameters.array == before && fused.updateCount == updates; #expect(holds) }
        #expect(a.network.gradients.pointer[10].isNaN)
        a.zeroGradients()
        do { let holds = a.network.gradients.array.allSatisfy { $0 == 0 }; #expect(holds) }
    }

    @Test("a small Dense-ELU-Dense classifier learns XOR-like quadrants with Adam (cross-entropy < 0.05)")
    func tinyNetworkLearns() {
        // 2 -> 16 -> ELU -> 2, softmax cross-entropy; points in four quadrants, label = sign(x) xor sign(y).
        let layout = ParameterLayout(tensors: [("l1.weight", [16, 2]), ("l1.bias", [16]), ("l2.weight", [2, 16]), ("l2.bias", [2])])
        let parameters = FloatBuffer(count: layout.totalCount), gradients = FloatBuffer(count: layout.totalCount)
        var rng = Xoshiro256StarStar(seed: 5)
        Initializers.glorotUniform(parameters.pointer + layout["l1.weight"].offset, count: 32, fanIn: 2, fanOut: 16, rng: &rng)
        Initializers.glorotUniform(parameters.pointer + layout["l2.weight"].offset, count: 32, fanIn: 16, fanOut: 2, rng: &rng)
        let n = 64
        let inputs = FloatBuffer(count: n * 2)
        var labels: [Int] = []
        for i in 0..<n {
            let x = Float(rng.nextUniform(0.2, 1)) * (i % 2 == 0 ? 1 : -1), y = Float(rng.nextUniform(0.2, 1)) * (i % 4 < 2 ? 1 : -1)
            inputs.pointer[2 * i] = x; inputs.pointer[2 * i + 1] = y
            labels.append((x > 0) != (y > 0) ? 1 : 0)
        }
        let hidden = FloatBuffer(count: n * 16), logits = FloatBuffer(count: n * 2)
        let probs = FloatBuffer(count: n * 2), logProbs = FloatBuffer(count: n * 2)
        let dLogProbs = FloatBuffer(count: n * 2), dLogits = FloatBuffer(count: n * 2)
        let dHidden = FloatBuffer(count: n * 16), dHiddenPre = FloatBuffer(count: n * 16)
        let adam = Adam(parameterCount: layout.totalCount, learningRate: 0.02)
        let p = parameters.pointer, d = gradients.pointer
        func offset(_ name: String) -> Int { layout[name].offset }
        var firstLoss = 0.0, lastLoss = 0.0
        for iteration in 0..<400 {
            denseForward(out: hidden.pointer, input: inputs.pointer, weight: p + offset("l1.weight"), bias: p + offset("l1.bias"),
                         batch: n, inFeatures: 2, outFeatures: 16)
            eluForward(out: hidden.pointer, input: hidden.pointer, count: n * 16)
            denseForward(out: logits.pointer, input: hidden.pointer, weight: p + offset("l2.weight"), bias: p + offset("l2.bias"),
                         batch: n, inFeatures: 16, outFeatures: 2)
            softmaxForward(probs: probs.pointer, logits: logits.pointer, rows: n, cols: 2)
            logSoftmaxForward(logProbs: logProbs.pointer, logits: logits.pointer, rows: n, cols: 2)
            var loss = 0.0
            dLogProbs.zero()
            for i in 0..<n {
                loss -= Double(logProbs[2 * i + labels[i]]) / Double(n)
                dLogProbs.pointer[2 * i + labels[i]] = -1 / Float(n)
            }
            if iteration == 0 { firstLoss = loss }
            lastLoss = loss
            gradients.zero(); dLogits.zero(); dHidden.zero(); dHiddenPre.zero()
            logSoftmaxBackward(dLogits: dLogits.pointer, dLogProbs: dLogProbs.pointer, probs: probs.pointer, rows: n, cols: 2)
            denseBackward(dInput: dHidden.pointer, dWeight: d + offset("l2.weight"), dBias: d + offset("l2.bias"), dOut: dLogits.pointer,
                          input: hidden.pointer, weight: p + offset("l2.weight"), batch: n, inFeatures: 16, outFeatures: 2)
            eluBackward(dInput: dHiddenPre.pointer, dOut: dHidden.pointer, out: hidden.pointer, count: n * 16)
            denseBackward(dInput: nil, dWeight: d + offset("l1.weight"), dBias: d + offset("l1.bias"), dOut: dHiddenPre.pointer,
                          input: inputs.pointer, weight: p + offset("l1.weight"), batch: n, inFeatures: 2, outFeatures: 16)
            adam.step(parameters: p, gradients: d, gradientScale: 1)
        }
        print("tiny classifier: cross-entropy \(firstLoss) -> \(lastLoss)")
        #expect(firstLoss > 0.5)
        #expect(lastLoss < 0.05)
    }
}

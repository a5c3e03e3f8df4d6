import Testing
@testable import NeuralCore

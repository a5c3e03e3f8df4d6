import Testing
@testable import ViZDoom

import Testing
@testable import A3C

import PlexusLoop
import Synchronization
import XCTest

final class EventLoopTests: XCTestCase {
    func testExecuteFromManyThreadsRunsEveryJobOnceOnTheLoop() async throws {
        let loop = EventLoop()
        let count = Locked(0)
        let offLoop = Locked(0)
        let jobs = 8 * 5_000
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<5_000 {
                        loop.execute {
                            if !loop.inEventLoop { offLoop.withLock { $0 += 1 } }
                            count.withLock { $0 += 1 }
                        }
                    }
                }
            }
        }
        let seen = try await loop.submit { count.withLock { $0 } }
        XCTAssertEqual(seen, jobs)
        XCTAssertEqual(offLoop.withLock { $0 }, 0)
        XCTAssertFalse(loop.inEventLoop)
        await loop.shutdown()
    }

    func testTaskWithExecutorPreferenceRunsOnTheLoopThread() async throws {
        let loop = EventLoop()
        let onLoop = await Task(executorPreference: loop) { () async -> Bool in
            await Task.yield()
            return loop.inEventLoop
        }.value
        XCTAssertTrue(onLoop)
        await loop.shutdown()
    }

    func testTimersFireInOrderAndCancelledOnesDoNot() async throws {
        let loop = EventLoop()
        let fired = Locked<[Int]>([])
        let done = expectation(description: "last timer")
        loop.execute {
            _ = LoopTimer(on: loop, delayMilliseconds: 30) { fired.withLock { $0.append(3) }; done.fulfill() }
            _ = LoopTimer(on: loop, delayMilliseconds: 10) { fired.withLock { $0.append(1) } }
            let cancelled = LoopTimer(on: loop, delayMilliseconds: 5) { fired.withLock { $0.append(99) } }
            _ = LoopTimer(on: loop, delayMilliseconds: 20) { fired.withLock { $0.append(2) } }
            cancelled.cancel()
        }
        await fulfillment(of: [done], timeout: 5)
        XCTAssertEqual(fired.withLock { $0 }, [1, 2, 3])
        await loop.shutdown()
    }

    func testRepeatingTimer() async throws {
        let loop = EventLoop()
        let ticks = Locked(0)
        let done = expectation(description: "five ticks")
        loop.execute {
            var timer: LoopTimer?
            timer = LoopTimer(on: loop, delayMilliseconds: 1, repeatMilliseconds: 2) {
                let n = ticks.withLock { $0 += 1; return $0 }
                if n == 5 { timer?.cancel(); done.fulfill() }
            }
        }
        await fulfillment(of: [done], timeout: 5)
        XCTAssertEqual(ticks.withLock { $0 }, 5)
        await loop.shutdown()
    }

    func testSleepResumesOnTheLoopAndFailsOnceTheLoopStops() async throws {
        let loop = EventLoop()
        let (onLoop, waited) = try await Task(executorPreference: loop) { () async throws -> (Bool, Duration) in
            let start = ContinuousClock.now
            try await loop.sleep(milliseconds: 5)
            return (loop.inEventLoop, ContinuousClock.now - start)
        }.value
        XCTAssertTrue(onLoop)
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(4))
        // A sleep still pending when the loop stops ends with loopClosed instead of hanging.
        let pending = Task { () async -> Error? in
            do { try await loop.sleep(milliseconds: 60_000) } catch { return error }
            return nil
        }
        try await Task.sleep(for: .milliseconds(20))
        await loop.shutdown()
        let error = await pending.value
        XCTAssertEqual(error as? LoopError, .loopClosed)
        // And a sleep on a stopped loop fails at once.
        do {
            try await loop.sleep(milliseconds: 1)
            XCTFail("sleep on a stopped loop must throw")
        } catch {
            XCTAssertEqual(error as? LoopError, .loopClosed)
        }
    }

    func testShutdownOfManyLoopsExitsTheirThreads() async throws {
        for _ in 0..<100 {
            let loop = EventLoop()
            _ = try await loop.submit { 1 }
            await loop.shutdown()
            await loop.shutdown()  // idempotent
        }
        let group = EventLoopGroup(loopCount: 3)
        XCTAssertFalse(group.next() === group.next())
        await group.shutdown()
    }

    func testSubmitAfterShutdownFails() async throws {
        let loop = EventLoop()
        await loop.shutdown()
        do {
            _ = try await loop.submit { 1 }
            XCTFail("submit on a closed loop succeeded")
        } catch let error as LoopError {
            XCTAssertEqual(error, .loopClosed)
        }
    }
}

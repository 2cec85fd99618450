import Synchronization
import Testing

@testable import Common

#if canImport(Glibc)
import Glibc
#endif

/// `OSThread.startJoinable`: `join` returns only once the thread has ended, its thread-exit
/// destructors included (what `mscr load` relies on before the process exits and OpenSSL's
/// `atexit` cleanup runs).
@Suite struct OSThreadTests {
    /// Set by the key's destructor, which runs as the thread exits, after its body returned.
    static let destructorRan = Atomic<Int>(0)
    static let bodiesRan = Atomic<Int>(0)

    @Test("join waits for the thread's exit destructors")
    func joinWaitsForExitDestructors() {
        var key = pthread_key_t()
        #expect(pthread_key_create(&key, { _ in OSThreadTests.destructorRan.add(1, ordering: .releasing) }) == 0)
        defer { pthread_key_delete(key) }
        let before = (Self.destructorRan.load(ordering: .acquiring), Self.bodiesRan.load(ordering: .acquiring))
        let thread = OSThread.startJoinable { [key] in
            // A value makes the key's destructor run at thread exit.
            pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
            OSThreadTests.bodiesRan.add(1, ordering: .releasing)
        }
        thread.join()
        let after = (Self.destructorRan.load(ordering: .acquiring), Self.bodiesRan.load(ordering: .acquiring))
        #expect(after.1 == before.1 + 1, "the body ran")
        #expect(after.0 == before.0 + 1, "the exit destructor ran before join returned")
    }
}

using System.Runtime.InteropServices;

namespace VoiceHub.Native;

/// <summary>The C library, for what .NET does not offer: SIGTERM, and poll() on a native library's socket.</summary>
internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        public const string Library = "libc";
        public const short POLLIN = 0x001;
        public const short POLLOUT = 0x004;
        public const int EFD_CLOEXEC = 0x80000;
        public const int EFD_NONBLOCK = 0x800;

        [NativeStruct("pollfd")]
        public struct poll_fd
        {
            public int fd;
            public short events;
            public short revents;
        }

        [LibraryImport(Library, SetLastError = true)]
        public static partial int kill(int pid, int sig);

        [LibraryImport(Library, SetLastError = true)]
        public static partial int poll(poll_fd* fds, nuint nfds, int timeout);

        [LibraryImport(Library, SetLastError = true)]
        public static partial int eventfd(uint initval, int flags);

        [LibraryImport(Library, SetLastError = true)]
        public static partial nint read(int fd, void* buf, nuint count);

        [LibraryImport(Library, SetLastError = true)]
        public static partial nint write(int fd, void* buf, nuint count);

        [LibraryImport(Library)]
        public static partial int close(int fd);
    }
}

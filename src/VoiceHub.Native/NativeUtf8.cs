using System.Runtime.InteropServices;
using System.Text;

namespace VoiceHub.Native;

/// <summary>A NUL-terminated UTF-8 copy of a string in native memory, freed on dispose.</summary>
internal sealed unsafe class NativeUtf8 : IDisposable
{
    private byte* _pointer;

    public NativeUtf8(string? value)
    {
        if (value is null)
        {
            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        _pointer = (byte*)NativeMemory.Alloc((nuint)length + 1);
        var written = Encoding.UTF8.GetBytes(value, new Span<byte>(_pointer, length));
        _pointer[written] = 0;
    }

    public byte* Pointer => _pointer;

    public void Dispose()
    {
        if (_pointer is not null)
        {
            NativeMemory.Free(_pointer);
            _pointer = null;
        }
    }
}

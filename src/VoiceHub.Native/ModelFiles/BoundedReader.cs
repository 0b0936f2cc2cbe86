using System.Buffers.Binary;
using System.Text;

namespace VoiceHub.Native.ModelFiles;

/// <summary>
/// Little-endian reads from a model file that never run past its end: every read names what it was
/// reading, so a truncated or lying file yields "truncated at byte N while reading X".
/// </summary>
internal sealed class BoundedReader : IDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _scratch = new byte[8];

    public BoundedReader(string path)
    {
        Path = path;
        try
        {
            _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (FileNotFoundException)
        {
            throw new ModelFormatException(path, "file not found");
        }
        catch (DirectoryNotFoundException)
        {
            throw new ModelFormatException(path, "file not found");
        }
        catch (UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, "permission denied");
        }

        Length = _stream.Length;
    }

    public string Path { get; }

    public long Length { get; }

    public long Position => _stream.Position;

    public long Remaining => Length - _stream.Position;

    public ModelFormatException Error(string problem) => new(Path, problem);

    public void Need(long bytes, string what)
    {
        if (bytes < 0 || bytes > Remaining)
        {
            throw Error($"truncated at byte {Position} while reading {what} ({bytes} bytes needed, file is {Length} bytes)");
        }
    }

    public uint ReadUInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Fill(4, what));

    public int ReadInt32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Fill(4, what));

    public ulong ReadUInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Fill(8, what));

    public long ReadInt64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Fill(8, what));

    public float ReadSingle(string what) => BinaryPrimitives.ReadSingleLittleEndian(Fill(4, what));

    public double ReadDouble(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Fill(8, what));

    public byte ReadByte(string what) => Fill(1, what)[0];

    public string ReadUtf8(long length, string what)
    {
        Need(length, what);
        if (length > 1 << 20)
        {
            throw Error($"{what} at byte {Position} claims {length} bytes, more than any model needs");
        }

        var bytes = new byte[length];
        _stream.ReadExactly(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    public void Skip(long bytes, string what)
    {
        Need(bytes, what);
        _stream.Seek(bytes, SeekOrigin.Current);
    }

    public void Dispose() => _stream.Dispose();

    private Span<byte> Fill(int count, string what)
    {
        Need(count, what);
        var span = _scratch.AsSpan(0, count);
        _stream.ReadExactly(span);
        return span;
    }
}

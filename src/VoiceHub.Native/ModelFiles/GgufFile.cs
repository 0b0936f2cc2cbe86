namespace VoiceHub.Native.ModelFiles;

/// <summary>A tensor as a GGUF file describes it.</summary>
public sealed record GgufTensor(string Name, IReadOnlyList<long> Shape, GgmlType Type, long Offset, long ByteSize);

/// <summary>An array value in GGUF metadata; long arrays (vocabularies) keep only their length.</summary>
public sealed record GgufArray(int ElementType, long Count, IReadOnlyList<object>? Values);

/// <summary>
/// The header, metadata and tensor table of a GGUF file, read and checked in managed code.
/// <see cref="Read"/> throws <see cref="ModelFormatException"/> for anything llama.cpp would
/// reject or, worse, abort the process on: wrong magic, unknown versions or types, truncation,
/// tensors that do not fit the file, impossible shapes.
/// </summary>
public sealed class GgufFile
{
    public const uint Magic = 0x46554747; // "GGUF" little-endian
    private const int MaxDimensions = 4;
    private const int MaxTensorNameBytes = 63; // GGML_MAX_NAME - 1
    private const int KeptArrayLength = 1024;

    private GgufFile(string path, uint version, Dictionary<string, object> metadata, List<GgufTensor> tensors, long dataOffset, long fileLength)
    {
        Path = path;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        DataOffset = dataOffset;
        FileLength = fileLength;
    }

    public string Path { get; }

    public uint Version { get; }

    public IReadOnlyDictionary<string, object> Metadata { get; }

    public IReadOnlyList<GgufTensor> Tensors { get; }

    public long DataOffset { get; }

    public long FileLength { get; }

    public string Architecture => (string)Metadata["general.architecture"];

    public string? Name => Metadata.TryGetValue("general.name", out var name) ? name as string : null;

    /// <summary>llama_ftype from <c>general.file_type</c>, or null when the file does not say.</summary>
    public int? FileType => Metadata.TryGetValue("general.file_type", out var value) ? Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>The element type most tensor bytes are stored in (what "Q4_0 model" means in practice).</summary>
    public GgmlType DominantTensorType => Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => t.ByteSize)).First().Key;

    /// <param name="keepLargeArrays">Keep every element of long arrays (a vocabulary), e.g. to copy a tokenizer.</param>
    public static GgufFile Read(string path, int typeCount = GgmlTypes.LlamaTypeCount, bool keepLargeArrays = false)
    {
        using var reader = new BoundedReader(path);
        if (reader.Length < 24)
        {
            throw reader.Error($"truncated: {reader.Length} bytes, a GGUF header needs at least 24");
        }

        var magic = reader.ReadUInt32("magic");
        if (magic != Magic)
        {
            throw reader.Error(magic switch
            {
                0x67676d6c or 0x67676a74 or 0x67676d66 => "a legacy GGML/GGJT file, not GGUF: convert it with llama.cpp's convert scripts",
                _ => $"wrong magic 0x{magic:x8}: not a GGUF file",
            });
        }

        var version = reader.ReadUInt32("version");
        if (version is not (2 or 3))
        {
            throw reader.Error($"GGUF version {version} is not supported (2 or 3)");
        }

        var tensorCount = reader.ReadUInt64("tensor count");
        var kvCount = reader.ReadUInt64("metadata count");
        // Every tensor info and key/value takes more than 8 bytes, which bounds honest counts by the file size.
        if (tensorCount > (ulong)reader.Length / 8 || kvCount > (ulong)reader.Length / 8)
        {
            throw reader.Error($"header claims {tensorCount} tensors and {kvCount} metadata entries, more than a {reader.Length}-byte file can hold");
        }

        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        for (ulong i = 0; i < kvCount; i++)
        {
            var key = ReadString(reader, $"metadata key {i}");
            if (key.Length == 0)
            {
                throw reader.Error($"metadata entry {i} has an empty key");
            }

            var type = reader.ReadUInt32($"type of '{key}'");
            var value = ReadValue(reader, (int)type, key, keepLargeArrays);
            if (!metadata.TryAdd(key, value))
            {
                throw reader.Error($"metadata key '{key}' appears twice");
            }
        }

        if (!metadata.TryGetValue("general.architecture", out var architecture) || architecture is not string)
        {
            throw reader.Error("no general.architecture string in the metadata (not a model file?)");
        }

        long alignment = 32;
        if (metadata.TryGetValue("general.alignment", out var alignmentValue))
        {
            alignment = alignmentValue is uint a ? a : 0;
            if (alignment == 0 || (alignment & (alignment - 1)) != 0)
            {
                throw reader.Error($"general.alignment {alignmentValue} is not a power of two");
            }
        }

        // Grown as tensors are read: a corrupt count must not reserve memory the file cannot back.
        var infos = new List<(string Name, long[] Shape, GgmlType Type, long Offset)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            var name = ReadString(reader, $"name of tensor {i}");
            if (System.Text.Encoding.UTF8.GetByteCount(name) > MaxTensorNameBytes)
            {
                throw reader.Error($"tensor name '{name[..Math.Min(name.Length, 40)]}...' is longer than ggml's {MaxTensorNameBytes} bytes");
            }

            if (!names.Add(name))
            {
                throw reader.Error($"tensor '{name}' appears twice");
            }

            var dimensions = reader.ReadUInt32($"dimension count of '{name}'");
            if (dimensions is 0 or > MaxDimensions)
            {
                throw reader.Error($"tensor '{name}' has {dimensions} dimensions (1 to {MaxDimensions} allowed)");
            }

            var shape = new long[dimensions];
            for (var d = 0; d < dimensions; d++)
            {
                var extent = reader.ReadUInt64($"shape of '{name}'");
                if (extent is 0 or > int.MaxValue)
                {
                    throw reader.Error($"tensor '{name}' has an impossible extent {extent} in dimension {d}");
                }

                shape[d] = (long)extent;
            }

            var typeId = reader.ReadUInt32($"type of '{name}'");
            var tensorType = GgmlTypes.Find(typeId, typeCount)
                ?? throw reader.Error($"tensor '{name}' has type id {typeId}, unknown to this llama.cpp");
            var offset = reader.ReadUInt64($"offset of '{name}'");
            if (offset % (ulong)alignment != 0 || offset > (ulong)reader.Length)
            {
                throw reader.Error($"tensor '{name}' has offset {offset}, not aligned to {alignment} or past the end of the file");
            }

            infos.Add((name, shape, tensorType, (long)offset));
        }

        var dataOffset = (reader.Position + alignment - 1) / alignment * alignment;
        var tensors = new List<GgufTensor>(infos.Count);
        foreach (var (name, shape, type, offset) in infos)
        {
            var bytes = type.ByteSize(shape)
                ?? throw reader.Error($"tensor '{name}' of type {type.Name} has a first dimension {shape[0]} that is not a multiple of its block size {type.BlockSize}");
            var end = dataOffset + offset + bytes;
            if (end > reader.Length)
            {
                throw reader.Error($"truncated: tensor '{name}' ends at byte {end}, the file has {reader.Length}");
            }

            tensors.Add(new GgufTensor(name, shape, type, offset, bytes));
        }

        if (tensors.Count == 0)
        {
            throw reader.Error("has no tensors");
        }

        if (GgufHyperParameters.Problem((string)architecture, metadata, tensors) is { } problem)
        {
            throw reader.Error(problem);
        }

        return new GgufFile(path, version, metadata, tensors, dataOffset, reader.Length);
    }

    private static string ReadString(BoundedReader reader, string what)
    {
        var length = reader.ReadUInt64($"length of {what}");
        if (length > (ulong)reader.Remaining)
        {
            throw reader.Error($"truncated at byte {reader.Position}: {what} claims {length} bytes, {reader.Remaining} remain");
        }

        return reader.ReadUtf8((long)length, what);
    }

    private static object ReadValue(BoundedReader reader, int type, string key, bool keepLargeArrays = false) => type switch
    {
        0 => reader.ReadByte(key),
        1 => (sbyte)reader.ReadByte(key),
        2 => (ushort)(reader.ReadByte(key) | (reader.ReadByte(key) << 8)),
        3 => (short)(reader.ReadByte(key) | (reader.ReadByte(key) << 8)),
        4 => reader.ReadUInt32(key),
        5 => reader.ReadInt32(key),
        6 => reader.ReadSingle(key),
        7 => reader.ReadByte(key) switch
        {
            0 => false,
            1 => true,
            var b => throw reader.Error($"'{key}' is a bool with value {b}"),
        },
        8 => ReadString(reader, $"value of '{key}'"),
        9 => ReadArray(reader, key, keepLargeArrays),
        10 => reader.ReadUInt64(key),
        11 => reader.ReadInt64(key),
        12 => reader.ReadDouble(key),
        _ => throw reader.Error($"'{key}' has unknown value type {type}"),
    };

    private static GgufArray ReadArray(BoundedReader reader, string key, bool keepLargeArrays)
    {
        var elementType = (int)reader.ReadUInt32($"element type of '{key}'");
        var count = reader.ReadUInt64($"length of '{key}'");
        if (elementType == 9)
        {
            throw reader.Error($"'{key}' is an array of arrays, which GGUF does not allow");
        }

        if (count > (ulong)reader.Remaining)
        {
            throw reader.Error($"truncated at byte {reader.Position}: '{key}' claims {count} elements, {reader.Remaining} bytes remain");
        }

        var fixedSize = elementType switch
        {
            0 or 1 or 7 => 1,
            2 or 3 => 2,
            4 or 5 or 6 => 4,
            10 or 11 or 12 => 8,
            8 => 0,
            _ => throw reader.Error($"'{key}' has unknown element type {elementType}"),
        };
        var keep = keepLargeArrays || count <= KeptArrayLength;
        if (fixedSize > 0 && !keep)
        {
            reader.Skip((long)count * fixedSize, $"elements of '{key}'");
            return new GgufArray(elementType, (long)count, null);
        }

        var values = keep ? new List<object>((int)Math.Min(count, KeptArrayLength)) : null;
        // llama.cpp asserts (aborting the process) when two vocabulary entries are the same token text,
        // as it reads them: a C string, so up to the first NUL.
        var distinct = key == "tokenizer.ggml.tokens" && elementType == 8 ? new HashSet<string>(StringComparer.Ordinal) : null;
        for (ulong i = 0; i < count; i++)
        {
            var value = ReadValue(reader, elementType, key);
            values?.Add(value);
            if (distinct is not null && value is string token && !distinct.Add(token.Split('\0')[0]))
            {
                throw reader.Error($"token {i} of the vocabulary, '{token}', appears twice (a corrupt tokenizer)");
            }
        }

        return new GgufArray(elementType, (long)count, values);
    }
}

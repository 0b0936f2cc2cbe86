using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using VoiceHub.Native;
using VoiceHub.Native.ModelFiles;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Native;

/// <summary>
/// Every struct mirrored from llama.h and the system headers must have the layout the C compiler gives it.
/// The expected layouts come from the ABI probe that the native build compiles against the
/// pinned headers (native/ENGINE/abi.json); the actual ones are read from the CLR's layout of the
/// C# declarations, so a field added, removed, reordered or mistyped on either side fails here.
/// </summary>
public sealed class AbiLayoutTests
{
    public static TheoryData<string> MirroredStructs()
    {
        var data = new TheoryData<string>();
        foreach (var type in MirroredTypes())
        {
            data.Add(type.GetCustomAttribute<NativeStructAttribute>()!.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MirroredStructs))]
    public void Struct_layout_matches_the_pinned_header(string nativeName)
    {
        var type = MirroredTypes().Single(t => t.GetCustomAttribute<NativeStructAttribute>()!.Name == nativeName);
        var source = nativeName.StartsWith("whisper_", StringComparison.Ordinal) ? "whisper" : nativeName.StartsWith("llama_", StringComparison.Ordinal) ? "llama" : "system";
        var probe = (source == "system" ? SystemProbe.Value : Probe(source)).GetProperty("structs").GetProperty(nativeName);

        Assert.Equal(probe.GetProperty("size").GetInt32(), SizeOf(type));
        var expected = probe.GetProperty("fields").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        var actual = ManagedOffsets(type);
        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), actual.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("llama", GgmlTypes.LlamaTypeCount)]
    public void Ggml_type_table_matches_each_engines_ggml(string engine, int typeCount)
    {
        var types = Probe(engine).GetProperty("ggml_types").EnumerateArray().ToList();
        Assert.Equal(typeCount, types.Count);
        foreach (var t in types)
        {
            var ours = GgmlTypes.All[t.GetProperty("id").GetInt32()];
            Assert.Equal(t.GetProperty("block_size").GetInt32(), ours.BlockSize);
            Assert.Equal(t.GetProperty("type_size").GetInt32(), ours.TypeSize);
            if (ours.IsSupported)
            {
                Assert.Equal(t.GetProperty("name").GetString(), ours.Name);
            }
        }
    }

    [Fact]
    public void Every_struct_passed_to_native_code_is_covered()
    {
        // The mirrored structs of both headers, so a new one without [NativeStruct] is noticed.
        var names = MirroredTypes().Select(t => t.GetCustomAttribute<NativeStructAttribute>()!.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "llama_model_params", "llama_context_params", "llama_batch", "llama_chat_message", "mosquitto_message", "gpiod_line_event" }, names);
    }

    private static IEnumerable<Type> MirroredTypes() =>
        typeof(NativeLibraryResolver).Assembly.GetTypes().Where(t => t.GetCustomAttribute<NativeStructAttribute>() is not null);

    /// <summary>The system headers' probe (src/native/abi-probe-system.c), compiled here against the installed -dev headers.</summary>
    private static readonly Lazy<JsonElement> SystemProbe = new(() =>
    {
        var directory = Directory.CreateTempSubdirectory("voicehub-abi-").FullName;
        try
        {
            var native = Path.Combine(TestPaths.Root, "src", "native");
            var binary = Path.Combine(directory, "probe");
            Run("cc", $"-I{native} -o {binary} {Path.Combine(native, "abi-probe-system.c")}");
            return JsonDocument.Parse(Run(binary, string.Empty)).RootElement.Clone();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    });

    private static string Run(string file, string arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {arguments} failed: {error}");
        return output;
    }

    private static JsonElement Probe(string engine) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.NativeEngine(engine), "abi.json"))).RootElement;

    private static int SizeOf(Type type) =>
        (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;

    /// <summary>
    /// Offsets of every leaf field (nested structs flattened as "outer.inner") in the CLR's layout:
    /// the struct's bytes are filled with their own offsets (low byte, then high byte) and each
    /// field, read back through reflection, reveals where it starts.
    /// </summary>
    private static Dictionary<string, int> ManagedOffsets(Type type)
    {
        var size = SizeOf(type);
        var low = Filled(type, size, k => (byte)k);
        var high = Filled(type, size, k => (byte)(k >> 8));
        var offsets = new Dictionary<string, int>();
        Collect(type, low, high, prefix: string.Empty, offsets);
        return offsets;
    }

    private static void Collect(Type type, object low, object high, string prefix, Dictionary<string, int> offsets)
    {
        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            var name = prefix + field.Name;
            var fieldType = field.FieldType;
            if (fieldType.IsValueType && !fieldType.IsPrimitive && !fieldType.IsEnum && !fieldType.IsPointer && !fieldType.IsFunctionPointer)
            {
                Collect(fieldType, field.GetValue(low)!, field.GetValue(high)!, name + ".", offsets);
                continue;
            }

            offsets[name] = FirstByte(field.GetValue(low)) | (FirstByte(field.GetValue(high)) << 8);
        }
    }

    private static unsafe object Filled(Type type, int size, Func<int, byte> pattern)
    {
        var box = RuntimeHelpers.GetUninitializedObject(type);
        fixed (byte* data = &Unsafe.As<StrongBox<byte>>(box).Value)
        {
            for (var k = 0; k < size; k++)
            {
                data[k] = pattern(k);
            }
        }

        return box;
    }

    private static unsafe int FirstByte(object? value) => value switch
    {
        bool => Unsafe.As<StrongBox<byte>>(value).Value,
        Pointer pointer => (byte)(nuint)Pointer.Unbox(pointer),
        nint n => (byte)n,
        nuint n => (byte)n,
        Enum e => (byte)Convert.ToInt64(e, System.Globalization.CultureInfo.InvariantCulture),
        IConvertible c when value is float f => (byte)BitConverter.SingleToInt32Bits(f),
        IConvertible c when value is double d => (byte)BitConverter.DoubleToInt64Bits(d),
        IConvertible c => (byte)c.ToInt64(System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"cannot read a field of type {value?.GetType()}"),
    };
}

using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using VoiceHub.Core.Language;
using VoiceHub.Native;
using VoiceHub.Native.ModelFiles;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Native;

/// <summary>
/// Every struct mirrored from the system headers must have the layout the C compiler gives it. The
/// expected layouts come from an ABI probe compiled here against the installed -dev headers; the
/// actual ones are read from the CLR's layout of the C# declarations, so a field added, removed,
/// reordered or mistyped on either side fails here. The ggml type table our GGUF check uses is
/// compared with the ggml LLamaSharp loads.
/// </summary>
[Trait("needs", "broker")]
[Trait("needs", "native")]
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
        var probe = SystemProbe.Value.GetProperty("structs").GetProperty(nativeName);

        Assert.Equal(probe.GetProperty("size").GetInt32(), SizeOf(type));
        var expected = probe.GetProperty("fields").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        var actual = ManagedOffsets(type);
        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), actual.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Fact]
    public unsafe void The_ggml_type_table_matches_the_ggml_llamasharp_loads()
    {
        // GgufFile sizes tensors with our table before llama.cpp sees a file: it must agree with
        // the ggml LLamaSharp.Backend.Cpu actually loads, type by type.
        using var model = LanguageModel.Load(TestPaths.LlamaTestModel, new LanguageModelOptions { VocabularyOnly = true });
        var path = File.ReadAllLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]).First(p => Path.GetFileName(p) == "libggml-base.so");
        var ggml = NativeLibrary.Load(path);
        try
        {
            var blockSize = (delegate* unmanaged<int, long>)NativeLibrary.GetExport(ggml, "ggml_blck_size");
            var typeSize = (delegate* unmanaged<int, nuint>)NativeLibrary.GetExport(ggml, "ggml_type_size");
            var typeName = (delegate* unmanaged<int, byte*>)NativeLibrary.GetExport(ggml, "ggml_type_name");
            var checkedTypes = 0;
            foreach (var ours in GgmlTypes.All.Where(t => t.IsSupported && t.Id < GgmlTypes.LlamaTypeCount))
            {
                Assert.Equal(ours.Name, Marshal.PtrToStringUTF8((nint)typeName(ours.Id)));
                Assert.Equal(ours.BlockSize, blockSize(ours.Id));
                Assert.Equal(ours.TypeSize, (int)typeSize(ours.Id));
                checkedTypes++;
            }

            Assert.True(checkedTypes >= 20, $"only {checkedTypes} types compared");
        }
        finally
        {
            NativeLibrary.Free(ggml);
        }
    }

    [Fact]
    public void Every_struct_passed_to_native_code_is_covered()
    {
        // The mirrored structs of the system headers, so a new one without [NativeStruct] is noticed.
        var names = MirroredTypes().Select(t => t.GetCustomAttribute<NativeStructAttribute>()!.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "mosquitto_message", "pollfd" }, names);
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

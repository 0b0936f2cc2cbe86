using System.Buffers.Binary;
using System.Diagnostics;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Registry;
using VoiceHub.Native;
using VoiceHub.Native.Llama;
using VoiceHub.Native.ModelFiles;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.BadInput;

/// <summary>
/// Files a careless or hostile user can hand the appliance that once crashed or aborted it: each
/// is now one line naming the file and the problem (issue 17, failures 1 and 3 to 6).
/// </summary>
public sealed class MalformedFileTests
{
    [Fact]
    public async Task A_wav_read_through_a_fifo_is_decoded_like_the_file()
    {
        using var temp = new TempDirectory();
        var fifo = temp.File("audio.fifo");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var wav = await File.ReadAllBytesAsync(TestPaths.Fixture("demo.wav"));
        var writer = Task.Run(() => File.WriteAllBytes(fifo, wav));

        var samples = AudioFile.ReadMono16k(fifo);
        await writer;

        Assert.Equal(AudioFile.ReadMono16k(TestPaths.Fixture("demo.wav")), samples);
    }

    [Fact]
    public void A_wav_streamed_with_placeholder_sizes_through_a_pipe_reads_to_its_real_end()
    {
        var wav = File.ReadAllBytes(TestPaths.Fixture("demo.wav"));
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(4), uint.MaxValue); // as sox and arecord write to a pipe
        var data = wav.AsSpan().IndexOf("data"u8);
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(data + 4), uint.MaxValue);

        using var reader = WavReader.Open("stdin", new UnseekableStream(wav));

        Assert.Equal((wav.Length - data - 8) / 2, reader.FrameCount);
    }

    [Fact]
    public void A_directory_given_as_a_wav_says_it_is_a_directory()
    {
        using var temp = new TempDirectory();

        var error = Assert.Throws<AudioFormatException>(() => WavReader.Open(temp.Path));

        Assert.Equal($"{temp.Path}: is a directory, not a WAV file", error.Message);
    }

    public static TheoryData<string> UnclosedFlowLists => new()
    {
        "intents:\n  HassTurnOn:\n    data:\n      - sentences: [ \"turn on the test\",\n        slots: { domain: light }\n",
        "entities:\n  - id: light.a\n    aliases: [ \"lamp\",\n    name: A\n",
        "mqtt:\n  host: [ \"a\",\n  port: 1883\n",
    };

    [Theory]
    [MemberData(nameof(UnclosedFlowLists))]
    public void An_unclosed_yaml_flow_list_is_one_line_naming_the_file(string yaml)
    {
        using var temp = new TempDirectory();
        var path = temp.File("broken.yaml");
        File.WriteAllText(path, yaml);

        var errors = new Exception[]
        {
            Assert.Throws<ConfigurationFileException>(() => IntentSet.Load(path)),
            Assert.Throws<ConfigurationFileException>(() => DevicesFile.Load(path)),
            Assert.Throws<ConfigurationFileException>(() => YamlConfigurationProvider.Parse(path, yaml)),
        };

        Assert.All(errors, e =>
        {
            Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
        });
    }

    [Fact]
    public void A_key_with_a_newline_in_it_is_quoted_on_one_line()
    {
        // Found by AFL: a quoted key may span lines, and the error about it quoted it raw.
        var error = Assert.Throws<ConfigurationFileException>(() => DevicesFile.Parse("devices.yaml", "?  \u007f \" ?\n  \n C"));

        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("unknown section", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_yaml_file_that_is_not_utf8_names_the_file_and_line()
    {
        using var temp = new TempDirectory();
        var path = temp.File("latin1.yaml");
        File.WriteAllBytes(path, [.. "entities:\n  - { id: light.a, name: Caf"u8, 0xE9, .. " }\n"u8]);

        var error = Assert.Throws<ConfigurationFileException>(() => DevicesFile.Load(path));

        Assert.Equal($"{path}: line 2: not UTF-8 text; save the file as UTF-8", error.Message);
    }

    [Fact]
    public void A_yaml_file_larger_than_the_limit_is_refused_before_it_is_parsed()
    {
        using var temp = new TempDirectory();
        var path = temp.File("huge.yaml");
        using (var stream = File.Create(path))
        {
            stream.SetLength(YamlFile.MaxFileBytes + 1);
        }

        var error = Assert.Throws<ConfigurationFileException>(() => IntentSet.Load(path));

        Assert.Contains("larger than the 8 MiB a YAML file may have", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, object, string> AbortingGgufFields => new()
    {
        { "llama.block_count", 0u, "llama.block_count is 0" },
        { "llama.block_count", 1000u, "llama.block_count is 1000" },
        { "llama.block_count", 3u, "llama.block_count is 3, but the tensors are for 2 layers" },
        { "llama.attention.layer_norm_rms_epsilon", float.NaN, "llama.attention.layer_norm_rms_epsilon is NaN" },
        { "llama.attention.layer_norm_rms_epsilon", -1e-5f, "llama.attention.layer_norm_rms_epsilon is -9.99" },
        { "llama.attention.head_count", 0u, "llama.attention.head_count is 0" },
        { "llama.attention.head_count_kv", 3u, "head_count 4 is not a multiple of head_count_kv 3" },
        { "llama.embedding_length", 96u, "llama.embedding_length is 96, but token_embd.weight has rows of 64" },
        { "llama.rope.dimension_count", 1000u, "llama.rope.dimension_count is 1000" },
        { "llama.context_length", 0u, "llama.context_length is 0" },
    };

    [Theory]
    [MemberData(nameof(AbortingGgufFields))]
    public void A_gguf_field_llama_cpp_asserts_on_is_refused_before_native_code_sees_it(string key, object value, string problem)
    {
        using var temp = new TempDirectory();
        var path = GgufWriter.WriteLlama(temp.File("bad.gguf"), new LlamaShape(), metadata: m => m[m.FindIndex(kv => kv.Key == key)] = (key, value));

        var error = Assert.Throws<ModelFormatException>(() => LlamaModel.Load(path));

        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_writers_own_model_passes_the_checks_it_is_mutated_from()
    {
        using var temp = new TempDirectory();

        var file = GgufFile.Read(GgufWriter.WriteLlama(temp.File("good.gguf"), new LlamaShape()));

        Assert.Equal("llama", file.Architecture);
    }

    [Fact]
    public void A_corrupt_tensor_count_reserves_no_memory_the_file_cannot_back()
    {
        using var temp = new TempDirectory();
        var path = temp.File("many-tensors.gguf");
        var bytes = File.ReadAllBytes(TestPaths.LlamaTestModel);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), (ulong)(bytes.Length / 8)); // the largest count the header check lets through
        File.WriteAllBytes(path, bytes);

        var intact = Allocated(() => GgufFile.Read(TestPaths.LlamaTestModel));
        var corrupt = Allocated(() => Assert.Throws<ModelFormatException>(() => GgufFile.Read(path)));

        // Reading the intact file is the yardstick: the corrupt count may add a tensor table's worth, not a multiple of the file.
        Assert.True(corrupt < intact + (64 << 10), $"the intact file took {intact} bytes, the corrupt count {corrupt}");
    }

    [Theory]
    [InlineData(new[] { 5 }, 1, "n_text_ctx 1 (always 448)")]
    [InlineData(new[] { 4, 8 }, 64, "64/64 layers (1 to 32)")]
    [InlineData(new[] { 4, 8 }, 5, "has no tensors, and its hyper-parameters (384 state, 6 heads, 5/5 layers)")]
    [InlineData(new[] { 3 }, 0, "0/6 heads")] // found by AFL: the divisibility check divided by zero
    public void A_whisper_file_whose_header_whisper_cpp_would_crash_on_is_refused(int[] fields, int value, string problem)
    {
        using var temp = new TempDirectory();
        var path = temp.File("bad-whisper.bin");
        var bytes = File.ReadAllBytes(TestPaths.WhisperTestModel); // tiny.en's hyper-parameters, no tensors
        foreach (var field in fields)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 + (field * 4)), value);
        }

        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<ModelFormatException>(() => new VoiceHub.Core.Speech.WhisperEngine(path, new VoiceHub.Core.Speech.WhisperEngineOptions(), null, VoiceHub.Core.Intents.Registry.DeviceRegistry.Empty));

        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    private static long Allocated(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>A pipe: readable once, no length, no seeking.</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    }
}

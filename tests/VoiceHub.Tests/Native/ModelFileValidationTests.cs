using VoiceHub.Core.Language;
using VoiceHub.Native;
using VoiceHub.Native.ModelFiles;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Native;

/// <summary>
/// Malformed model files get a one-line error naming the file and the problem, and the process
/// lives on: ggml would abort the whole process on some of these, so they never reach it.
/// </summary>
[Trait("needs", "native")]
public sealed class ModelFileValidationTests
{
    [Fact]
    public void The_shipped_test_models_are_valid()
    {
        var gguf = GgufFile.Read(TestPaths.LlamaTestModel);
        var whisper = WhisperModelFile.Read(TestPaths.WhisperTestModel);

        Assert.Equal("llama", gguf.Architecture);
        Assert.Equal(12, gguf.Tensors.Count);
        Assert.Equal("f16", gguf.DominantTensorType.Name);
        Assert.Equal("tiny", whisper.HyperParameters.SizeName);
        Assert.True(whisper.IsPlaceholder);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(600)]
    [InlineData(400_000)]
    [InlineData(724_000)]
    [InlineData(1_700_000)]
    public void A_truncated_gguf_is_rejected_with_the_file_and_the_problem(int keptBytes)
    {
        using var temp = new TempDirectory();
        var path = temp.File("truncated.gguf");
        File.WriteAllBytes(path, File.ReadAllBytes(TestPaths.LlamaTestModel)[..keptBytes]);

        var error = Assert.Throws<ModelFormatException>(() => LanguageModel.Load(path));

        Assert.Equal(path, error.Path);
        Assert.StartsWith(path + ": truncated", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_file_with_the_wrong_magic_is_rejected_for_both_engines()
    {
        using var temp = new TempDirectory();
        var path = temp.File("not-a-model.bin");
        File.WriteAllText(path, "<html>404 Not Found</html> and some more bytes to pass the length check");

        Assert.Contains("wrong magic", Assert.Throws<ModelFormatException>(() => LanguageModel.Load(path)).Message, StringComparison.Ordinal);
        Assert.Contains("wrong magic", Assert.Throws<ModelFormatException>(() => new VoiceHub.Core.Speech.WhisperEngine(path, new VoiceHub.Core.Speech.WhisperEngineOptions(), null, VoiceHub.Core.Devices.DeviceRegistry.Empty)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gguf_given_as_a_whisper_model_says_what_it_is()
    {
        var error = Assert.Throws<ModelFormatException>(() => new VoiceHub.Core.Speech.WhisperEngine(TestPaths.LlamaTestModel, new VoiceHub.Core.Speech.WhisperEngineOptions(), null, VoiceHub.Core.Devices.DeviceRegistry.Empty));

        Assert.Contains("GGUF file, not a whisper.cpp ggml model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gguf_tensor_with_an_unknown_type_is_rejected()
    {
        using var temp = new TempDirectory();
        var path = temp.File("unknown-type.gguf");
        var bytes = File.ReadAllBytes(TestPaths.LlamaTestModel);
        var name = "output_norm.weight"u8.ToArray();
        var at = bytes.AsSpan().IndexOf(name) + name.Length + 4 + 8; // after name, n_dims and its one dimension
        BitConverter.GetBytes(77u).CopyTo(bytes, at);
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<ModelFormatException>(() => LanguageModel.Load(path));

        Assert.Contains("'output_norm.weight' has type id 77", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_whisper_model_whose_tensors_disagree_with_its_header_is_rejected()
    {
        using var temp = new TempDirectory();
        var path = temp.File("wrong-shape.bin");
        // The test model has no tensors: append one whose shape does not fit tiny.en.
        using (var stream = File.Create(path))
        {
            stream.Write(File.ReadAllBytes(TestPaths.WhisperTestModel));
            using var writer = new BinaryWriter(stream);
            var name = "encoder.ln_post.weight"u8.ToArray();
            writer.Write(1); // dimensions
            writer.Write(name.Length);
            writer.Write(0); // f32
            writer.Write(512); // expected 384
            writer.Write(name);
            writer.Write(new byte[512 * 4]);
        }

        var error = Assert.Throws<ModelFormatException>(() => new VoiceHub.Core.Speech.WhisperEngine(path, new VoiceHub.Core.Speech.WhisperEngineOptions(), null, VoiceHub.Core.Devices.DeviceRegistry.Empty));

        Assert.Contains("'encoder.ln_post.weight' has shape [512, 1, 1], the hyper-parameters need [384, 1, 1]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_whisper_model_with_an_unknown_ftype_is_rejected_instead_of_aborting()
    {
        using var temp = new TempDirectory();
        var path = temp.File("bad-ftype.bin");
        var bytes = File.ReadAllBytes(TestPaths.WhisperTestModel);
        BitConverter.GetBytes(5).CopyTo(bytes, 4 + (10 * 4)); // ftype 5 makes ggml_ftype_to_ggml_type assert
        File.WriteAllBytes(path, bytes);

        Assert.Contains("ftype 5", Assert.Throws<ModelFormatException>(() => new VoiceHub.Core.Speech.WhisperEngine(path, new VoiceHub.Core.Speech.WhisperEngineOptions(), null, VoiceHub.Core.Devices.DeviceRegistry.Empty)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_model_file_says_so()
    {
        var error = Assert.Throws<ModelFormatException>(() => LanguageModel.Load("/nonexistent/model.gguf"));

        Assert.Equal("/nonexistent/model.gguf: file not found", error.Message);
    }
}

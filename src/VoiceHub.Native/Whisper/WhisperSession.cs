using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using static VoiceHub.Native.Interop.Whisper;

namespace VoiceHub.Native.Whisper;

/// <summary>
/// One native <c>whisper_state</c> over a loaded model, with its own worker thread. Runs are
/// serialized (a state is not re-entrant), stream their segments as they are decoded, and stop
/// promptly on cancellation through whisper.cpp's abort callback. The state's buffers are reused
/// from one utterance to the next.
/// </summary>
public sealed class WhisperSession : IDisposable
{
    private readonly WhisperModel _model;
    private readonly WhisperStateHandle _state;
    private readonly NativeWorker _worker = new("whisper");
    private readonly int _endOfText;

    internal WhisperSession(WhisperModel model)
    {
        _model = model;
        _state = WhisperStateHandle.Create(model.Handle);
        _endOfText = whisper_token_eot(model.Handle);
    }

    /// <summary>Transcribes 16 kHz mono samples in [-1, 1], yielding segments as whisper.cpp finishes them.</summary>
    public async IAsyncEnumerable<WhisperSegment> TranscribeAsync(
        ReadOnlyMemory<float> samples,
        WhisperRunOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // One segment of look-ahead: the decoder waits for the consumer instead of running away from it.
        var segments = Channel.CreateBounded<WhisperSegment>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        var run = _worker.RunAsync(() => Run(samples, options, segments.Writer, stop.Token));
        try
        {
            await foreach (var segment in segments.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                yield return segment;
            }

            await run.ConfigureAwait(false);
        }
        finally
        {
            // The consumer may stop early: abort the native run and wait for it to end.
            await stop.CancelAsync().ConfigureAwait(false);
            await run.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    /// <summary>Transcribes and joins the segments' text.</summary>
    public async Task<WhisperTranscript> TranscribeToEndAsync(ReadOnlyMemory<float> samples, WhisperRunOptions options, CancellationToken cancellationToken = default)
    {
        var segments = new List<WhisperSegment>();
        await foreach (var segment in TranscribeAsync(samples, options, cancellationToken).ConfigureAwait(false))
        {
            segments.Add(segment);
        }

        return new WhisperTranscript(segments);
    }

    private unsafe void Run(ReadOnlyMemory<float> samples, WhisperRunOptions options, ChannelWriter<WhisperSegment> writer, CancellationToken token)
    {
        var run = new RunContext(_state, writer, _endOfText, token);
        var self = GCHandle.Alloc(run);
        try
        {
            using var language = new NativeUtf8(options.Language);
            using var prompt = new NativeUtf8(options.InitialPrompt);
            var p = whisper_full_default_params(options.BeamSize > 1 ? whisper_sampling_strategy.WHISPER_SAMPLING_BEAM_SEARCH : whisper_sampling_strategy.WHISPER_SAMPLING_GREEDY);
            p.n_threads = options.Threads;
            p.language = language.Pointer;
            p.detect_language = options.Language == "auto";
            p.initial_prompt = prompt.Pointer;
            p.no_context = true; // each utterance stands alone
            p.single_segment = options.SingleSegment;
            p.no_timestamps = !options.Timestamps;
            p.max_tokens = options.MaxTokens;
            p.print_progress = false;
            p.print_realtime = false;
            p.print_timestamps = false;
            p.print_special = false;
            p.no_speech_thold = options.NoSpeechThreshold;
            p.logprob_thold = options.LogProbabilityThreshold;
            p.temperature_inc = options.TemperatureIncrement;
            p.beam_search.beam_size = Math.Max(1, options.BeamSize);
            if (options.Grammar is { } grammar)
            {
                p.grammar_rules = grammar.Rules;
                p.n_grammar_rules = (nuint)grammar.RuleCount;
                p.i_start_rule = (nuint)grammar.StartRule;
                p.grammar_penalty = grammar.Penalty;
            }

            p.new_segment_callback = &OnNewSegment;
            p.new_segment_callback_user_data = GCHandle.ToIntPtr(self);
            p.abort_callback = &OnAbortQuery;
            p.abort_callback_user_data = GCHandle.ToIntPtr(self);

            token.ThrowIfCancellationRequested();
            int result;
            using (var pin = samples.Pin())
            {
                result = whisper_full_with_state(_model.Handle, _state, p, (float*)pin.Pointer, samples.Length);
            }

            token.ThrowIfCancellationRequested();
            if (result != 0)
            {
                throw new NativeEngineException("whisper", "whisper_full_with_state", result, "transcription failed");
            }

            writer.Complete(run.Failure);
        }
        catch (Exception e)
        {
            writer.TryComplete(e);
            throw;
        }
        finally
        {
            self.Free();
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe void OnNewSegment(nint context, nint state, int newSegments, nint user)
    {
        if (GCHandle.FromIntPtr(user).Target is RunContext run)
        {
            run.Publish(state, newSegments);
        }
    }

    [UnmanagedCallersOnly]
    private static byte OnAbortQuery(nint user) =>
        GCHandle.FromIntPtr(user).Target is RunContext run && run.Token.IsCancellationRequested ? (byte)1 : (byte)0;

    public void Dispose()
    {
        _worker.Dispose();
        _state.Dispose();
    }

    /// <summary>What the native callbacks of one run need; reached through a GCHandle.</summary>
    private sealed class RunContext(WhisperStateHandle state, ChannelWriter<WhisperSegment> writer, int endOfText, CancellationToken token)
    {
        private int _published;

        public CancellationToken Token => token;

        public Exception? Failure { get; private set; }

        public void Publish(nint statePointer, int newSegments)
        {
            try
            {
                var total = whisper_full_n_segments_from_state(statePointer);
                for (var i = Math.Max(_published, total - newSegments); i < total; i++)
                {
                    var segment = ReadSegment(statePointer, i, endOfText);
                    if (!writer.TryWrite(segment))
                    {
                        writer.WriteAsync(segment, token).AsTask().GetAwaiter().GetResult();
                    }
                }

                _published = total;
            }
#pragma warning disable CA1031 // Exceptions cannot unwind through whisper.cpp; the run reports it when it returns.
            catch (OperationCanceledException)
            {
                // the abort callback ends the run
            }
            catch (Exception e)
            {
                Failure ??= e;
            }
#pragma warning restore CA1031
            GC.KeepAlive(state);
        }

        private static unsafe WhisperSegment ReadSegment(nint s, int i, int endOfText)
        {
            var text = Marshal.PtrToStringUTF8((nint)whisper_full_get_segment_text_from_state(s, i)) ?? string.Empty;
            var tokenCount = whisper_full_n_tokens_from_state(s, i);
            double logProbabilitySum = 0;
            var counted = 0;
            var minimum = 1f;
            for (var t = 0; t < tokenCount; t++)
            {
                var data = whisper_full_get_token_data_from_state(s, i, t);
                // Special tokens (timestamps, start/end markers, languages) sit at and above end-of-text.
                if (data.id < endOfText && data.plog is > -1e9f and <= 0)
                {
                    logProbabilitySum += data.plog;
                    minimum = Math.Min(minimum, data.p);
                    counted++;
                }
            }

            return new WhisperSegment(
                TimeSpan.FromMilliseconds(whisper_full_get_segment_t0_from_state(s, i) * 10),
                TimeSpan.FromMilliseconds(whisper_full_get_segment_t1_from_state(s, i) * 10),
                text,
                whisper_full_get_segment_no_speech_prob_from_state(s, i),
                counted > 0 ? (float)(logProbabilitySum / counted) : float.NegativeInfinity,
                counted > 0 ? minimum : 0f);
        }
    }
}

/// <summary>All segments of one transcription.</summary>
public sealed record WhisperTranscript(IReadOnlyList<WhisperSegment> Segments)
{
    public string Text => string.Concat(Segments.Select(s => s.Text)).Trim();
}

using System.Runtime.InteropServices;

namespace VoiceHub.Native;

/// <summary>whisper.cpp 1.9.1 (<c>include/whisper.h</c>), built by src/native/build-engine.sh.</summary>
internal static partial class Interop
{
    internal static unsafe partial class Whisper
    {
        public const string Library = "whisper";

        public enum whisper_sampling_strategy
        {
            WHISPER_SAMPLING_GREEDY = 0,
            WHISPER_SAMPLING_BEAM_SEARCH = 1,
        }

        public enum whisper_alignment_heads_preset
        {
            WHISPER_AHEADS_NONE = 0,
        }

        public enum whisper_gretype : int
        {
            WHISPER_GRETYPE_END = 0,
            WHISPER_GRETYPE_ALT = 1,
            WHISPER_GRETYPE_RULE_REF = 2,
            WHISPER_GRETYPE_CHAR = 3,
            WHISPER_GRETYPE_CHAR_NOT = 4,
            WHISPER_GRETYPE_CHAR_RNG_UPPER = 5,
            WHISPER_GRETYPE_CHAR_ALT = 6,
        }

        [NativeStruct("whisper_ahead")]
        public struct whisper_ahead
        {
            public int n_text_layer;
            public int n_head;
        }

        [NativeStruct("whisper_aheads")]
        public struct whisper_aheads
        {
            public nuint n_heads;
            public whisper_ahead* heads;
        }

        [NativeStruct("whisper_context_params")]
        public struct whisper_context_params
        {
            public bool use_gpu;
            public bool flash_attn;
            public int gpu_device;
            public bool dtw_token_timestamps;
            public whisper_alignment_heads_preset dtw_aheads_preset;
            public int dtw_n_top;
            public whisper_aheads dtw_aheads;
            public nuint dtw_mem_size;
        }

        [NativeStruct("whisper_token_data")]
        public struct whisper_token_data
        {
            public int id;
            public int tid;
            public float p;
            public float plog;
            public float pt;
            public float ptsum;
            public long t0;
            public long t1;
            public long t_dtw;
            public float vlen;
        }

        [NativeStruct("whisper_grammar_element")]
        public struct whisper_grammar_element
        {
            public whisper_gretype type;
            public uint value;
        }

        [NativeStruct("whisper_vad_params")]
        public struct whisper_vad_params
        {
            public float threshold;
            public int min_speech_duration_ms;
            public int min_silence_duration_ms;
            public float max_speech_duration_s;
            public int speech_pad_ms;
            public float samples_overlap;
        }

        [NativeStruct("whisper_timings")]
        public struct whisper_timings
        {
            public float sample_ms;
            public float encode_ms;
            public float decode_ms;
            public float batchd_ms;
            public float prompt_ms;
        }

        public struct whisper_greedy_params
        {
            public int best_of;
        }

        public struct whisper_beam_search_params
        {
            public int beam_size;
            public float patience;
        }

        [NativeStruct("whisper_full_params")]
        public struct whisper_full_params
        {
            public whisper_sampling_strategy strategy;
            public int n_threads;
            public int n_max_text_ctx;
            public int offset_ms;
            public int duration_ms;
            public bool translate;
            public bool no_context;
            public bool no_timestamps;
            public bool single_segment;
            public bool print_special;
            public bool print_progress;
            public bool print_realtime;
            public bool print_timestamps;
            public bool token_timestamps;
            public float thold_pt;
            public float thold_ptsum;
            public int max_len;
            public bool split_on_word;
            public int max_tokens;
            public bool debug_mode;
            public int audio_ctx;
            public bool tdrz_enable;
            public byte* suppress_regex;
            public byte* initial_prompt;
            public bool carry_initial_prompt;
            public int* prompt_tokens;
            public int prompt_n_tokens;
            public byte* language;
            public bool detect_language;
            public bool suppress_blank;
            public bool suppress_nst;
            public float temperature;
            public float max_initial_ts;
            public float length_penalty;
            public float temperature_inc;
            public float entropy_thold;
            public float logprob_thold;
            public float no_speech_thold;
            public whisper_greedy_params greedy;
            public whisper_beam_search_params beam_search;
            public delegate* unmanaged<nint, nint, int, nint, void> new_segment_callback;
            public nint new_segment_callback_user_data;
            public delegate* unmanaged<nint, nint, int, nint, void> progress_callback;
            public nint progress_callback_user_data;
            public delegate* unmanaged<nint, nint, nint, byte> encoder_begin_callback;
            public nint encoder_begin_callback_user_data;
            public delegate* unmanaged<nint, byte> abort_callback;
            public nint abort_callback_user_data;
            public nint logits_filter_callback;
            public nint logits_filter_callback_user_data;
            public whisper_grammar_element** grammar_rules;
            public nuint n_grammar_rules;
            public nuint i_start_rule;
            public float grammar_penalty;
            public bool vad;
            public byte* vad_model_path;
            public whisper_vad_params vad_params;
        }

        [LibraryImport(Library)]
        public static partial byte* whisper_version();

        [LibraryImport(Library)]
        public static partial byte* whisper_print_system_info();

        [LibraryImport(Library)]
        public static partial whisper_context_params whisper_context_default_params();

        [LibraryImport(Library)]
        public static partial whisper_full_params whisper_full_default_params(whisper_sampling_strategy strategy);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial WhisperContextHandle whisper_init_from_file_with_params_no_state(string path_model, whisper_context_params @params);

        [LibraryImport(Library)]
        public static partial void whisper_free(nint ctx);

        [LibraryImport(Library)]
        public static partial nint whisper_init_state(WhisperContextHandle ctx);

        [LibraryImport(Library)]
        public static partial void whisper_free_state(nint state);

        [LibraryImport(Library)]
        public static partial int whisper_full_with_state(WhisperContextHandle ctx, WhisperStateHandle state, whisper_full_params @params, float* samples, int n_samples);

        [LibraryImport(Library)]
        public static partial int whisper_full_n_segments_from_state(nint state);

        [LibraryImport(Library)]
        public static partial long whisper_full_get_segment_t0_from_state(nint state, int i_segment);

        [LibraryImport(Library)]
        public static partial long whisper_full_get_segment_t1_from_state(nint state, int i_segment);

        [LibraryImport(Library)]
        public static partial byte* whisper_full_get_segment_text_from_state(nint state, int i_segment);

        [LibraryImport(Library)]
        public static partial float whisper_full_get_segment_no_speech_prob_from_state(nint state, int i_segment);

        [LibraryImport(Library)]
        public static partial int whisper_full_n_tokens_from_state(nint state, int i_segment);

        [LibraryImport(Library)]
        public static partial whisper_token_data whisper_full_get_token_data_from_state(nint state, int i_segment, int i_token);

        [LibraryImport(Library)]
        public static partial int whisper_full_lang_id_from_state(nint state);

        [LibraryImport(Library)]
        public static partial int whisper_token_eot(WhisperContextHandle ctx);

        [LibraryImport(Library)]
        public static partial byte* whisper_lang_str(int id);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int whisper_lang_id(string lang);

        [LibraryImport(Library)]
        public static partial int whisper_is_multilingual(WhisperContextHandle ctx);

        [LibraryImport(Library)]
        public static partial int whisper_model_n_vocab(WhisperContextHandle ctx);

        [LibraryImport(Library)]
        public static partial int whisper_model_n_mels(WhisperContextHandle ctx);

        [LibraryImport(Library)]
        public static partial int whisper_model_ftype(WhisperContextHandle ctx);

        [LibraryImport(Library)]
        public static partial byte* whisper_model_type_readable(WhisperContextHandle ctx);

        [LibraryImport(Library)]
        public static partial void whisper_log_set(delegate* unmanaged<int, byte*, nint, void> log_callback, nint user_data);
    }
}

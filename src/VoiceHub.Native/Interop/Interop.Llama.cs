using System.Runtime.InteropServices;

namespace VoiceHub.Native;

/// <summary>llama.cpp at the commit bundled in node-llama-cpp 3.22.1 (<c>include/llama.h</c>).</summary>
internal static partial class Interop
{
    internal static unsafe partial class Llama
    {
        public const string Library = "llama";

        public enum llama_split_mode { LLAMA_SPLIT_MODE_NONE = 0 }

        public enum llama_load_mode { LLAMA_LOAD_MODE_AUTO = -1, LLAMA_LOAD_MODE_NONE = 0, LLAMA_LOAD_MODE_MMAP = 1 }

        public enum llama_lazy_mode { LLAMA_LAZY_MODE_OFF = 0 }

        public enum llama_context_type { LLAMA_CONTEXT_TYPE_DEFAULT = 0 }

        public enum llama_rope_scaling_type { LLAMA_ROPE_SCALING_TYPE_UNSPECIFIED = -1 }

        public enum llama_pooling_type { LLAMA_POOLING_TYPE_UNSPECIFIED = -1 }

        public enum llama_attention_type { LLAMA_ATTENTION_TYPE_UNSPECIFIED = -1 }

        public enum llama_flash_attn_type { LLAMA_FLASH_ATTN_TYPE_AUTO = -1, LLAMA_FLASH_ATTN_TYPE_DISABLED = 0 }

        public enum ggml_type { GGML_TYPE_F16 = 1 }

        [NativeStruct("llama_model_params")]
        public struct llama_model_params
        {
            public nint devices;
            public nint tensor_buft_overrides;
            public int n_gpu_layers;
            public llama_split_mode split_mode;
            public llama_load_mode load_mode;
            public llama_lazy_mode lazy_mode;
            public int main_gpu;
            public float* tensor_split;
            public delegate* unmanaged<float, nint, byte> progress_callback;
            public nint progress_callback_user_data;
            public nint kv_overrides;
            public bool vocab_only;
            public bool check_tensors;
            public bool use_extra_bufts;
            public bool no_host;
            public bool no_alloc;
            public bool load_mtp;
        }

        [NativeStruct("llama_context_params")]
        public struct llama_context_params
        {
            public uint n_ctx;
            public uint n_batch;
            public uint n_ubatch;
            public uint n_seq_max;
            public uint n_rs_seq;
            public uint n_outputs_max;
            public uint n_outputs_max_per_seq;
            public int n_threads;
            public int n_threads_batch;
            public llama_context_type ctx_type;
            public llama_rope_scaling_type rope_scaling_type;
            public llama_pooling_type pooling_type;
            public llama_attention_type attention_type;
            public llama_flash_attn_type flash_attn_type;
            public float rope_freq_base;
            public float rope_freq_scale;
            public float yarn_ext_factor;
            public float yarn_attn_factor;
            public float yarn_beta_fast;
            public float yarn_beta_slow;
            public uint yarn_orig_ctx;
            public float defrag_thold;
            public nint cb_eval;
            public nint cb_eval_user_data;
            public ggml_type type_k;
            public ggml_type type_v;
            public delegate* unmanaged<nint, byte> abort_callback;
            public nint abort_callback_data;
            public bool embeddings;
            public bool offload_kqv;
            public bool no_perf;
            public bool op_offload;
            public bool swa_full;
            public bool kv_unified;
            public nint samplers;
            public nuint n_samplers;
            public nint ctx_other;
        }

        [NativeStruct("llama_batch")]
        public struct llama_batch
        {
            public int n_tokens;
            public int* token;
            public float* embd;
            public int* pos;
            public int* n_seq_id;
            public int** seq_id;
            public sbyte* logits;
        }

        [NativeStruct("llama_token_data")]
        public struct llama_token_data
        {
            public int id;
            public float logit;
            public float p;
        }

        [NativeStruct("llama_token_data_array")]
        public struct llama_token_data_array
        {
            public llama_token_data* data;
            public nuint size;
            public long selected;
            public bool sorted;
        }

        [NativeStruct("llama_sampler_chain_params")]
        public struct llama_sampler_chain_params
        {
            public bool no_perf;
        }

        [NativeStruct("llama_chat_message")]
        public struct llama_chat_message
        {
            public byte* role;
            public byte* content;
        }

        [NativeStruct("llama_perf_context_data")]
        public struct llama_perf_context_data
        {
            public double t_start_ms;
            public double t_load_ms;
            public double t_p_eval_ms;
            public double t_eval_ms;
            public int n_p_eval;
            public int n_eval;
            public int n_reused;
        }

        // Library and backend

        [LibraryImport(Library)]
        public static partial byte* llama_print_system_info();

        [LibraryImport(Library)]
        public static partial void llama_backend_init();

        [LibraryImport(Library)]
        public static partial void llama_log_set(delegate* unmanaged<int, byte*, nint, void> log_callback, nint user_data);

        [LibraryImport(Library)]
        public static partial llama_model_params llama_model_default_params();

        [LibraryImport(Library)]
        public static partial llama_context_params llama_context_default_params();

        [LibraryImport(Library)]
        public static partial llama_sampler_chain_params llama_sampler_chain_default_params();

        // Model

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial LlamaModelHandle llama_model_load_from_file(string path_model, llama_model_params @params);

        [LibraryImport(Library)]
        public static partial void llama_model_free(nint model);

        [LibraryImport(Library)]
        public static partial nint llama_model_get_vocab(LlamaModelHandle model);

        [LibraryImport(Library)]
        public static partial int llama_model_n_ctx_train(LlamaModelHandle model);

        [LibraryImport(Library)]
        public static partial int llama_model_n_embd(LlamaModelHandle model);

        [LibraryImport(Library)]
        public static partial int llama_model_n_layer(LlamaModelHandle model);

        [LibraryImport(Library)]
        public static partial ulong llama_model_size(LlamaModelHandle model);

        [LibraryImport(Library)]
        public static partial ulong llama_model_n_params(LlamaModelHandle model);

        [LibraryImport(Library)]
        public static partial int llama_model_ftype(LlamaModelHandle model);

        [LibraryImport(Library)]
        public static partial byte* llama_ftype_name(int ftype);

        [LibraryImport(Library)]
        public static partial int llama_model_desc(LlamaModelHandle model, byte* buf, nuint buf_size);

        [LibraryImport(Library)]
        public static partial byte* llama_model_chat_template(LlamaModelHandle model, byte* name);

        [LibraryImport(Library)]
        public static partial int llama_chat_apply_template(byte* tmpl, llama_chat_message* chat, nuint n_msg, [MarshalAs(UnmanagedType.U1)] bool add_ass, byte* buf, int length);

        // Vocabulary (owned by the model; callers hold the model handle while using it)

        [LibraryImport(Library)]
        public static partial int llama_vocab_n_tokens(nint vocab);

        [LibraryImport(Library)]
        [return: MarshalAs(UnmanagedType.U1)]
        public static partial bool llama_vocab_is_eog(nint vocab, int token);

        [LibraryImport(Library)]
        public static partial int llama_vocab_bos(nint vocab);

        [LibraryImport(Library)]
        public static partial int llama_vocab_eos(nint vocab);

        [LibraryImport(Library)]
        public static partial int llama_tokenize(nint vocab, byte* text, int text_len, int* tokens, int n_tokens_max, [MarshalAs(UnmanagedType.U1)] bool add_special, [MarshalAs(UnmanagedType.U1)] bool parse_special);

        [LibraryImport(Library)]
        public static partial int llama_token_to_piece(nint vocab, int token, byte* buf, int length, int lstrip, [MarshalAs(UnmanagedType.U1)] bool special);

        [LibraryImport(Library)]
        public static partial int llama_detokenize(nint vocab, int* tokens, int n_tokens, byte* text, int text_len_max, [MarshalAs(UnmanagedType.U1)] bool remove_special, [MarshalAs(UnmanagedType.U1)] bool unparse_special);

        // Context

        [LibraryImport(Library)]
        public static partial nint llama_init_from_model(LlamaModelHandle model, llama_context_params @params);

        [LibraryImport(Library)]
        public static partial void llama_free(nint ctx);

        [LibraryImport(Library)]
        public static partial uint llama_n_ctx(LlamaContextHandle ctx);

        [LibraryImport(Library)]
        public static partial uint llama_n_batch(LlamaContextHandle ctx);

        [LibraryImport(Library)]
        public static partial int llama_decode(LlamaContextHandle ctx, llama_batch batch);

        [LibraryImport(Library)]
        public static partial llama_batch llama_batch_init(int n_tokens, int embd, int n_seq_max);

        [LibraryImport(Library)]
        public static partial void llama_batch_free(llama_batch batch);

        [LibraryImport(Library)]
        public static partial float* llama_get_logits_ith(LlamaContextHandle ctx, int i);

        [LibraryImport(Library)]
        public static partial void llama_set_abort_callback(LlamaContextHandle ctx, delegate* unmanaged<nint, byte> abort_callback, nint abort_callback_data);

        [LibraryImport(Library)]
        public static partial void llama_set_n_threads(LlamaContextHandle ctx, int n_threads, int n_threads_batch);

        [LibraryImport(Library)]
        public static partial llama_perf_context_data llama_perf_context(LlamaContextHandle ctx);

        [LibraryImport(Library)]
        public static partial void llama_perf_context_reset(LlamaContextHandle ctx);

        // KV cache ("memory") sequence operations

        [LibraryImport(Library)]
        public static partial nint llama_get_memory(LlamaContextHandle ctx);

        [LibraryImport(Library)]
        public static partial void llama_memory_clear(nint mem, [MarshalAs(UnmanagedType.U1)] bool data);

        [LibraryImport(Library)]
        [return: MarshalAs(UnmanagedType.U1)]
        public static partial bool llama_memory_seq_rm(nint mem, int seq_id, int p0, int p1);

        [LibraryImport(Library)]
        public static partial void llama_memory_seq_cp(nint mem, int seq_id_src, int seq_id_dst, int p0, int p1);

        [LibraryImport(Library)]
        public static partial void llama_memory_seq_keep(nint mem, int seq_id);

        [LibraryImport(Library)]
        public static partial int llama_memory_seq_pos_min(nint mem, int seq_id);

        [LibraryImport(Library)]
        public static partial int llama_memory_seq_pos_max(nint mem, int seq_id);

        // Samplers

        [LibraryImport(Library)]
        public static partial nint llama_sampler_chain_init(llama_sampler_chain_params @params);

        [LibraryImport(Library)]
        public static partial void llama_sampler_chain_add(LlamaSamplerHandle chain, nint smpl);

        [LibraryImport(Library)]
        public static partial int llama_sampler_chain_n(LlamaSamplerHandle chain);

        [LibraryImport(Library)]
        public static partial void llama_sampler_free(nint smpl);

        [LibraryImport(Library)]
        public static partial int llama_sampler_sample(LlamaSamplerHandle smpl, LlamaContextHandle ctx, int idx);

        [LibraryImport(Library)]
        public static partial void llama_sampler_accept(LlamaSamplerHandle smpl, int token);

        [LibraryImport(Library)]
        public static partial void llama_sampler_reset(LlamaSamplerHandle smpl);

        [LibraryImport(Library)]
        public static partial nint llama_sampler_init_greedy();

        [LibraryImport(Library)]
        public static partial nint llama_sampler_init_dist(uint seed);

        [LibraryImport(Library)]
        public static partial nint llama_sampler_init_top_k(int k);

        [LibraryImport(Library)]
        public static partial nint llama_sampler_init_top_p(float p, nuint min_keep);

        [LibraryImport(Library)]
        public static partial nint llama_sampler_init_min_p(float p, nuint min_keep);

        [LibraryImport(Library)]
        public static partial nint llama_sampler_init_temp(float t);

        [LibraryImport(Library)]
        public static partial nint llama_sampler_init_grammar(nint vocab, byte* grammar_str, byte* grammar_root);
    }
}

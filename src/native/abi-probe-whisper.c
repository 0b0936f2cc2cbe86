#include "whisper.h"
#include "abi-probe.h"

int main(void) {
    PROBE_BEGIN();
    STRUCT(whisper_ahead) FIELD(whisper_ahead, n_text_layer) FIELD(whisper_ahead, n_head) END_STRUCT();
    STRUCT(whisper_aheads) FIELD(whisper_aheads, n_heads) FIELD(whisper_aheads, heads) END_STRUCT();
    STRUCT(whisper_context_params)
        FIELD(whisper_context_params, use_gpu) FIELD(whisper_context_params, flash_attn)
        FIELD(whisper_context_params, gpu_device) FIELD(whisper_context_params, dtw_token_timestamps)
        FIELD(whisper_context_params, dtw_aheads_preset) FIELD(whisper_context_params, dtw_n_top)
        FIELD(whisper_context_params, dtw_aheads.n_heads) FIELD(whisper_context_params, dtw_aheads.heads)
        FIELD(whisper_context_params, dtw_mem_size)
    END_STRUCT();
    STRUCT(whisper_token_data)
        FIELD(whisper_token_data, id) FIELD(whisper_token_data, tid) FIELD(whisper_token_data, p)
        FIELD(whisper_token_data, plog) FIELD(whisper_token_data, pt) FIELD(whisper_token_data, ptsum)
        FIELD(whisper_token_data, t0) FIELD(whisper_token_data, t1) FIELD(whisper_token_data, t_dtw)
        FIELD(whisper_token_data, vlen)
    END_STRUCT();
    STRUCT(whisper_grammar_element) FIELD(whisper_grammar_element, type) FIELD(whisper_grammar_element, value) END_STRUCT();
    STRUCT(whisper_vad_params)
        FIELD(whisper_vad_params, threshold) FIELD(whisper_vad_params, min_speech_duration_ms)
        FIELD(whisper_vad_params, min_silence_duration_ms) FIELD(whisper_vad_params, max_speech_duration_s)
        FIELD(whisper_vad_params, speech_pad_ms) FIELD(whisper_vad_params, samples_overlap)
    END_STRUCT();
    STRUCT(whisper_timings)
        FIELD(whisper_timings, sample_ms) FIELD(whisper_timings, encode_ms) FIELD(whisper_timings, decode_ms)
        FIELD(whisper_timings, batchd_ms) FIELD(whisper_timings, prompt_ms)
    END_STRUCT();
    STRUCT(whisper_full_params)
        FIELD(whisper_full_params, strategy) FIELD(whisper_full_params, n_threads)
        FIELD(whisper_full_params, n_max_text_ctx) FIELD(whisper_full_params, offset_ms)
        FIELD(whisper_full_params, duration_ms) FIELD(whisper_full_params, translate)
        FIELD(whisper_full_params, no_context) FIELD(whisper_full_params, no_timestamps)
        FIELD(whisper_full_params, single_segment) FIELD(whisper_full_params, print_special)
        FIELD(whisper_full_params, print_progress) FIELD(whisper_full_params, print_realtime)
        FIELD(whisper_full_params, print_timestamps) FIELD(whisper_full_params, token_timestamps)
        FIELD(whisper_full_params, thold_pt) FIELD(whisper_full_params, thold_ptsum)
        FIELD(whisper_full_params, max_len) FIELD(whisper_full_params, split_on_word)
        FIELD(whisper_full_params, max_tokens) FIELD(whisper_full_params, debug_mode)
        FIELD(whisper_full_params, audio_ctx) FIELD(whisper_full_params, tdrz_enable)
        FIELD(whisper_full_params, suppress_regex) FIELD(whisper_full_params, initial_prompt)
        FIELD(whisper_full_params, carry_initial_prompt) FIELD(whisper_full_params, prompt_tokens)
        FIELD(whisper_full_params, prompt_n_tokens) FIELD(whisper_full_params, language)
        FIELD(whisper_full_params, detect_language) FIELD(whisper_full_params, suppress_blank)
        FIELD(whisper_full_params, suppress_nst) FIELD(whisper_full_params, temperature)
        FIELD(whisper_full_params, max_initial_ts) FIELD(whisper_full_params, length_penalty)
        FIELD(whisper_full_params, temperature_inc) FIELD(whisper_full_params, entropy_thold)
        FIELD(whisper_full_params, logprob_thold) FIELD(whisper_full_params, no_speech_thold)
        FIELD(whisper_full_params, greedy.best_of)
        FIELD(whisper_full_params, beam_search.beam_size) FIELD(whisper_full_params, beam_search.patience)
        FIELD(whisper_full_params, new_segment_callback) FIELD(whisper_full_params, new_segment_callback_user_data)
        FIELD(whisper_full_params, progress_callback) FIELD(whisper_full_params, progress_callback_user_data)
        FIELD(whisper_full_params, encoder_begin_callback) FIELD(whisper_full_params, encoder_begin_callback_user_data)
        FIELD(whisper_full_params, abort_callback) FIELD(whisper_full_params, abort_callback_user_data)
        FIELD(whisper_full_params, logits_filter_callback) FIELD(whisper_full_params, logits_filter_callback_user_data)
        FIELD(whisper_full_params, grammar_rules) FIELD(whisper_full_params, n_grammar_rules)
        FIELD(whisper_full_params, i_start_rule) FIELD(whisper_full_params, grammar_penalty)
        FIELD(whisper_full_params, vad) FIELD(whisper_full_params, vad_model_path)
        FIELD(whisper_full_params, vad_params.threshold) FIELD(whisper_full_params, vad_params.min_speech_duration_ms)
        FIELD(whisper_full_params, vad_params.min_silence_duration_ms) FIELD(whisper_full_params, vad_params.max_speech_duration_s)
        FIELD(whisper_full_params, vad_params.speech_pad_ms) FIELD(whisper_full_params, vad_params.samples_overlap)
    END_STRUCT();
    probe_ggml_types();
    printf("}\n");
    return 0;
}

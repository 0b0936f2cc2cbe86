using System.Runtime.InteropServices;

namespace VoiceHub.Native;

/// <summary>
/// pocketsphinx 0.8+5prealpha and sphinxbase (Debian libpocketsphinx3, libsphinxbase3):
/// <c>pocketsphinx.h</c>, <c>ps_search.h</c>, <c>cmd_ln.h</c>, <c>logmath.h</c>, <c>ckd_alloc.h</c>.
/// </summary>
internal static partial class Interop
{
    internal static unsafe partial class Pocketsphinx
    {
        public const string Library = "pocketsphinx";

        [LibraryImport(Library)]
        public static partial nint ps_args();

        [LibraryImport(Library)]
        public static partial nint ps_init(nint config);

        [LibraryImport(Library)]
        public static partial int ps_free(nint ps);

        [LibraryImport(Library)]
        public static partial nint ps_get_logmath(PocketsphinxHandle ps);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int ps_add_word(PocketsphinxHandle ps, string word, string phones, int update);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial byte* ps_lookup_word(PocketsphinxHandle ps, string word);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int ps_set_jsgf_string(PocketsphinxHandle ps, string name, string jsgf_string);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int ps_set_fsg(PocketsphinxHandle ps, string name, nint fsg);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int ps_set_kws(PocketsphinxHandle ps, string name, string keyfile);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int ps_set_search(PocketsphinxHandle ps, string name);

        [LibraryImport(Library)]
        public static partial int ps_start_utt(PocketsphinxHandle ps);

        [LibraryImport(Library)]
        public static partial int ps_process_raw(PocketsphinxHandle ps, short* data, nuint n_samples, int no_search, int full_utt);

        [LibraryImport(Library)]
        public static partial int ps_end_utt(PocketsphinxHandle ps);

        [LibraryImport(Library)]
        public static partial byte* ps_get_hyp(PocketsphinxHandle ps, int* out_best_score);

        [LibraryImport(Library)]
        public static partial int ps_get_n_frames(PocketsphinxHandle ps);

        [LibraryImport(Library)]
        public static partial nint ps_seg_iter(PocketsphinxHandle ps);

        [LibraryImport(Library)]
        public static partial nint ps_seg_next(nint seg);

        [LibraryImport(Library)]
        public static partial byte* ps_seg_word(nint seg);

        [LibraryImport(Library)]
        public static partial void ps_seg_frames(nint seg, int* out_sf, int* out_ef);

        [LibraryImport(Library)]
        public static partial int ps_seg_prob(nint seg, int* out_ascr, int* out_lscr, int* out_lback);

        [LibraryImport(Library)]
        public static partial nint ps_nbest(PocketsphinxHandle ps);

        [LibraryImport(Library)]
        public static partial nint ps_nbest_next(nint nbest);

        [LibraryImport(Library)]
        public static partial byte* ps_nbest_hyp(nint nbest, int* out_score);

        [LibraryImport(Library)]
        public static partial void ps_nbest_free(nint nbest);
    }

    internal static unsafe partial class Sphinxbase
    {
        public const string Library = "sphinxbase";

        [LibraryImport(Library)]
        public static partial nint cmd_ln_parse_r(nint inout_cmdln, nint defn, int argc, byte** argv, int strict);

        [LibraryImport(Library)]
        public static partial int cmd_ln_free_r(nint cmdln);

        [LibraryImport(Library)]
        public static partial double logmath_exp(nint lmath, int logb_p);

        [LibraryImport(Library)]
        public static partial double logmath_log_to_ln(nint lmath, int logb_p);

        [LibraryImport(Library)]
        public static partial void ckd_free(void* ptr);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial nint fsg_model_readfile(string file, nint lmath, float lw);

        [LibraryImport(Library)]
        public static partial int fsg_model_free(nint fsg);

        [LibraryImport(Library)]
        public static partial void err_set_logfp(nint stream);
    }
}

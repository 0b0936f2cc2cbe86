/* Prints the layout of the structs VoiceHub mirrors in C#, and ggml's type table, as JSON.
   Compiled against the pinned headers by build-engine.sh; the ABI tests compare it with the
   C# declarations field by field. */
#include <stddef.h>
#include <stdio.h>

static int probe_first_struct = 1;
static int probe_first_field = 1;

#define PROBE_BEGIN() printf("{\"structs\":{")
#define STRUCT(T) \
    printf("%s\"%s\":{\"size\":%zu,\"fields\":{", probe_first_struct ? "" : ",", #T, sizeof(struct T)); \
    probe_first_struct = 0; probe_first_field = 1;
#define FIELD(T, f) \
    printf("%s\"%s\":%zu", probe_first_field ? "" : ",", #f, offsetof(struct T, f)); \
    probe_first_field = 0;
#define END_STRUCT() printf("}}")

#ifndef ABI_PROBE_SYSTEM
static void probe_ggml_types(void) {
    printf("},\"ggml_types\":[");
    for (int t = 0; t < GGML_TYPE_COUNT; t++) {
        printf("%s{\"id\":%d,\"name\":\"%s\",\"block_size\":%lld,\"type_size\":%zu}",
               t == 0 ? "" : ",", t, ggml_type_name((enum ggml_type) t),
               (long long) ggml_blck_size((enum ggml_type) t), ggml_type_size((enum ggml_type) t));
    }
    printf("]");
}
#endif

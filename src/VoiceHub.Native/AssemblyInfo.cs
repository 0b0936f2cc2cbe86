// Structs mirrored from C are passed as they are in memory (bool is one byte, as in C); every
// marshalling step is explicit in the [LibraryImport] declarations.
[assembly: System.Runtime.CompilerServices.DisableRuntimeMarshalling]

namespace VoiceHub.Native;

/// <summary>
/// Marks a struct mirrored from a C header; the ABI tests compare its layout, field by field,
/// with what the ABI probe compiled against the pinned header reports for <see cref="Name"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Struct)]
internal sealed class NativeStructAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

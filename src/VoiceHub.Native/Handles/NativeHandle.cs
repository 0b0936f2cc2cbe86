using System.Runtime.InteropServices;

namespace VoiceHub.Native;

/// <summary>
/// Base of every handle to a native object. A child handle (a whisper state, a llama context)
/// holds a reference on its parent, so the parent's native object outlives all of its children
/// whatever order the managed objects are disposed or finalized in.
/// </summary>
public abstract class NativeHandle : SafeHandle
{
    private SafeHandle? _parent;

    private protected NativeHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>Makes this handle keep <paramref name="parent"/> alive until it is released itself.</summary>
    private protected void SetParent(SafeHandle parent)
    {
        var added = false;
        parent.DangerousAddRef(ref added);
        _parent = parent;
    }

    private protected void Initialize(nint pointer) => SetHandle(pointer);

    protected sealed override bool ReleaseHandle()
    {
        Free(handle);
        _parent?.DangerousRelease();
        _parent = null;
        return true;
    }

    /// <summary>Frees the native object; gets the raw pointer so that it never throws ObjectDisposedException.</summary>
    private protected abstract void Free(nint pointer);
}

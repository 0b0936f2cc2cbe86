namespace VoiceHub.Native;

/// <summary>A <c>struct mosquitto</c>: one MQTT client.</summary>
public sealed class MosquittoHandle : NativeHandle
{
    internal static MosquittoHandle Create(string clientId, bool cleanSession, nint user)
    {
        var pointer = Interop.Mosquitto.mosquitto_new(clientId, cleanSession, user);
        if (pointer == 0)
        {
            throw new NativeEngineException("mosquitto", "mosquitto_new", -1, "could not create an MQTT client (out of memory, or an invalid client id)");
        }

        var handle = new MosquittoHandle();
        handle.Initialize(pointer);
        return handle;
    }

    private protected override void Free(nint pointer) => Interop.Mosquitto.mosquitto_destroy(pointer);
}

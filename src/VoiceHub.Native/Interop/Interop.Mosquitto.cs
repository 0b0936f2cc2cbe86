using System.Runtime.InteropServices;

namespace VoiceHub.Native;

/// <summary>libmosquitto 2.0 (Debian libmosquitto1), <c>mosquitto.h</c>.</summary>
internal static partial class Interop
{
    internal static unsafe partial class Mosquitto
    {
        public const string Library = "mosquitto";
        public const int MOSQ_ERR_SUCCESS = 0;
        public const int MOSQ_ERR_NO_CONN = 4;
        public const int MOSQ_OPT_PROTOCOL_VERSION = 1;

        /// <summary><c>struct mosquitto_message</c>: read only inside the message callback.</summary>
        [NativeStruct("mosquitto_message")]
        public struct mosquitto_message
        {
            public int mid;
            public byte* topic;
            public byte* payload;
            public int payloadlen;
            public int qos;
            public bool retain;
        }

        [LibraryImport(Library)]
        public static partial int mosquitto_lib_init();

        [LibraryImport(Library)]
        public static partial int mosquitto_lib_version(int* major, int* minor, int* revision);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial nint mosquitto_new(string id, [MarshalAs(UnmanagedType.U1)] bool clean_session, nint obj);

        [LibraryImport(Library)]
        public static partial void mosquitto_destroy(nint mosq);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int mosquitto_username_pw_set(MosquittoHandle mosq, string? username, string? password);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int mosquitto_tls_set(MosquittoHandle mosq, string? cafile, string? capath, string? certfile, string? keyfile, nint pw_callback);

        [LibraryImport(Library)]
        public static partial int mosquitto_int_option(MosquittoHandle mosq, int option, int value);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int mosquitto_will_set(MosquittoHandle mosq, string topic, int payloadlen, byte* payload, int qos, [MarshalAs(UnmanagedType.U1)] bool retain);

        public const int MQTT_PROP_SESSION_EXPIRY_INTERVAL = 17;

        /// <summary>A blocking TCP connect that sends CONNECT with MQTT 5 properties; the loop thread reads the CONNACK.</summary>
        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int mosquitto_connect_bind_v5(MosquittoHandle mosq, string host, int port, int keepalive, string? bind_address, nint properties);

        /// <summary>Adds to a property list (<paramref name="proplist"/> points at the list head, null at first).</summary>
        [LibraryImport(Library)]
        public static partial int mosquitto_property_add_int32(nint* proplist, int identifier, uint value);

        [LibraryImport(Library)]
        public static partial void mosquitto_property_free_all(nint* properties);

        [LibraryImport(Library)]
        public static partial int mosquitto_disconnect(MosquittoHandle mosq);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int mosquitto_publish(MosquittoHandle mosq, int* mid, string topic, int payloadlen, byte* payload, int qos, [MarshalAs(UnmanagedType.U1)] bool retain);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int mosquitto_subscribe(MosquittoHandle mosq, int* mid, string sub, int qos);

        [LibraryImport(Library)]
        public static partial void mosquitto_connect_callback_set(MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, void> on_connect);

        [LibraryImport(Library)]
        public static partial void mosquitto_disconnect_callback_set(MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, void> on_disconnect);

        [LibraryImport(Library)]
        public static partial void mosquitto_publish_callback_set(MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, void> on_publish);

        [LibraryImport(Library)]
        public static partial void mosquitto_message_callback_set(MosquittoHandle mosq, delegate* unmanaged<nint, nint, mosquitto_message*, void> on_message);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int mosquitto_connect(MosquittoHandle mosq, string host, int port, int keepalive);

        /// <summary>Says that a thread of the caller drives the network (packets are then only queued by other calls).</summary>
        [LibraryImport(Library)]
        public static partial int mosquitto_threaded_set(MosquittoHandle mosq, [MarshalAs(UnmanagedType.U1)] bool threaded);

        [LibraryImport(Library)]
        public static partial int mosquitto_socket(MosquittoHandle mosq);

        [LibraryImport(Library)]
        public static partial int mosquitto_loop_read(MosquittoHandle mosq, int max_packets);

        [LibraryImport(Library)]
        public static partial int mosquitto_loop_write(MosquittoHandle mosq, int max_packets);

        [LibraryImport(Library)]
        public static partial int mosquitto_loop_misc(MosquittoHandle mosq);

        [LibraryImport(Library)]
        [return: MarshalAs(UnmanagedType.U1)]
        public static partial bool mosquitto_want_write(MosquittoHandle mosq);

        [LibraryImport(Library)]
        public static partial byte* mosquitto_reason_string(int reason_code);

        [LibraryImport(Library)]
        public static partial byte* mosquitto_strerror(int mosq_errno);

        [LibraryImport(Library)]
        public static partial byte* mosquitto_connack_string(int connack_code);
    }
}
